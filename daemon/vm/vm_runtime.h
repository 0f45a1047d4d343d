/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The runtime record of a VM: RUNTIME_DIR/vms/NAME.json, written before the
 * first thing is lent to QEMU's user and removed once QEMU is gone and
 * everything is given back. A daemon that restarts finds in it what to
 * re-adopt or undo: QEMU's pid with its start time (so a reused pid is not
 * mistaken for it; 0 before the spawn), when it started, the partitions it
 * holds, and the device nodes and files lent to QEMU's user with their owners
 * before, and the hugepages a start added to a pool (written before the pool
 * is grown). The conversion to and from JSON is pure; save, remove and load are
 * the only I/O.
 */
#pragma once

#include <json-c/json.h>
#include <stdint.h>
#include <sys/types.h>

#include "vm/hugepage_reserve.h"
#include "vm_definition.h"

/* A device node lent to QEMU's user, with what to give back. */
typedef struct VmLent {
	char *path;
	uid_t uid;
	gid_t gid;
	mode_t mode; /* permission bits */
	dev_t device; /* the node's device number; 0 in records of older daemons */
	int fd; /* the O_PATH descriptor it was lent through; -1 when read from a record */
} VmLent;

typedef struct VmRuntime {
	char name[VM_NAME_MAX + 1];
	pid_t pid; /* 0: QEMU not spawned yet (what is lent is written down first) */
	uint64_t start_time; /* proc/PID/stat field 22, in clock ticks since boot */
	uint64_t started_at_usec; /* CLOCK_REALTIME */
	char **partitions; /* strv of partition ids */
	VmLent *lent; /* /dev/vfio nodes and kvmfr given to QEMU's user (older daemons: files too)
		       */
	size_t n_lent;
	HugepageReservation hugepages; /* pages added to a pool for this VM, to give back */
} VmRuntime;

void vm_lent_done(VmLent *lent, size_t n);

void vm_runtime_done(VmRuntime *runtime);

json_object *vm_runtime_to_json(const VmRuntime *runtime);
/* -EINVAL with *ret_bad_field naming the bad field, or -ENOMEM. */
int vm_runtime_from_json(json_object *object, VmRuntime *ret, const char **ret_bad_field);

/* DIR/NAME.json, atomically (json_records.h). */
int vm_runtime_save(const char *directory, const VmRuntime *runtime);
int vm_runtime_remove(const char *directory, const char *name);

/*
 * Every record in DIR. A damaged one is skipped with a sentence in
 * *ret_problems; only -ENOMEM fails. A missing directory is no records.
 */
int vm_runtime_load_all(const char *directory, VmRuntime **ret, size_t *ret_n,
			char ***ret_problems);
