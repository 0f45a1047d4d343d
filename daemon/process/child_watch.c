/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "process/child_watch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/loop_watch.h"
#include "base/worker.h"
#include "macro.h"

typedef struct Watch {
	ChildExitHandler handler;
	void *userdata;
	bool own;
} Watch;

/*
 * The reap itself, on a worker: it is where the kernel drops the process's
 * /proc entries (release_task() → proc_flush_pid()), and that can take
 * milliseconds of CPU. When something has read /proc/PID/task/TID (top, ps -L,
 * a test), the last thread of a QEMU to end tells the parent first and drops
 * its own entries after; the reap then waits, on a CPU, for that thread, which
 * may be preempted on the CPU it is pinned to: 3-30 ms measured, on the loop,
 * while QEMUs whose vCPUs were pinned to busy CPUs ended.
 */
static void reap(void *data)
{
	int pidfd = (int)(intptr_t)data;
	siginfo_t info;
	(void)waitid(P_PIDFD, (id_t)pidfd, &info, WEXITED);
	close(pidfd);
}

/* Reaps through `pidfd` (ours to close) on a worker; here when no thread can be had. */
static void hand_over(int pidfd)
{
	if (pidfd >= 0 && worker_run_detached(reap, (void *)(intptr_t)pidfd) < 0)
		reap((void *)(intptr_t)pidfd);
}

static int duplicate(int pidfd)
{
	return fcntl(pidfd, F_DUPFD_CLOEXEC, 3);
}

void child_reap_later(int pidfd)
{
	hand_over(duplicate(pidfd));
}

/* Our own child's status, read without reaping it. */
static ChildExit exit_status(int pidfd)
{
	siginfo_t info = { 0 };
	if (waitid(P_PIDFD, (id_t)pidfd, &info, WEXITED | WNOHANG | WNOWAIT) < 0 ||
	    info.si_pid == 0)
		return (ChildExit){ .known = false };
	return (ChildExit){ .known = true, .code = info.si_code, .status = info.si_status };
}

static int on_ended(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	loop_watch_enter(source);
	Watch *watch = userdata;
	(void)revents;
	/* Once: the pidfd stays readable. */
	(void)sd_event_source_set_enabled(source, SD_EVENT_OFF);
	ChildExit exit = watch->own ? exit_status(fd) : (ChildExit){ .known = false };
	/* The handler may close the pidfd and free the source (and the watch with it). */
	int reaper = exit.known ? duplicate(fd) : -1;
	watch->handler(&exit, watch->userdata);
	hand_over(reaper);
	return 0;
}

int child_watch(sd_event *event, sd_event_source **ret, int pidfd, bool own,
		const char *description, ChildExitHandler handler, void *userdata)
{
	sd_event_source *source = NULL;
	Watch *watch = malloc(sizeof(*watch));
	if (!watch)
		return -ENOMEM;
	*watch = (Watch){ handler, userdata, own };
	int r = sd_event_add_io(event, &source, pidfd, EPOLLIN, on_ended, watch);
	if (r < 0) {
		free(watch);
		return r;
	}
	(void)sd_event_source_set_description(source, description);
	r = sd_event_source_set_destroy_callback(source, free);
	if (r < 0) {
		free(watch);
		sd_event_source_disable_unref(source);
		return r;
	}
	*ret = source;
	return 0;
}
