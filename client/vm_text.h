/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How a VM reads for people in vfioctl: its uptime, its state in one line,
 * its partitions, and the phases of a start. Pure functions of the VM objects
 * of io.libvfio.VMs replies: no I/O.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "output.h"

/*
 * A duration in seconds in its two largest units, "45s", "3m 12s", "2h 5m",
 * "3d 4h", into buf; "-" when negative. Returns buf.
 */
const char *format_uptime(char *buf, size_t size, int64_t seconds);

/* The number of phases io.libvfio.VMs.Start goes through. */
#define VM_START_PHASES 6

/*
 * What a phase of Start does, for people ("spawning": "starting QEMU"), with
 * its step, 1 to VM_START_PHASES, in *ret_step. NULL (and step 0) for a phase
 * this vfioctl does not know.
 */
const char *vm_start_phase_description(const char *phase, unsigned *ret_step);

/*
 * The progress line of a start, "Starting gaming-vm: starting QEMU (2/5)...",
 * into buf. A phase vfioctl does not know is shown as it is when it is a plain
 * word, and left out otherwise. Returns buf.
 */
const char *vm_start_progress_text(char *buf, size_t size, const char *name, const char *phase);

/*
 * A VM object's state in one line: "gaming-vm is running (pid 4242)",
 * "gaming-vm is stopped: powered off by the guest", "gaming-vm crashed: QEMU
 * exited with status 1", "gaming-vm failed to start: REASON". Returns buf.
 */
const char *vm_state_text(char *buf, size_t size, json_object *vm);

/*
 * The partition ids a VM object holds, joined by ", ", or "-" for none.
 * Returns a new string, or NULL when out of memory.
 */
char *vm_partitions_text(json_object *vm);

/*
 * What libvfio added to a hugepage pool for the VM, in one line: "512 2 MiB
 * pages added to node 0's pool (given back when it ends)"; NULL when none.
 */
const char *vm_hugepages_text(char *buf, size_t size, json_object *vm);

/*
 * The colour a state is shown in: running green; starting, stopping and paused
 * yellow; crashed and failed red; _COLOUR_MAX (none) for the others.
 */
Colour vm_state_colour(const char *state);

/*
 * Whether a VM in `state` has no QEMU: defined (never started), stopped,
 * crashed, failed. Starting, running, paused and stopping have one (or are
 * making one).
 */
bool vm_state_is_ended(const char *state);

/*
 * Whether a VM in `state` ended, so that its problem (if any) says how: stopped,
 * crashed, failed (while it runs, a problem is the last start's, no longer news).
 */
bool vm_state_has_reason(const char *state);
