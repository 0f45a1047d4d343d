/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inside the partition engine, shared by its files and known to nobody else:
 * the engine object and its queue of operations (partitions.c), the running
 * of one operation (operation.c) and the reconciliation at start
 * (reconcile.c). What each step is comes from partition_plan.h.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "base/log.h"
#include "base/worker.h"
#include "host/sysfs_plan.h"
#include "partitions/autoprobe_record.h"
#include "partitions/partitions.h"

typedef enum OperationKind {
	OPERATION_CREATE,
	OPERATION_DESTROY,
	OPERATION_SET_VFS,
} OperationKind;

typedef struct Operation {
	PartitionEngine *engine;
	OperationKind kind;
	PciAddress target; /* set VFs: the PF */
	unsigned count;
	PartitionRequest request;
	char *type; /* request.type points here */
	char *parent; /* request.parent points here */
	PartitionCallback callback;
	void *userdata;
	struct Operation *next;

	PartitionRecord record; /* the partition being made or unmade */
	PciAddress vf; /* SR-IOV: the VF allocation chose, when it could (vf_known) */
	bool vf_known;
	size_t undo_left; /* steps still to look at, counting from the last */
	bool undo_failed;
	int failure;
	bool reported; /* the caller heard already (of a stuck write) */
	bool stuck; /* a write of it did not answer in time */
	bool leftover; /* left by a previous daemon: given back in full (set VFs: autoprobe only) */
	HostCacheWait *host_wait; /* waiting for the host read anew after a write */
	WorkerJob *users_job; /* passthrough: who holds the group's devices open, being found */
	struct UsersJob *users; /* that job's data, shared with its worker */
	AllocError alloc_error;
	PciAddress alloc_gpu; /* the GPU alloc_error is about */
	char alloc_parent[65]; /* or the mdev parent outside PCI it is about; "": none */
	char message[512];
} Operation;

struct PartitionEngine {
	sd_event *event;
	HostCache *host;
	SysfsWriter *writer;
	char *directory;
	char *autoprobe_directory;
	PartitionRecord *records; /* held partitions, sorted by id */
	AutoprobeRecords autoprobe; /* the PFs whose autoprobe libvfio turned off */
	size_t n_records;
	Operation *queue; /* waiting; the first one runs */
	uint64_t write_timeout_usec;
	bool keep_vfs;
	sd_event_source *kick;
};

/* ---- partitions.c: the engine's held partitions and queue ---- */

void operation_free(Operation *op);
/* Stops waiting for the look for a passthrough's device users, if one runs (operation_free). */
void operation_cancel_users(Operation *op);

/* Takes the record (its contents move into the engine). */
int engine_hold(PartitionEngine *engine, PartitionRecord *record);
PartitionRecord *engine_find(PartitionEngine *engine, const char *id);

/* What alloc_choose() must not hand out again: every device the held records name. */
HeldPartition *engine_held(const PartitionEngine *engine, size_t *ret_n);

/* Queues `op`; the first of the queue runs (on_kick() starts it off the caller's stack). */
void engine_enqueue(PartitionEngine *engine, Operation *op);

/* ---- operation.c: running the operation at the head of the queue ---- */

/* LIBVFIO_PARTITION and LIBVFIO_PCI (or LIBVFIO_MDEV_PARENT) of a record, for the log. */
const LogField *partition_log_fields(const PartitionRecord *record, LogField fields[2]);
/*
 * The lines that tell a partition's story, with a MESSAGE_ID= each, so that
 * `journalctl MESSAGE_ID=...` finds every partition made, given back, or left
 * behind by a previous daemon (the VM's are in vm/vm_internal.h; each has an
 * entry in systemd/libvfio.catalog, which tests/systemd checks).
 */
#define MESSAGE_ID_PARTITION_CREATED "2a4fbe7a128a4626a6f11c05ab194400"
#define MESSAGE_ID_PARTITION_RELEASED "174fb49f132d45d6808c3e7d4f69d239"
#define MESSAGE_ID_PARTITION_LEAKED "61b91a5064ef4164a9286f8441e389f7"
/* partition_log_fields() and MESSAGE_ID=`message_id`: three fields. */
const LogField *partition_event_fields(const PartitionRecord *record, const char *message_id,
				       LogField fields[3]);

/* Chooses, records and makes a partition, step after step. */
void operation_start_create(PartitionEngine *engine, Operation *op);
/* Undoes the record's steps, from the last back; `failure` is what went wrong (0: a release). */
void operation_undo(PartitionEngine *engine, Operation *op, int failure);
/* Sets a PF's VF count (or, for a leftover, checks its autoprobe). */
void operation_start_set_vfs(PartitionEngine *engine, Operation *op);
