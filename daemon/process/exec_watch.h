/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A spawned child's exec, told on the event loop: the child held before exec
 * (process_spawn_held()) is let go, and a callback hears once whether it has
 * exec'd or what it failed at before. The exec takes milliseconds, tens of
 * them on a busy machine (another process to be scheduled, a binary paged
 * in): a wait the loop must not make. QEMU, swtpm and the audio relay are
 * started this way.
 */
#pragma once

#include <systemd/sd-event.h>

#include "process/process_spawn.h"

typedef struct ExecWatch ExecWatch;

/*
 * 0: the child has exec'd; < 0: its errno, `stage` naming the step that failed
 * ("exec", "setuid"; the caller kills and reaps it). The watch ends with the
 * callback: it is freed when the callback returns, and the callback drops the
 * caller's pointer to it (which tells it apart from the caller's other ones).
 */
typedef void (*ExecWatchCallback)(ExecWatch *watch, int result, const char *stage, void *userdata);

/*
 * Lets the child of `hold` go (the hold is taken) and watches its report.
 * `description` names the watch in the loop's logs ("swtpm exec"). Returns 0
 * with *ret, or < 0 (out of memory) with the hold left as it was.
 */
int exec_watch_start(sd_event *event, SpawnHold *hold, const char *description,
		     ExecWatchCallback callback, void *userdata, ExecWatch **ret);

/* Stops watching (the callback is not called) and gives up the hold. Accepts NULL. */
ExecWatch *exec_watch_free(ExecWatch *watch);
