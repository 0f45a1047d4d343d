/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writing sysfs attributes without freezing the event loop. Some writes take
 * seconds (unbinding a GPU driver, drivers_probe, sriov_numvfs) and a stuck
 * driver can block one for ever, so each runs in a thread of its own while
 * the loop goes on serving clients; its result comes back on the loop. A
 * write that outlives its timeout is reported as -ETIMEDOUT at once; the
 * thread is left to finish (a write in the kernel cannot be cancelled) and
 * its late result is dropped.
 */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

#include "host/sysfs.h"

typedef struct SysfsWriter SysfsWriter;

/* result: 0, the write's -errno (-EBUSY, -EINVAL, ...), -ETIMEDOUT, or -ECANCELED. */
typedef void (*SysfsWriteCallback)(int result, void *userdata);

int sysfs_writer_new(sd_event *event, SysfsWriter **ret);
/*
 * Writes still under way are abandoned: their callbacks get -ECANCELED now
 * (and must not start new writes on this writer).
 */
SysfsWriter *sysfs_writer_free(SysfsWriter *writer);

/*
 * Writes `value` (as is: no newline is added) to ROOT/relative, off the loop.
 * `callback` is called on the loop exactly once. When that was with
 * -ETIMEDOUT, `late` (if not NULL) is called once more when the write really
 * ends, with its result: a stuck write usually lands in the end, and what it
 * changed may need undoing. Returns 0, or -ENOMEM / -EAGAIN when the write
 * could not be started (no callback then).
 */
int sysfs_write_async(SysfsWriter *writer, const SysfsRoot *root, const char *relative,
		      const char *value, uint64_t timeout_usec, SysfsWriteCallback callback,
		      SysfsWriteCallback late, void *userdata);

/* Writes in the calling thread; for tests and tools, never on the daemon's loop. */
int sysfs_write_now(const SysfsRoot *root, const char *relative, const char *value);
