/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Crash-safe records of partitions: before each change to the host (create an
 * mdev, set sriov_numvfs, bind a device to vfio-pci, ...) the step is written
 * down with what it changes from, and marked done after. A record is a JSON
 * file under RUNTIME_DIR/partitions/, replaced atomically (temp file, rename;
 * no fsync: json_records.h says why), so that whatever instant the daemon
 * dies at, the next start finds either the state before a write or after it,
 * and knows what to undo. The conversion to and from JSON is pure; the file
 * functions are the only I/O.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "host/gpu_modes.h"
#include "pci_address.h"
#include "string_table.h"

/* The longest partition id: "mdev-" or "vf-" plus a UUID or an address. */
#define PARTITION_ID_MAX 64

typedef enum StepKind {
	STEP_MDEV_CREATE, /* uuid of `type` on `device`; undone by removing it */
	STEP_SRIOV_AUTOPROBE, /* sriov_drivers_autoprobe from value_before to value_after */
	STEP_SRIOV_NUMVFS, /* sriov_numvfs from value_before to value_after */
	STEP_BIND_VFIO, /* `device` from driver_before (and override_before) to vfio-pci */
	/* the VF `device`'s xe profile attribute `type` from value_before to value_after */
	STEP_XE_PROFILE,
	/* `device`'s reset_method from override_before to device_specific (vendor-reset) */
	STEP_RESET_METHOD,
	/*
	 * the VF `device`'s NVIDIA vGPU type (nvidia_vgpu.h), from value_before
	 * (0, none) to value_after, the id (also in `type` as text)
	 */
	STEP_NVIDIA_VGPU,
	_STEP_KIND_MAX,
} StepKind;

typedef enum StepState {
	STEP_STARTED, /* written down before the change: it may or may not have happened */
	STEP_DONE, /* the change happened */
	STEP_UNDONE, /* it was reverted: nothing left to do */
	_STEP_STATE_MAX,
} StepState;

typedef struct RecordStep {
	StepKind kind;
	StepState state;
	PciAddress device;
	char *parent; /* mdev on a parent outside PCI: its name ("mbochs"); device unused */
	char *uuid; /* mdev */
	/* mdev type id; xe profile: the attribute ("exec_quantum_ms", "vram_quota"); NVIDIA vGPU:
	 * type id */
	char *type;
	char *driver_before; /* bind: the driver to give back; NULL: it had none */
	char *override_before; /* bind: driver_override before, NULL: none; reset-method: before */
	int64_t value_before; /* numvfs, autoprobe */
	int64_t value_after;
} RecordStep;

typedef struct PartitionRecord {
	char id[PARTITION_ID_MAX + 1];
	PartitionModeKind mode;
	PciAddress gpu;
	char *parent; /* an mdev parent outside PCI ("mbochs") instead of gpu; NULL: gpu */
	char *holder; /* "manual" (until Destroy) or "vm:NAME" */
	pid_t holder_pid; /* 0 for manual */
	uint64_t
		holder_start_time; /* the holder's start time (proc stat field 22), to tell reuse */
	bool active; /* every step is done and the partition is handed out */
	RecordStep *steps;
	size_t n_steps;
} PartitionRecord;

/* "mdev-create", "bind-vfio", ... as records spell them; from_string: the value or -EINVAL. */
DECLARE_STRING_TABLE_LOOKUP(step_kind, StepKind);
DECLARE_STRING_TABLE_LOOKUP(step_state, StepState);

/* Frees what the record owns (not the record itself). */
void partition_record_done(PartitionRecord *record);

/* Appends a step in state STEP_STARTED; the strings are copied. Returns its index or -ENOMEM. */
int partition_record_add_step(PartitionRecord *record, const RecordStep *step);

/*
 * Puts a copy of `step`, in the state it is in, before every other step: one
 * taken over from another partition, to be undone after all of this one's.
 * Returns 0, -E2BIG or -ENOMEM.
 */
int partition_record_take_over_step(PartitionRecord *record, const RecordStep *step);

/* What the partition is part of: the parent's name, or the GPU's address in `buf`. */
const char *partition_record_gpu_text(const PartitionRecord *record,
				      char buf[PCI_ADDRESS_TEXT_SIZE]);

/*
 * Pure conversions. In JSON, "gpu" (of a record) and "device" (of a step)
 * hold a PCI address, or the name of an mdev parent outside PCI. from_json
 * returns -EINVAL, with *ret_bad_field naming what is wrong.
 */
json_object *partition_record_to_json(const PartitionRecord *record);
int partition_record_from_json(json_object *object, PartitionRecord *ret,
			       const char **ret_bad_field);

/* True for an id made only of [A-Za-z0-9_.:-], at most PARTITION_ID_MAX long. */
bool partition_id_is_valid(const char *id);

/* Writes DIR/ID.json atomically (creating DIR), before the step it records. */
int partition_record_save(const char *directory, const PartitionRecord *record);

/* Removes DIR/ID.json. A missing file is fine. */
int partition_record_remove(const char *directory, const char *id);

/*
 * Reads every record in DIR, sorted by id. A record that cannot be read is
 * skipped with a sentence in *ret_problems (strv); only -ENOMEM fails. A
 * missing directory is no records.
 */
int partition_record_load_all(const char *directory, PartitionRecord **ret, size_t *ret_n,
			      char ***ret_problems);
