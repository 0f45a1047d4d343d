/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host/qemu_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "base/log.h"
#include "base/loop_watch.h"
#include "base/worker.h"
#include "json_records.h"
#include "json_util.h"
#include "macro.h"
#include "parse_util.h"
#include "process/child_watch.h"
#include "process/process_spawn.h"
#include "strv.h"

/* `qemu --version` answers in tens of milliseconds; anything beyond this is stuck. */
#define PROBE_TIMEOUT_USEC (5 * USEC_PER_SEC)
#define PROBE_OUTPUT_MAX 4096
#define DEFAULT_SEARCH_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* The answer kept for the next daemon: CACHE_DIR/qemu.json. */
#define DISK_RECORD "qemu"
#define DISK_RECORD_MAX 4096

typedef struct Waiter {
	QemuProbeCallback callback;
	void *userdata;
} Waiter;

struct QemuProbe {
	sd_event *event;
	char *binary_setting;
	char *cache_dir; /* NULL: nothing kept on disk */

	/* The cached answer and the file it describes. */
	char *binary;
	char *version;
	char *problem;
	struct stat stat;
	bool valid;

	WorkerJob *save; /* the answer being written for the next daemon */
	bool save_again; /* a newer answer came while it was written */

	/* The --version run in progress. */
	pid_t pid;
	int pidfd;
	SpawnHold hold; /* let go at once: its report tells a failed exec */
	int output_fd;
	sd_event_source *child;
	sd_event_source *timeout;
	Waiter *waiters;
	size_t n_waiters;
};

char *qemu_version_from_output(const char *output)
{
	static const char marker[] = "QEMU emulator version ";
	const char *p = strstr(output, marker);
	if (!p)
		return NULL;
	p += strlen(marker);
	size_t n = strspn(p, "0123456789.");
	if (n == 0 || n > 32 || p[0] == '.')
		return NULL;
	return strndup(p, n);
}

/* `path` opened O_PATH when it is a program: a regular file with an execute bit. */
static int open_program(const char *path, struct stat *ret_st)
{
	_cleanup_close_ int fd = open(path, O_PATH | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return negative_errno();
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		return -EACCES;
	if (ret_st)
		*ret_st = st;
	return TAKE_FD(fd);
}

int qemu_open_in_path(const char *name, const char *search_path, char **ret_path,
		      struct stat *ret_st)
{
	if (name[0] == '/') {
		char *copy = strdup(name);
		if (!copy)
			return -ENOMEM;
		int fd = open_program(name, ret_st);
		if (fd < 0)
			free(copy);
		else
			*ret_path = copy;
		return fd;
	}
	for (const char *dir = search_path; dir && *dir;) {
		size_t n = strcspn(dir, ":");
		_cleanup_free_ char *candidate = NULL;
		if (n > 0 && asprintf(&candidate, "%.*s/%s", (int)n, dir, name) >= 0) {
			int fd = open_program(candidate, ret_st);
			if (fd >= 0) {
				*ret_path = TAKE_PTR(candidate);
				return fd;
			}
		}
		dir += n;
		if (*dir == ':')
			dir++;
	}
	return -ENOENT;
}

char *qemu_find_in_path(const char *name, const char *search_path)
{
	char *path = NULL;
	int fd = qemu_open_in_path(name, search_path, &path, NULL);
	if (fd < 0)
		return NULL;
	close(fd);
	return path;
}

static void set_answer(QemuProbe *probe, char *binary, char *version, const char *problem)
{
	free(probe->binary);
	free(probe->version);
	free(probe->problem);
	probe->binary = binary;
	probe->version = version;
	probe->problem = problem ? strdup(problem) : NULL;
}

static void call_waiters(QemuProbe *probe)
{
	QemuInfo info = { probe->binary, probe->version, probe->problem };
	Waiter *waiters = TAKE_PTR(probe->waiters);
	size_t n = probe->n_waiters;

	probe->n_waiters = 0;
	for (size_t i = 0; i < n; i++)
		waiters[i].callback(&info, waiters[i].userdata);
	free(waiters);
}

static void finish_run(QemuProbe *probe)
{
	probe->child = sd_event_source_disable_unref(probe->child);
	probe->pidfd = safe_close(probe->pidfd);
	probe->timeout = sd_event_source_disable_unref(probe->timeout);
	probe->output_fd = safe_close(probe->output_fd);
	spawn_hold_done(&probe->hold);
	probe->pid = 0;
	call_waiters(probe);
}

/* The same file as when it was probed: a package upgrade or an edit changes one of these. */
static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* What a previous daemon learnt, as read back from its record. */
typedef struct DiskAnswer {
	char *binary, *version;
	struct stat stat;
} DiskAnswer;

static void disk_answer_done(void *element)
{
	DiskAnswer *answer = element;
	free(answer->binary);
	free(answer->version);
}

static int parse_disk_answer(json_object *object, const char *name, void *element, char *problem,
			     size_t problem_size)
{
	DiskAnswer *answer = element;
	const char *binary = json_get_string(object, "binary");
	const char *version = json_get_string(object, "version");
	int64_t fields[8];
	static const char *const keys[] = { "dev",       "ino",      "size",      "mtimeSec",
					    "mtimeNsec", "ctimeSec", "ctimeNsec", NULL };

	if (strcmp(name, DISK_RECORD) != 0) {
		snprintf(problem, problem_size, "is not the QEMU probe's record");
		return 0;
	}
	for (size_t i = 0; keys[i]; i++) {
		json_object *value;
		if (!json_object_object_get_ex(object, keys[i], &value) ||
		    !json_object_is_type(value, json_type_int) ||
		    (fields[i] = json_object_get_int64(value)) < 0) {
			snprintf(problem, problem_size, "is damaged: bad %s", keys[i]);
			return 0;
		}
	}
	/* A version is digits and dots, as qemu_version_from_output() takes them. */
	size_t length = version ? strlen(version) : 0;
	if (!binary || binary[0] != '/' || length == 0 || length > 32 || version[0] == '.' ||
	    strspn(version, "0123456789.") != length) {
		snprintf(problem, problem_size, "is damaged: bad binary or version");
		return 0;
	}
	*answer = (DiskAnswer){ .binary = strdup(binary), .version = strdup(version) };
	if (!answer->binary || !answer->version) {
		disk_answer_done(answer);
		return -ENOMEM;
	}
	answer->stat.st_dev = (dev_t)fields[0];
	answer->stat.st_ino = (ino_t)fields[1];
	answer->stat.st_size = (off_t)fields[2];
	answer->stat.st_mtim = (struct timespec){ fields[3], fields[4] };
	answer->stat.st_ctim = (struct timespec){ fields[5], fields[6] };
	return 1;
}

/*
 * Takes a previous daemon's answer when it describes this very file (`st`):
 * true when known now, without running anything. A missing or damaged record
 * only means running --version.
 */
static bool take_disk_answer(QemuProbe *probe, const char *path, const struct stat *st)
{
	DiskAnswer *answers = NULL;
	size_t n = 0;
	char **problems = NULL;
	bool taken = false;

	if (!probe->cache_dir)
		return false;
	if (json_record_load_all(probe->cache_dir, 4, DISK_RECORD_MAX, sizeof(DiskAnswer),
				 parse_disk_answer, disk_answer_done, (void **)&answers, &n,
				 &problems) >= 0) {
		for (size_t i = 0; i < n; i++) {
			if (!taken && strcmp(answers[i].binary, path) == 0 &&
			    same_file(&answers[i].stat, st)) {
				set_answer(probe, strdup(path), TAKE_PTR(answers[i].version), NULL);
				taken = probe->binary != NULL;
			}
			disk_answer_done(&answers[i]);
		}
		free(answers);
	}
	if (problems)
		log_debug("The QEMU probe's record in %s is not used: %s", probe->cache_dir,
			  problems[0]);
	strv_free(problems);
	if (taken) {
		probe->stat = *st;
		probe->valid = true;
		log_debug("QEMU %s is version %s (as found before)", probe->binary, probe->version);
	}
	return taken;
}

typedef struct DiskSave {
	char *directory;
	json_object *record;
} DiskSave;

static int disk_save(void *data)
{
	DiskSave *save = data;
	return json_record_save(save->directory, DISK_RECORD, save->record);
}

static void disk_save_free(void *data)
{
	DiskSave *save = data;
	free(save->directory);
	json_object_put(save->record);
	free(save);
}

static void save_disk_answer(QemuProbe *probe);

static void on_disk_saved(int result, void *userdata)
{
	QemuProbe *probe = userdata;
	probe->save = NULL;
	if (result < 0)
		log_debug("Cannot keep the QEMU probe's answer in %s: %s", probe->cache_dir,
			  strerror(-result));
	if (probe->save_again)
		save_disk_answer(probe);
}

/* The record of the answer now; NULL when out of memory. */
static json_object *disk_record(const QemuProbe *probe)
{
	const struct stat *st = &probe->stat;
	_cleanup_json_ json_object *record = json_object_new_object();

	if (record && json_add_string(record, "binary", probe->binary) >= 0 &&
	    json_add_string(record, "version", probe->version) >= 0 &&
	    json_add_int(record, "dev", (int64_t)st->st_dev) >= 0 &&
	    json_add_int(record, "ino", (int64_t)st->st_ino) >= 0 &&
	    json_add_int(record, "size", st->st_size) >= 0 &&
	    json_add_int(record, "mtimeSec", st->st_mtim.tv_sec) >= 0 &&
	    json_add_int(record, "mtimeNsec", st->st_mtim.tv_nsec) >= 0 &&
	    json_add_int(record, "ctimeSec", st->st_ctim.tv_sec) >= 0 &&
	    json_add_int(record, "ctimeNsec", st->st_ctim.tv_nsec) >= 0)
		return TAKE_PTR(record);
	return NULL;
}

/*
 * Keeps the answer for the next daemon (a failure only costs it one
 * --version), written on a worker: the state directory is on a disk, which
 * may be busy. One write at a time; a newer answer follows the one in flight.
 */
static void save_disk_answer(QemuProbe *probe)
{
	if (!probe->cache_dir || !probe->version)
		return;
	if (probe->save) {
		probe->save_again = true;
		return;
	}
	probe->save_again = false;
	_cleanup_json_ json_object *record = disk_record(probe);
	DiskSave *save = NULL;
	int r = -ENOMEM;

	if (record && (save = calloc(1, sizeof(*save))) &&
	    (save->directory = strdup(probe->cache_dir))) {
		save->record = TAKE_PTR(record);
		r = worker_start(probe->event, "QEMU probe, answer kept", disk_save, TAKE_PTR(save),
				 disk_save_free, on_disk_saved, probe, &probe->save);
	}
	free(save);
	if (r < 0)
		on_disk_saved(r, probe);
}

static void on_child_exit(const ChildExit *exit, void *userdata)
{
	QemuProbe *probe = userdata;
	char output[PROBE_OUTPUT_MAX + 1];
	ssize_t n = read(probe->output_fd, output, PROBE_OUTPUT_MAX);
	output[n > 0 ? n : 0] = '\0';

	/* Gone, so its report pipe is closed: it says at once whether it exec'd. */
	const char *stage;
	int exec_result = process_exec_result(&probe->hold, &stage);
	char *version = NULL;
	if (exit->code == CLD_EXITED && exit->status == 0)
		version = qemu_version_from_output(output);
	if (exec_result < 0) {
		char problem[256];
		snprintf(problem, sizeof(problem), "it cannot be run (%s failed: %s)", stage,
			 strerror(-exec_result));
		log_warning("%s: %s", probe->binary, problem);
		set_answer(probe, TAKE_PTR(probe->binary), NULL, problem);
	} else if (version) {
		set_answer(probe, TAKE_PTR(probe->binary), version, NULL);
		log_debug("QEMU %s is version %s", probe->binary, version);
		save_disk_answer(probe);
	} else {
		log_warning("%s --version gave no version (%s %d)", probe->binary,
			    exit->code == CLD_EXITED ? "exit status" : "signal", exit->status);
		set_answer(probe, TAKE_PTR(probe->binary), NULL,
			   "it did not report a version when run with --version");
	}
	probe->valid = true;
	finish_run(probe);
}

/* Killed with what it started (the spawn made it a session leader), reaped off the loop. */
static void kill_run(QemuProbe *probe)
{
	(void)pidfd_send_signal(probe->pidfd, SIGKILL, NULL, 0);
	(void)kill(-probe->pid, SIGKILL);
	child_reap_later(probe->pidfd);
}

static int on_timeout(sd_event_source *source, uint64_t usec, void *userdata)
{
	loop_watch_enter(source);
	QemuProbe *probe = userdata;

	log_warning("%s --version did not answer within 5s; killing it", probe->binary);
	kill_run(probe);
	set_answer(probe, TAKE_PTR(probe->binary), NULL, "it hung when run with --version");
	/* Not cached: the next request tries again. */
	probe->valid = false;
	finish_run(probe);
	return 0;
}

/*
 * Runs `--version` of probe->binary, by its path: a wrapper script (a
 * qemu-binary many set) cannot be run from a close-on-exec descriptor, the
 * kernel's interpreter opens it by name.
 */
static int start_run(QemuProbe *probe)
{
	int pipe_fds[2];
	const char *stage;
	char *argv[] = { probe->binary, (char *)"--version", NULL };
	char *envp[] = { (char *)"LC_ALL=C", NULL };

	if (pipe2(pipe_fds, O_CLOEXEC) < 0)
		return negative_errno();
	/*
	 * Read when it has ended, without waiting: what it started (a wrapper's
	 * background job) may hold the pipe open, and the loop must not wait on it.
	 */
	if (fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK) < 0) {
		int r = negative_errno();
		safe_close(pipe_fds[0]);
		safe_close(pipe_fds[1]);
		return r;
	}
	SpawnRequest request = {
		.argv = argv, .envp = envp, .stdout_fd = pipe_fds[1], .stderr_fd = -1
	};
	/* Not waited for: its exec (or failure) is read when it has ended. */
	int r = process_spawn_held(&request, &probe->pid, &probe->pidfd, &probe->hold, &stage);
	safe_close(pipe_fds[1]);
	if (r < 0) {
		safe_close(pipe_fds[0]);
		probe->pid = 0;
		return r;
	}
	process_let_go(&probe->hold);
	probe->output_fd = pipe_fds[0];

	r = child_watch(probe->event, &probe->child, probe->pidfd, true, "qemu --version",
			on_child_exit, probe);
	if (r >= 0)
		r = sd_event_add_time_relative(probe->event, &probe->timeout, CLOCK_MONOTONIC,
					       PROBE_TIMEOUT_USEC, 0, on_timeout, probe);
	if (r < 0) {
		kill_run(probe);
		finish_run(probe);
		return r;
	}
	(void)sd_event_source_set_description(probe->timeout, "qemu --version, timeout");
	return 0;
}

/* The cache is valid while the same file (`st`) sits at the same path. */
static bool cache_is_fresh(QemuProbe *probe, const char *path, const struct stat *st)
{
	if (!probe->valid)
		return false;
	if (!path || !probe->binary)
		return !path && !probe->binary; /* still not found */
	return strcmp(path, probe->binary) == 0 && same_file(st, &probe->stat);
}

/*
 * Brings the answer up to date: 1 when it is known now, 0 when a run of
 * --version is under way (started now or before) and will tell the waiters.
 * The binary is opened once, without a second lookup of its path: its
 * identity (the cache's key) is the descriptor's fstat.
 */
static int refresh(QemuProbe *probe)
{
	if (probe->pid > 0)
		return 0; /* a run is under way: it will answer */

	const char *search = getenv("PATH");
	_cleanup_free_ char *path = NULL;
	struct stat st = { 0 };
	_cleanup_close_ int fd = qemu_open_in_path(
		probe->binary_setting, search ? search : DEFAULT_SEARCH_PATH, &path, &st);
	if (cache_is_fresh(probe, fd >= 0 ? path : NULL, &st))
		return 1;

	if (fd < 0) {
		char problem[512];
		snprintf(problem, sizeof(problem),
			 "%s was not found%s; install it (apt install qemu-system-x86) or set "
			 "qemu-binary in libvfiod.yaml",
			 probe->binary_setting, probe->binary_setting[0] == '/' ? "" : " in PATH");
		set_answer(probe, NULL, NULL, problem);
		probe->valid = true;
		return 1;
	}
	if (take_disk_answer(probe, path, &st))
		return 1;
	probe->stat = st;
	set_answer(probe, TAKE_PTR(path), NULL, NULL);
	int r = start_run(probe);
	if (r < 0) {
		log_warning_errno(r, "Cannot run %s --version", probe->binary);
		set_answer(probe, TAKE_PTR(probe->binary), NULL, "it could not be run");
		probe->valid = false;
		return 1;
	}
	return 0;
}

void qemu_probe_start(QemuProbe *probe)
{
	if (refresh(probe) > 0)
		call_waiters(probe); /* nobody waits at start; after a reload, maybe someone */
}

int qemu_probe_get(QemuProbe *probe, QemuProbeCallback callback, void *userdata)
{
	Waiter *waiters = reallocarray(probe->waiters, probe->n_waiters + 1, sizeof(Waiter));
	if (!waiters)
		return -ENOMEM;
	probe->waiters = waiters;
	waiters[probe->n_waiters++] = (Waiter){ callback, userdata };

	if (refresh(probe) > 0)
		call_waiters(probe);
	return 0;
}

int qemu_probe_set_binary(QemuProbe *probe, const char *binary)
{
	/* The same setting (a reload that did not touch it): the cache's file identity decides. */
	if (probe->binary_setting && strcmp(probe->binary_setting, binary) == 0)
		return 0;
	char *copy = strdup(binary);
	if (!copy)
		return -ENOMEM;
	free(probe->binary_setting);
	probe->binary_setting = copy;
	probe->valid = false;
	return 0;
}

int qemu_probe_new(sd_event *event, const char *binary, const char *cache_dir, QemuProbe **ret)
{
	QemuProbe *probe = calloc(1, sizeof(*probe));
	if (!probe)
		return -ENOMEM;
	probe->event = sd_event_ref(event);
	probe->output_fd = -1;
	probe->pidfd = -1;
	probe->hold = (SpawnHold){ .release_fd = -1, .report_fd = -1 };
	int r = cache_dir && !(probe->cache_dir = strdup(cache_dir)) ? -ENOMEM : 0;
	if (r >= 0)
		r = qemu_probe_set_binary(probe, binary);
	if (r < 0) {
		qemu_probe_free(probe);
		return r;
	}
	*ret = probe;
	return 0;
}

QemuProbe *qemu_probe_free(QemuProbe *probe)
{
	if (!probe)
		return NULL;
	if (probe->pid > 0) {
		kill_run(probe);
		set_answer(probe, TAKE_PTR(probe->binary), NULL, "the daemon is shutting down");
		finish_run(probe);
	}
	worker_finish(probe->save); /* the next daemon finds it */
	if (probe->save_again && probe->cache_dir && probe->version) {
		/* Newer than the write just finished: kept here, nothing else waits now. */
		_cleanup_json_ json_object *record = disk_record(probe);
		if (record)
			(void)json_record_save(probe->cache_dir, DISK_RECORD, record);
	}
	free(probe->waiters);
	set_answer(probe, NULL, NULL, NULL);
	free(probe->binary_setting);
	free(probe->cache_dir);
	sd_event_unref(probe->event);
	free(probe);
	return NULL;
}
