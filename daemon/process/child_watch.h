/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Watching a process end, one way for every process the daemon starts (QEMU,
 * swtpm, the audio relay, the QEMU probe) and for a QEMU taken back after a
 * restart of the daemon.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

typedef struct ChildExit {
	bool known; /* false: a process that is not our child; only that it ended is known */
	int code; /* CLD_EXITED, CLD_KILLED or CLD_DUMPED */
	int status; /* the exit status, or the signal */
} ChildExit;

typedef void (*ChildExitHandler)(const ChildExit *exit, void *userdata);

/*
 * Calls `handler` once, when the process behind `pidfd` ends (the pidfd
 * becomes readable). `own`: our child, whose status is read for the handler
 * (waitid's WNOWAIT) and which is reaped after it, on a worker thread (see
 * child_watch.c: the kernel's work at a reap is not the loop's to wait for).
 * Otherwise (a QEMU re-adopted after a restart, whose parent was the daemon
 * before) only that it ended is known, and it is not ours to reap. The source
 * (*ret) does not own the pidfd; `description` names it in the loop's logs
 * ("QEMU of VM gaming-vm").
 */
int child_watch(sd_event *event, sd_event_source **ret, int pidfd, bool own,
		const char *description, ChildExitHandler handler, void *userdata);

/*
 * Reaps our child behind `pidfd` once it has ended (one killed, and not
 * watched), on a worker: the caller keeps its pidfd and may close it at once.
 */
void child_reap_later(int pidfd);
