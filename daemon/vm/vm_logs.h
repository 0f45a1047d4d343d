/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VM's log, as its owner may read it: QEMU's output and the daemon's lines
 * about the VM. From the system journal when it holds any (the daemon's lines
 * with LIBVFIO_VM=NAME written by root; QEMU's stream `qemu-NAME`, which
 * journald credits to the process that writes, QEMU, so written by root or
 * QEMU's user: no other user can slip a line in), else from QEMU's log file
 * STATE/vms/NAME/qemu.log. The last lines, then, when followed, each
 * new one as it comes. Every message is made printable (utf8.h): a guest
 * writes into QEMU's output.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "base/worker.h"

/* A message is cut past this many bytes. */
#define VM_LOG_MAX_MESSAGE 2048

typedef struct VmLogEntry {
	uint64_t usec; /* CLOCK_REALTIME; 0 when unknown (a line of the file) */
	bool qemu; /* QEMU's output; else the daemon's */
	int priority; /* syslog's; -1 when unknown */
	char *message;
} VmLogEntry;

typedef struct VmLog VmLog;

/*
 * Opens VM `name`'s log; `file` is QEMU's log file, read when the journal
 * has nothing of the VM (or there is no journal); `qemu_uid` the user QEMU
 * runs as.
 */
int vm_log_open(const char *name, const char *file, uid_t qemu_uid, VmLog **ret);
VmLog *vm_log_free(VmLog *log);

/* The last `n` entries, oldest first (free with vm_log_entries_free()). */
int vm_log_tail(VmLog *log, size_t n, VmLogEntry **ret, size_t *ret_n);

/*
 * vm_log_open() and vm_log_tail() on a worker thread: the journal's files are
 * opened and searched there (milliseconds, more with a large journal), not on
 * the loop. Then done(result, log, entries, n, userdata) on the loop, which
 * owns the log and the entries from then on (NULL and 0 on an error). Returns
 * 0 with *ret, to give up with worker_cancel() (done is then not called), or
 * < 0.
 */
typedef void (*VmLogRead)(int result, VmLog *log, VmLogEntry *entries, size_t n, void *userdata);
int vm_log_read(sd_event *event, const char *name, const char *file, uid_t qemu_uid, size_t n,
		VmLogRead done, void *userdata, WorkerJob **ret);

/*
 * From now on, calls `callback` with the entries that come (after those
 * vm_log_tail() gave), until the log is freed. `callback` returns < 0 to be
 * called no more (its reader is gone).
 */
typedef int (*VmLogCallback)(const VmLogEntry *entries, size_t n, void *userdata);
int vm_log_follow(VmLog *log, sd_event *event, VmLogCallback callback, void *userdata);

void vm_log_entries_free(VmLogEntry *entries, size_t n);
