/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "process/process_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"

/* What the child was doing when it failed, for the parent's message. */
static const char *const stages[] = {
	"setsid", "signals", "fds", "affinity", "memlock", "setgroups", "setgid", "setuid", "exec",
};
enum {
	STAGE_SETSID,
	STAGE_SIGNALS,
	STAGE_FDS,
	STAGE_AFFINITY,
	STAGE_MEMLOCK,
	STAGE_SETGROUPS,
	STAGE_SETGID,
	STAGE_SETUID,
	STAGE_EXEC
};

typedef struct ChildFailure {
	int error; /* errno */
	int stage;
} ChildFailure;

_noreturn_ static void child_fail(int report_fd, int stage)
{
	ChildFailure failure = { .error = errno, .stage = stage };
	(void)!write(report_fd, &failure, sizeof(failure));
	_exit(127);
}

/* The descriptors the child keeps until exec, close-on-exec, after the passed ones. */
typedef struct ChildKept {
	int exec_fd; /* the program to exec, or -1 */
	int release_fd; /* a held child waits for a byte here, or -1 */
	int report_fd; /* where a failure is written */
} ChildKept;

/*
 * Puts the fds the child keeps in place: 0 /dev/null, 1 and 2 the output,
 * 3... the passed ones, then those of `kept` (close-on-exec), updated to their
 * new numbers; closes everything else. Each goes through a copy above all
 * targets first, so no source is overwritten before it is copied. Only
 * async-signal-safe calls: we are after fork().
 */
static int child_arrange_fds(const SpawnRequest *request, ChildKept *kept)
{
	int *own[] = { &kept->exec_fd, &kept->release_fd, &kept->report_fd };
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0)
		return -1;
	int n_kept = SPAWN_FIRST_PASSED_FD + (int)request->n_pass_fds;
	int sources[SPAWN_FIRST_PASSED_FD + 64 + ELEMENTSOF(own)];
	int n_targets = n_kept;
	if (request->n_pass_fds > 64)
		return errno = E2BIG, -1;

	sources[0] = null_fd;
	sources[1] = request->stdout_fd >= 0 ? request->stdout_fd : null_fd;
	sources[2] = request->stderr_fd >= 0 ? request->stderr_fd : null_fd;
	for (size_t i = 0; i < request->n_pass_fds; i++)
		sources[SPAWN_FIRST_PASSED_FD + i] = request->pass_fds[i];
	for (size_t i = 0; i < ELEMENTSOF(own); i++)
		if (*own[i] >= 0)
			sources[n_targets++] = *own[i];

	for (int i = 0; i < n_targets; i++) {
		sources[i] = fcntl(sources[i], F_DUPFD_CLOEXEC, n_targets);
		if (sources[i] < 0)
			return -1;
	}
	for (int i = 0; i < n_kept; i++)
		if (dup2(sources[i], i) < 0) /* the copy loses close-on-exec */
			return -1;
	for (int i = n_kept; i < n_targets; i++)
		if (dup3(sources[i], i, O_CLOEXEC) < 0)
			return -1;
	for (size_t i = 0, next = (size_t)n_kept; i < ELEMENTSOF(own); i++)
		if (*own[i] >= 0)
			*own[i] = (int)next++;
	return close_range((unsigned)n_targets, ~0U, 0);
}

_noreturn_ static void child(const SpawnRequest *request, ChildKept kept)
{
	int report_fd = kept.report_fd;
	sigset_t none;

	if (setsid() < 0)
		child_fail(report_fd, STAGE_SETSID);
	for (int sig = 1; sig < _NSIG; sig++)
		(void)signal(sig, SIG_DFL); /* SIGKILL, SIGSTOP and glibc's own refuse: fine */
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		child_fail(report_fd, STAGE_SIGNALS);
	if (child_arrange_fds(request, &kept) < 0)
		child_fail(report_fd, STAGE_FDS);
	report_fd = kept.report_fd;
	if (request->affinity && sched_setaffinity(0, sizeof(cpu_set_t), request->affinity) < 0)
		child_fail(report_fd, STAGE_AFFINITY);
	if (request->memlock_limit > 0) {
		struct rlimit limit = { .rlim_cur = request->memlock_limit,
					.rlim_max = request->memlock_limit };
		if (setrlimit(RLIMIT_MEMLOCK, &limit) < 0)
			child_fail(report_fd, STAGE_MEMLOCK);
	}
	if (request->drop_privileges) {
		if (setgroups(0, NULL) < 0)
			child_fail(report_fd, STAGE_SETGROUPS);
		if (setresgid(request->gid, request->gid, request->gid) < 0)
			child_fail(report_fd, STAGE_SETGID);
		if (setresuid(request->uid, request->uid, request->uid) < 0)
			child_fail(report_fd, STAGE_SETUID);
	}
	if (kept.release_fd >= 0) {
		char go;
		ssize_t n;
		do
			n = read(kept.release_fd, &go, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1) /* the parent gave up on us, or died */
			_exit(127);
	}
	if (kept.exec_fd >= 0)
		execveat(kept.exec_fd, "", request->argv, request->envp, AT_EMPTY_PATH);
	else
		execve(request->argv[0], request->argv, request->envp);
	child_fail(report_fd, STAGE_EXEC);
}

void spawn_hold_done(SpawnHold *hold)
{
	if (hold->release_fd >= 0)
		close(hold->release_fd);
	if (hold->report_fd >= 0)
		close(hold->report_fd);
	*hold = (SpawnHold){ .release_fd = -1, .report_fd = -1 };
}

/*
 * Lets the child go on (a held one) and waits until it has exec'd (EOF on the
 * close-on-exec report pipe) or reported a failure. 0, or the child's errno
 * with *ret_stage.
 */
static void let_go(SpawnHold *hold)
{
	ssize_t n;

	if (hold->release_fd < 0)
		return;
	do
		n = send(hold->release_fd, "g", 1, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	/* EPIPE: it failed before its hold, and says so on the report pipe. */
	hold->release_fd = safe_close(hold->release_fd);
}

/* Reads the report pipe to its EOF (exec) or the child's failure; takes the hold. */
static int read_report(SpawnHold *hold, const char **ret_stage)
{
	ChildFailure failure;
	ssize_t n;

	do
		n = read(hold->report_fd, &failure, sizeof(failure));
	while (n < 0 && errno == EINTR);
	spawn_hold_done(hold);
	if (n != (ssize_t)sizeof(failure))
		return 0;
	*ret_stage = failure.stage >= 0 && failure.stage < (int)ELEMENTSOF(stages)
			     ? stages[failure.stage]
			     : "setup";
	return failure.error > 0 ? -failure.error : -EIO;
}

static int wait_for_exec(SpawnHold *hold, const char **ret_stage)
{
	let_go(hold);
	return read_report(hold, ret_stage);
}

/* A child that did not get to exec: killed if need be, and reaped. */
static void child_reap(pid_t pid, int pidfd)
{
	if (pidfd >= 0) {
		(void)pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
		close(pidfd);
	} else
		(void)kill(pid, SIGKILL); /* not reaped yet: the pid is still ours */
	(void)waitpid(pid, NULL, 0);
}

static int spawn(const SpawnRequest *request, bool held, pid_t *ret_pid, int *ret_pidfd,
		 SpawnHold *ret_hold, const char **ret_stage)
{
	int report[2], release[2] = { -1, -1 };

	*ret_stage = "fork";
	if (!request->argv || !request->argv[0] || request->argv[0][0] != '/')
		return -EINVAL;
	if (pipe2(report, O_CLOEXEC) < 0)
		return negative_errno();
	/* A socket, not a pipe: send() to a child that died already must not raise SIGPIPE. */
	if (held && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, release) < 0) {
		int r = negative_errno();
		close(report[0]);
		close(report[1]);
		return r;
	}
	pid_t pid = fork();
	if (pid < 0) {
		int r = negative_errno();
		SpawnHold pipes = { .release_fd = release[1], .report_fd = report[0] };
		spawn_hold_done(&pipes);
		close(report[1]);
		if (release[0] >= 0)
			close(release[0]);
		return r;
	}
	if (pid == 0) {
		close(report[0]);
		if (release[1] >= 0)
			close(release[1]);
		child(request, (ChildKept){ .exec_fd = request->exec_fd > 0 ? request->exec_fd : -1,
					    .release_fd = release[0],
					    .report_fd = report[1] });
	}
	close(report[1]);
	if (release[0] >= 0)
		close(release[0]);
	SpawnHold hold = { .release_fd = release[1], .report_fd = report[0] };

	/* Before any wait: the pid cannot have been reused yet. */
	int pidfd = pidfd_open(pid, 0);
	int r = pidfd < 0 ? negative_errno() : 0;
	if (r >= 0 && held) {
		*ret_pid = pid;
		*ret_pidfd = pidfd;
		*ret_hold = hold;
		*ret_stage = NULL;
		return 0;
	}
	if (r >= 0)
		r = wait_for_exec(&hold, ret_stage);
	spawn_hold_done(&hold);
	if (r < 0) {
		child_reap(pid, pidfd);
		return r;
	}
	*ret_pid = pid;
	*ret_pidfd = pidfd;
	*ret_stage = NULL;
	return 0;
}

int process_spawn(const SpawnRequest *request, pid_t *ret_pid, int *ret_pidfd,
		  const char **ret_stage)
{
	return spawn(request, false, ret_pid, ret_pidfd, NULL, ret_stage);
}

int process_spawn_held(const SpawnRequest *request, pid_t *ret_pid, int *ret_pidfd,
		       SpawnHold *ret_hold, const char **ret_stage)
{
	return spawn(request, true, ret_pid, ret_pidfd, ret_hold, ret_stage);
}

int process_release(SpawnHold *hold, const char **ret_stage)
{
	*ret_stage = NULL;
	return wait_for_exec(hold, ret_stage);
}

void process_let_go(SpawnHold *hold)
{
	let_go(hold);
}

int process_exec_result(SpawnHold *hold, const char **ret_stage)
{
	*ret_stage = NULL;
	return read_report(hold, ret_stage);
}
