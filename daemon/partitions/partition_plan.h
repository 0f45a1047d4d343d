/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Partition plans: what the partition engine does next, decided as a pure
 * function of the host model and the record of what is done so far. For a
 * creation, the next step (create the mdev, enable VFs, bind a device to
 * vfio-pci), the sysfs writes it takes and what must be written down before
 * them; whether a step took effect; and for a release or a crash, the order
 * the steps of a record are undone in and the writes that undo each one.
 *
 * No I/O and no state: no sysfs, no records on disk, no random numbers (the
 * caller brings the UUID of a new mdev). The engine (partitions.h) runs the
 * plans, writing each step down before it is made; this file only says what
 * those steps are, so a crash at any point is undone from the record alone.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "host/host.h"
#include "host/sysfs_plan.h"
#include "partitions/alloc.h"
#include "partitions/autoprobe_record.h"
#include "partitions/partition_record.h"

/* What a creation brings besides its record: the allocation's choices. */
typedef struct PartitionPlanInput {
	const char *type; /* mdev: the type id chosen */
	const char *uuid; /* mdev: the UUID a new mdev gets; NULL: none could be made */
	unsigned vfs_to_enable; /* SR-IOV, a PF with no VFs: how many (0: all it supports) */
	const XeProfile *profile; /* SR-IOV on xe: the VF's profile to set; NULL: none */
	bool vf_known; /* SR-IOV: allocation chose `vf` (false: choose once VFs exist) */
	PciAddress vf;
	const HeldPartition *held; /* the other partitions: a VF chosen here is none of theirs */
	size_t n_held;
} PartitionPlanInput;

/* The next step of a creation. Its strings point into the input, the record or the model. */
typedef struct PartitionStepPlan {
	RecordStep step; /* to write down (as started) before any write of `writes` */
	SysfsPlan writes; /* none: the host is so already (a device on vfio-pci) */
	int autoprobe_off; /* 0/1: write the PF's autoprobe down first (autoprobe_record.h); -1 */
} PartitionStepPlan;

/*
 * The next step of the creation `record`, from the steps it holds and the
 * host as `model` shows it now: 1 with *ret, 0 when the partition is
 * complete, or a negative errno with a sentence for the user in `message`
 * (-ENODEV: a device or type vanished; -ENXIO: a PF without driver; -EINVAL:
 * the kernel could not be asked; -ENOSPC: no VF free). Passthrough binds
 * every member of the GPU's IOMMU group but bridges, one step each.
 */
int partition_plan_next_step(const PartitionRecord *record, const HostModel *model,
			     const PartitionPlanInput *input, PartitionStepPlan *ret, char *message,
			     size_t message_size);

/* Did the step's change happen? Asked of a model read after its writes. */
bool partition_step_took_effect(const RecordStep *step, const HostModel *model);

/*
 * Undo order: the index of the next step of `record` to undo, walking back
 * from *cursor (start with record->n_steps), steps already undone skipped;
 * -ENOENT once every step was looked at. Last done, first undone.
 */
int partition_undo_next(const PartitionRecord *record, size_t *cursor);

/*
 * The writes that undo `step`, as the host is now; none when nothing is left
 * to undo (an mdev gone, a device that was on vfio-pci before libvfio, a
 * device gone), or when the VFs of a released SR-IOV partition are kept
 * (`keep`: on vfio-pci, for the next partition). A bind stopped part-way (a
 * crash, a refused write) clears driver_override and, when the device lost
 * the driver it had, probes for it. `autoprobe_before`: what an SR-IOV step
 * puts back, -1 for nothing.
 */
int partition_undo_plan(const RecordStep *step, const HostModel *model, bool keep,
			int autoprobe_before, SysfsPlan *ret);

/*
 * The autoprobe an SR-IOV step puts back: its PF's record in `autoprobe`;
 * or, in a record a libvfiod before autoprobe_record.h wrote, the "0" or "1"
 * it kept in the step's override_before. -1: none (autoprobe was off).
 */
int partition_undo_autoprobe(const AutoprobeRecords *autoprobe, const RecordStep *step);

/* Whether `record` holds a step of `kind` (on `device`; NULL: any). */
bool partition_record_has_step(const PartitionRecord *record, StepKind kind,
			       const PciAddress *device);

/*
 * What allocation must not hand out again: every device `records` name. NULL
 * when out of memory; freed with free().
 */
HeldPartition *partition_plan_held(const PartitionRecord *records, size_t n_records, size_t *ret_n);
