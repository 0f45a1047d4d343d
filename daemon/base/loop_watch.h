/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The event loop, run with a stopwatch on every dispatch: a callback that
 * holds the loop longer than a budget is logged as
 *
 *     loop held 23.4 ms by qmp (vm gaming-vm)
 *
 * so that slow work on the loop (which makes every other client wait) is seen
 * where it happens. The budget comes from $LIBVFIOD_LOOP_BUDGET_MS (a number
 * of milliseconds, fractions allowed); unset or 0, the loop runs unwatched at
 * no cost. What was not the daemon's doing is not counted against the
 * budget: time the loop's thread spent runnable but waiting for a CPU (a busy
 * machine) and, in a dispatch that never blocked, time taken from its CPU by
 * the hypervisor or interrupts. The line says how much of the rest was on a
 * CPU (the loop's own work) and roughly how much of that in the kernel (its
 * system calls), how many times it blocked (a file, a lock, a thread) or was
 * preempted, and how many of its page faults read a disk.
 *
 * A dispatch is named by the description of the event source whose callback
 * calls loop_watch_enter() (every callback of the daemon does, first thing).
 * This file knows sd-event and a clock; it knows nothing of what the
 * callbacks do.
 */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"

/* The environment variable that sets the budget. */
#define LOOP_BUDGET_ENV "LIBVFIOD_LOOP_BUDGET_MS"

/*
 * Reads the budget from the environment. Returns 0 (also when unset), or
 * -EINVAL when the value is not a number of milliseconds.
 */
int loop_watch_setup(void);

/* The budget in µs, 0 when the loop is not watched. */
uint64_t loop_watch_budget_usec(void);

/* Like sd_event_loop(): runs until sd_event_exit(), returns the exit code or < 0. */
int loop_watch_run(sd_event *event);

/* Names what runs now after the description of `source` (NULL: keeps the name it has). */
void loop_watch_enter(sd_event_source *source);

/*
 * Names what runs now without its event source: for callbacks that are not
 * given it (sd-bus's message handlers, told through a filter: base/bus.c).
 */
void loop_watch_name(const char *name);

/* Adds what the source is doing to the name ("io.libvfio.VMs.Start"); the last one wins. */
void loop_watch_detail(const char *format, ...) _printf_(1, 2);
