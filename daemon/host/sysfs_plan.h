/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A plan: the sysfs writes one change to the host takes, in order ("vfio-pci"
 * to driver_override, the address to the old driver's unbind, the address to
 * drivers_probe). Backends build plans as pure functions of the host model;
 * sysfs_plan_run() carries one out off the event loop, write after write,
 * stopping at the first the kernel refuses.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "host/sysfs_write.h"

#define SYSFS_PLAN_MAX 16

typedef struct SysfsPlanWrite {
	char path[192]; /* relative to the sysfs root */
	char value[64];
} SysfsPlanWrite;

typedef struct SysfsPlan {
	SysfsPlanWrite writes[SYSFS_PLAN_MAX];
	size_t n_writes;
} SysfsPlan;

/* Appends a write; -E2BIG when the plan is full, -ENAMETOOLONG when a text does not fit. */
int sysfs_plan_add(SysfsPlan *plan, const char *value, const char *path_format, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Called once the plan ran: result 0, or the error of the write at `failed`
 * (its index; writes before it happened, writes after it did not). A write
 * that timed out counts as ended only when it really ends: the callback then
 * gets -ETIMEDOUT, and the host is as that write left it.
 */
typedef void (*SysfsPlanCallback)(int result, size_t failed, void *userdata);

/* Called when a write of the plan passes its timeout and is still under way. */
typedef void (*SysfsPlanStuckCallback)(size_t index, void *userdata);

/*
 * Runs the writes in order off the loop, each with `timeout_usec`; `stuck`
 * (may be NULL) hears at once of a write past its timeout, `callback` of the
 * end. The plan is copied. Returns 0 (the callback follows) or a negative
 * errno (it does not).
 */
int sysfs_plan_run(SysfsWriter *writer, const SysfsRoot *root, const SysfsPlan *plan,
		   uint64_t timeout_usec, SysfsPlanCallback callback, SysfsPlanStuckCallback stuck,
		   void *userdata);
