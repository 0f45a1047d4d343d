/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The processes a VM's QEMU needs beside it (swtpm, the audio relay): each is
 * watched through its pidfd and reaped when it ends, asked to end with the
 * VM, and killed at once when a start gives up on it.
 */
#include "vm/vm_helpers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "macro.h"
#include "process/child_watch.h"

static const char *const helper_names[_VM_HELPER_MAX] = {
	[VM_HELPER_TPM] = "swtpm",
	[VM_HELPER_AUDIO] = "the audio relay",
};

const char *vm_helper_name(VmHelperKind kind)
{
	return helper_names[kind];
}

static void forget(VmHelper *helper)
{
	helper->exit_source = sd_event_source_disable_unref(helper->exit_source);
	helper->pidfd = safe_close(helper->pidfd);
	helper->pid = 0;
}

static void on_helper_exit(const ChildExit *exit, void *userdata)
{
	(void)exit;
	forget(userdata);
}

void vm_helper_kill_now(VmHelper helpers[_VM_HELPER_MAX], VmHelperKind kind)
{
	VmHelper *helper = &helpers[kind];

	if (helper->pidfd < 0)
		return;
	(void)pidfd_send_signal(helper->pidfd, SIGKILL, NULL, 0);
	/* Not waited for here: a process in the kernel (a disk) ends only when it leaves it. */
	child_reap_later(helper->pidfd);
	forget(helper);
}

int vm_helper_watch(VmHelper helpers[_VM_HELPER_MAX], VmHelperKind kind, sd_event *event,
		    const char *vm_name, pid_t pid, int pidfd)
{
	VmHelper *helper = &helpers[kind];

	vm_helper_kill_now(helpers, kind); /* one left by an earlier start, still ending */
	helper->pid = pid;
	helper->pidfd = pidfd;
	char description[96];
	snprintf(description, sizeof(description), "%s of VM %s", helper_names[kind], vm_name);
	int r = child_watch(event, &helper->exit_source, pidfd, true, description, on_helper_exit,
			    helper);
	if (r < 0) {
		vm_helper_kill_now(helpers, kind);
		return r;
	}
	LogField fields[] = { { "LIBVFIO_VM", vm_name } };
	log_full_errno_fields(LOG_DEBUG, 0, fields, 1, "VM %s: %s runs", vm_name,
			      helper_names[kind]);
	return 0;
}

void vm_helpers_stop(VmHelper helpers[_VM_HELPER_MAX])
{
	for (size_t i = 0; i < _VM_HELPER_MAX; i++)
		if (helpers[i].pidfd >= 0)
			(void)pidfd_send_signal(helpers[i].pidfd, SIGTERM, NULL, 0);
}

void vm_helpers_forget(VmHelper helpers[_VM_HELPER_MAX])
{
	for (size_t i = 0; i < _VM_HELPER_MAX; i++)
		forget(&helpers[i]);
}

void vm_helper_marker(const char *vm_name, char ret[VM_HELPER_MARKER_SIZE])
{
	(void)snprintf(ret, VM_HELPER_MARKER_SIZE, "LIBVFIO_VM=%s", vm_name);
}

/* Whether the NUL-separated environment `env` holds exactly `marker`. */
static bool environment_has(const char *env, size_t size, const char *marker)
{
	size_t length = strlen(marker) + 1; /* with its NUL */
	for (size_t i = 0; i < size;) {
		const char *end = memchr(env + i, '\0', size - i);
		size_t entry = end ? (size_t)(end - (env + i)) + 1 : size - i;
		if (entry == length && memcmp(env + i, marker, length) == 0)
			return true;
		i += entry;
	}
	return false;
}

/* Whether process `pid` (its /proc directory open as `dir`) is a helper of ours, by its marker. */
static bool is_stray(int dir, const char *marker, const uid_t *uids, size_t n_uids)
{
	struct stat st;
	char env[16384];
	if (fstat(dir, &st) < 0)
		return false;
	bool ours = false;
	for (size_t i = 0; i < n_uids; i++)
		ours = ours || st.st_uid == uids[i];
	if (!ours)
		return false;
	_cleanup_close_ int fd = openat(dir, "environ", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, env, sizeof(env)); /* the helpers' environments are short */
	return n > 0 && environment_has(env, (size_t)n, marker);
}

int vm_helpers_end_strays(const char *vm_name, const uid_t *uids, size_t n_uids)
{
	char marker[VM_HELPER_MARKER_SIZE];
	int ended = 0;

	vm_helper_marker(vm_name, marker);
	DIR *proc = opendir("/proc");
	if (!proc)
		return negative_errno();
	for (struct dirent *e; (e = readdir(proc));) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 1 || pid == getpid())
			continue;
		/* The pidfd first: the directory then belongs to this very process. */
		_cleanup_close_ int pidfd = pidfd_open((pid_t)pid, 0);
		_cleanup_close_ int dir = openat(dirfd(proc), e->d_name,
						 O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (pidfd < 0 || dir < 0 || !is_stray(dir, marker, uids, n_uids))
			continue;
		/* Still that process (its pidfd is not signalled as ended): end it. */
		if (pidfd_send_signal(pidfd, SIGKILL, NULL, 0) >= 0) {
			LogField fields[] = { { "LIBVFIO_VM", vm_name } };
			log_full_errno_fields(
				LOG_NOTICE, 0, fields, 1,
				"VM %s: ended pid %ld, a helper left by a daemon that "
				"stopped before QEMU ran",
				vm_name, pid);
			ended++;
		}
	}
	closedir(proc);
	return ended;
}
