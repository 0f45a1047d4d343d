/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "partitions/partitions.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-id128.h>

#include "base/log.h"
#include "host/device_users.h"
#include "host/mdev.h"
#include "host/sriov.h"
#include "host/vfio_bind.h"
#include "macro.h"
#include "parse_util.h"
#include "partitions/autoprobe_record.h"
#include "strv.h"

/* Unbinding a GPU driver can take seconds; longer than this (by default), it is stuck. */
#define DEFAULT_WRITE_TIMEOUT_USEC (20 * USEC_PER_SEC)

typedef struct PartitionEngine PartitionEngine;

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
	bool undoing;
	size_t undo_left; /* steps still to look at, counting from the last */
	bool undo_failed;
	int failure;
	bool reported; /* the caller heard already (of a stuck write) */
	bool stuck; /* a write of it did not answer in time */
	bool leftover; /* left by a previous daemon: given back in full (set VFs: autoprobe only) */
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

static void operation_free(Operation *op)
{
	if (!op)
		return;
	partition_record_done(&op->record);
	free(op->type);
	free(op->parent);
	free(op);
}

_printf_(2, 3) static void set_message(Operation *op, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	vsnprintf(op->message, sizeof(op->message), format, ap);
	va_end(ap);
}

static const LogField *partition_fields(const PartitionRecord *record, LogField fields[2])
{
	static __thread char gpu[PCI_ADDRESS_TEXT_SIZE];
	fields[0] = (LogField){ "LIBVFIO_PARTITION", record->id };
	fields[1] = record->parent
			    ? (LogField){ "LIBVFIO_MDEV_PARENT", record->parent }
			    : (LogField){ "LIBVFIO_PCI", pci_address_format(&record->gpu, gpu) };
	return fields;
}

/* ---- the held partitions ---- */

static int compare_records(const void *a, const void *b)
{
	return strcmp(((const PartitionRecord *)a)->id, ((const PartitionRecord *)b)->id);
}

/* Takes the record (its contents move into the engine). */
static int engine_hold(PartitionEngine *engine, PartitionRecord *record)
{
	PartitionRecord *p =
		reallocarray(engine->records, engine->n_records + 1, sizeof(PartitionRecord));
	if (!p)
		return -ENOMEM;
	engine->records = p;
	p[engine->n_records++] = *record;
	*record = (PartitionRecord){ 0 };
	qsort(engine->records, engine->n_records, sizeof(PartitionRecord), compare_records);
	return 0;
}

static PartitionRecord *engine_find(PartitionEngine *engine, const char *id)
{
	for (size_t i = 0; i < engine->n_records; i++)
		if (strcmp(engine->records[i].id, id) == 0)
			return &engine->records[i];
	return NULL;
}

/* Moves a held record out of the engine into *ret. */
static void engine_release(PartitionEngine *engine, PartitionRecord *record, PartitionRecord *ret)
{
	size_t i = (size_t)(record - engine->records);
	*ret = *record;
	memmove(&engine->records[i], &engine->records[i + 1],
		(engine->n_records - i - 1) * sizeof(PartitionRecord));
	engine->n_records--;
}

const PartitionRecord *partition_engine_records(const PartitionEngine *engine, size_t *ret_n)
{
	*ret_n = engine->n_records;
	return engine->records;
}

/* What alloc_choose() must not hand out again: every device the records name. */
static HeldPartition *held_partitions(const PartitionEngine *engine, const PartitionRecord *extra,
				      size_t *ret_n)
{
	size_t max = 1, n = 0;
	for (size_t i = 0; i < engine->n_records; i++)
		max += engine->records[i].n_steps + 1;
	if (extra)
		max += extra->n_steps + 1;
	HeldPartition *held = calloc(max, sizeof(HeldPartition));
	if (!held)
		return NULL;
	for (size_t i = 0; i <= engine->n_records; i++) {
		const PartitionRecord *r = i < engine->n_records ? &engine->records[i] : extra;
		if (!r)
			continue;
		if (r->mode == PARTITION_PASSTHROUGH)
			held[n++] = (HeldPartition){ r->mode, r->gpu, r->gpu, NULL };
		for (size_t k = 0; k < r->n_steps; k++)
			if (r->steps[k].kind == STEP_BIND_VFIO && r->mode == PARTITION_SRIOV)
				held[n++] = (HeldPartition){ r->mode, r->gpu, r->steps[k].device,
							     NULL };
			else if (r->steps[k].kind == STEP_MDEV_CREATE)
				held[n++] = (HeldPartition){ r->mode, r->gpu, r->gpu, r->parent };
	}
	*ret_n = n;
	return held;
}

/* ---- steps: what to do next, what it changes, how to undo it (pure) ---- */

static bool has_step(const PartitionRecord *record, StepKind kind, const PciAddress *device)
{
	for (size_t i = 0; i < record->n_steps; i++)
		if (record->steps[i].kind == kind &&
		    (!device || pci_address_compare(&record->steps[i].device, device) == 0))
			return true;
	return false;
}

static bool types_hold(const MdevType *types, size_t n, const char *uuid)
{
	for (size_t i = 0; i < n; i++)
		if (strv_contains(types[i].instances, uuid))
			return true;
	return false;
}

/* Is there an mdev of this UUID, on any parent? (The kernel refuses a UUID twice.) */
static bool mdev_exists(const HostModel *model, const char *uuid)
{
	if (!uuid)
		return false;
	for (size_t i = 0; i < model->n_functions; i++)
		if (types_hold(model->functions[i].mdev_types, model->functions[i].n_mdev_types,
			       uuid))
			return true;
	for (size_t i = 0; i < model->n_mdev_parents; i++)
		if (types_hold(model->mdev_parents[i].mdev_types,
			       model->mdev_parents[i].n_mdev_types, uuid))
			return true;
	return false;
}

static const MdevType *find_type(const MdevType *types, size_t n, const char *id)
{
	for (size_t i = 0; id && i < n; i++)
		if (strcmp(types[i].id, id) == 0)
			return &types[i];
	return NULL;
}

/* The step that creates the mdev of the operation's type on `parent` (an address or a name). */
static int mdev_step(Operation *op, const char *parent, const MdevType *types, size_t n_types,
		     RecordStep *step, SysfsPlan *plan, char uuid[static 37])
{
	const MdevType *type = find_type(types, n_types, op->type);
	sd_id128_t id;

	if (!type || sd_id128_randomize(&id) < 0) {
		set_message(op, "The mdev type %s of %s vanished.", op->type, parent);
		return -ENODEV;
	}
	sd_id128_to_uuid_string(id, uuid);
	*step = (RecordStep){ .kind = STEP_MDEV_CREATE,
			      .device = op->record.gpu,
			      .parent = op->record.parent,
			      .uuid = uuid,
			      .type = type->id };
	return mdev_create_plan(parent, type, uuid, plan) < 0 ? -EINVAL : 1;
}

/* The step that binds `device` to vfio-pci; no writes when it is there already. */
static int bind_step(const PciFunction *device, RecordStep *step, SysfsPlan *plan)
{
	*step = (RecordStep){ .kind = STEP_BIND_VFIO,
			      .device = device->address,
			      .driver_before = device->driver };
	int r = vfio_bind_plan(device, plan);
	if (r == -EALREADY) {
		*plan = (SysfsPlan){ 0 };
		return 1;
	}
	return r < 0 ? r : 1;
}

/*
 * The next step of a creation, from what the record says is done and what the
 * host looks like now: 1 with the step and its plan, 0 when the partition is
 * complete, < 0 with op->message set when it cannot go on.
 */
static int next_create_step(PartitionEngine *engine, Operation *op, const HostModel *model,
			    RecordStep *step, SysfsPlan *plan, char uuid[static 37])
{
	const PartitionRecord *record = &op->record;
	const PciFunction *gpu = host_find_function(model, &record->gpu);
	char gpu_text[PCI_ADDRESS_TEXT_SIZE];

	if (record->parent) { /* an mdev parent outside PCI */
		const MdevParent *parent = host_find_mdev_parent(model, record->parent);
		if (has_step(record, STEP_MDEV_CREATE, NULL))
			return 0;
		if (!parent) {
			set_message(op,
				    "The mdev parent %s vanished while its partition was being "
				    "made.",
				    record->parent);
			return -ENODEV;
		}
		return mdev_step(op, parent->name, parent->mdev_types, parent->n_mdev_types, step,
				 plan, uuid);
	}
	pci_address_format(&record->gpu, gpu_text);
	if (!gpu) {
		set_message(op, "The GPU %s vanished while its partition was being made.",
			    gpu_text);
		return -ENODEV;
	}

	if (record->mode == PARTITION_MDEV) {
		if (has_step(record, STEP_MDEV_CREATE, NULL))
			return 0;
		return mdev_step(op, gpu->address_text, gpu->mdev_types, gpu->n_mdev_types, step,
				 plan, uuid);
	}

	if (record->mode == PARTITION_SRIOV) {
		if (gpu->sriov_num_vfs == 0 && !has_step(record, STEP_SRIOV_NUMVFS, NULL)) {
			unsigned count =
				op->request.vfs_to_enable && op->request.vfs_to_enable <
								     (unsigned)gpu->sriov_total_vfs
					? op->request.vfs_to_enable
					: (unsigned)gpu->sriov_total_vfs;
			int autoprobe_off;
			switch (sriov_set_count_plan(gpu, count, 0, -1, plan, &autoprobe_off)) {
			case SRIOV_OK:
				break;
			case SRIOV_NO_PF_DRIVER:
				set_message(op,
					    "%s has no driver, and only its driver can create VFs: "
					    "load and bind it first.",
					    gpu_text);
				return -ENXIO;
			default:
				set_message(op, "%s cannot enable %u VFs.", gpu_text, count);
				return -EINVAL;
			}
			/* Written down before it changes: the release puts it back. */
			if (autoprobe_off >= 0 &&
			    autoprobe_records_add(&engine->autoprobe, &gpu->address,
						  autoprobe_off) < 0) {
				set_message(op,
					    "The sriov_drivers_autoprobe of %s cannot be written "
					    "down, so it is left as it is.",
					    gpu_text);
				return -EIO;
			}
			*step = (RecordStep){ .kind = STEP_SRIOV_NUMVFS,
					      .device = gpu->address,
					      .value_before = 0,
					      .value_after = count };
			return 1;
		}
		if (has_step(record, STEP_BIND_VFIO, NULL))
			return 0;
		if (op->vf_known) {
			const PciFunction *vf = host_find_function(model, &op->vf);
			if (!vf) {
				set_message(op, "The VF chosen on %s vanished.", gpu_text);
				return -ENODEV;
			}
			return bind_step(vf, step, plan);
		}
		/* VFs just enabled: choose one of them now. */
		size_t n_held = 0;
		_cleanup_free_ HeldPartition *held = held_partitions(engine, NULL, &n_held);
		PartitionRequest request = { .mode = PARTITION_SRIOV,
					     .has_address = true,
					     .address = gpu->address,
					     .preferred_node = -1 };
		AllocationChoice choice;
		AllocSubject where;
		if (!held)
			return -ENOMEM;
		if (alloc_choose(model, held, n_held, &request, &choice, &where) != ALLOC_OK ||
		    !choice.vf_known) {
			set_message(op, "No VF of %s is free.", gpu_text);
			return -ENOSPC;
		}
		return bind_step(host_find_function(model, &choice.vf), step, plan);
	}

	/* Passthrough: every member of the group but bridges. */
	const IommuGroup *group = host_find_group(model, gpu->iommu_group);
	for (size_t i = 0; group && i < group->n_members; i++) {
		const PciFunction *m = host_find_function(model, &group->members[i]);
		if (m && !pci_function_is_bridge(m) &&
		    !has_step(record, STEP_BIND_VFIO, &m->address))
			return bind_step(m, step, plan);
	}
	return 0;
}

/* Did the step's change happen? Checked on a model read after it. */
static bool step_took_effect(const RecordStep *step, const HostModel *model)
{
	const PciFunction *f = host_find_function(model, &step->device);
	switch (step->kind) {
	case STEP_MDEV_CREATE:
		return mdev_exists(model, step->uuid);
	case STEP_SRIOV_NUMVFS:
		return f && f->sriov_num_vfs == step->value_after;
	case STEP_BIND_VFIO:
		return f && vfio_is_bound(f);
	default:
		return true;
	}
}

/*
 * The autoprobe an SR-IOV step puts back: its PF's record; or, in a record a
 * libvfiod before autoprobe_record.h wrote, the "0" or "1" that it kept in
 * the step's overrideBefore. -1: none (autoprobe was off already).
 */
static int autoprobe_to_restore(const PartitionEngine *engine, const RecordStep *step)
{
	int before = autoprobe_records_find(&engine->autoprobe, &step->device);
	if (before >= 0)
		return before;
	if (step->override_before &&
	    (strcmp(step->override_before, "0") == 0 || strcmp(step->override_before, "1") == 0))
		return step->override_before[0] - '0';
	return -1;
}

/*
 * The writes that undo a step, as the host is now; no writes when nothing is
 * left to undo, or when the VFs of a released SR-IOV partition are kept
 * (`keep`: on vfio-pci, for the next partition). `autoprobe_before`: what
 * an SR-IOV step puts back, -1 for nothing.
 */
static int undo_plan(const RecordStep *step, const HostModel *model, bool keep,
		     int autoprobe_before, SysfsPlan *plan)
{
	const PciFunction *f = host_find_function(model, &step->device);

	*plan = (SysfsPlan){ 0 };
	if (keep && (step->kind == STEP_SRIOV_NUMVFS || step->kind == STEP_BIND_VFIO))
		return 0;
	switch (step->kind) {
	case STEP_MDEV_CREATE:
		return mdev_exists(model, step->uuid) ? mdev_remove_plan(step->uuid, plan) : 0;
	case STEP_SRIOV_NUMVFS:
		return f ? sriov_restore_plan(f, (unsigned)step->value_before, autoprobe_before,
					      plan)
			 : 0;
	case STEP_BIND_VFIO:
		/* It was on vfio-pci before us: leave it. A vanished device has nothing to undo. */
		if (!f ||
		    (step->driver_before && strcmp(step->driver_before, VFIO_PCI_DRIVER) == 0))
			return 0;
		if (vfio_is_bound(f))
			return vfio_restore_plan(f, NULL, step->driver_before != NULL, plan);
		/*
		 * Not on vfio-pci: the bind stopped part-way. The override may be set, and the
		 * device may have lost its driver: clear the one, probe for the other.
		 */
		if (sysfs_plan_add(plan, "\n", "sys/bus/pci/devices/%s/driver_override",
				   f->address_text) < 0)
			return -EINVAL;
		if (!f->driver && step->driver_before &&
		    sysfs_plan_add(plan, f->address_text, "sys/bus/pci/drivers_probe") < 0)
			return -EINVAL;
		return 0;
	default:
		return 0;
	}
}

/* ---- running operations ---- */

static void operation_step(PartitionEngine *engine, Operation *op);
static void operation_undo_next(PartitionEngine *engine, Operation *op);

static int save(PartitionEngine *engine, Operation *op)
{
	int r = partition_record_save(engine->directory, &op->record);
	if (r < 0)
		log_error_errno(r, "Cannot write the record of partition %s", op->record.id);
	return r;
}

/* Tells the caller how the operation went: once, whatever happens after. */
static void operation_report(Operation *op, const PartitionOutcome *outcome)
{
	if (op->reported)
		return;
	op->reported = true;
	if (op->callback) /* none when nobody waits (a VM's leftovers released at start) */
		op->callback(outcome, op->userdata);
}

static void operation_finish(PartitionEngine *engine, Operation *op, int result);

/*
 * Ends the operation with a reason nothing fits: the allocator's sentence for
 * it, unless the engine wrote a more precise one already.
 */
static void operation_refuse(PartitionEngine *engine, Operation *op, const HostModel *model,
			     AllocError error, const AllocSubject *about, int result)
{
	char address[PCI_ADDRESS_TEXT_SIZE];

	op->alloc_error = error;
	op->alloc_gpu = about->gpu;
	if (about->parent)
		snprintf(op->alloc_parent, sizeof(op->alloc_parent), "%s", about->parent);
	if (!op->message[0])
		alloc_error_sentence(error, model,
				     about->parent ? about->parent
						   : pci_address_format(&about->gpu, address),
				     !about->parent, op->message, sizeof(op->message));
	operation_finish(engine, op, result);
}

/* Ends the running operation: reports (unless a stuck write did), frees it, starts the next. */
static void operation_finish(PartitionEngine *engine, Operation *op, int result)
{
	/* Every failure has its sentence: a caller never shows an empty one. */
	if (result < 0 && !op->message[0])
		set_message(op, "The partition operation failed: %s.", strerror(-result));
	PartitionOutcome outcome = { .result = result,
				     .error = op->alloc_error,
				     .gpu = op->alloc_gpu,
				     .parent = op->alloc_parent[0] ? op->alloc_parent : NULL,
				     .record = result >= 0 ? &op->record : NULL,
				     .message = result < 0 ? op->message : NULL };
	LogField fields[2];

	if (result >= 0 && op->kind == OPERATION_CREATE) {
		log_full_errno_fields(LOG_INFO, 0, partition_fields(&op->record, fields), 2,
				      "Partition %s created for %s", op->record.id,
				      op->record.holder);
		/*
		 * Held before it is reported, so that the callback may already
		 * release it (a VM whose start fails right after). The record
		 * moves into the engine's list: the outcome points there.
		 */
		char id[PARTITION_ID_MAX + 1];
		snprintf(id, sizeof(id), "%s", op->record.id);
		if (engine_hold(engine, &op->record) < 0)
			log_error("Out of memory: partition %s is no longer listed", op->record.id);
		else
			outcome.record = engine_find(engine, id);
		operation_report(op, &outcome);
	} else {
		/* A VF count is no partition: on_vfs_written() logs what changed. */
		if (result >= 0 && op->kind == OPERATION_DESTROY)
			log_full_errno_fields(LOG_INFO, 0, partition_fields(&op->record, fields), 2,
					      "Partition %s released", op->record.id);
		operation_report(op, &outcome);
	}
	engine->queue = op->next;
	operation_free(op);
	if (engine->queue)
		(void)sd_event_source_set_enabled(engine->kick, SD_EVENT_ONESHOT);
}

/* Starts undoing, from the last step back; `failure` is what went wrong (0 for a release). */
static void operation_undo(PartitionEngine *engine, Operation *op, int failure)
{
	op->undoing = true;
	op->failure = failure;
	op->undo_left = op->record.n_steps;
	op->record.active = false;
	(void)save(engine, op);
	operation_undo_next(engine, op);
}

/*
 * An SR-IOV step is undone, its PF's autoprobe put back as recorded (or found
 * so): the record has served. Left behind, the next start puts it back again.
 */
static void forget_autoprobe(PartitionEngine *engine, const PciAddress *pf)
{
	char address[PCI_ADDRESS_TEXT_SIZE];
	int r = autoprobe_records_remove(&engine->autoprobe, pf);
	if (r < 0)
		log_full_errno_fields(
			LOG_WARNING, r,
			LOG_FIELDS({ "LIBVFIO_PCI", pci_address_format(pf, address) }),
			"Cannot remove the autoprobe record of %s", address);
}

static void undo_step_done(Operation *op, RecordStep *step, int result)
{
	PartitionEngine *engine = op->engine;
	char device[PCI_ADDRESS_TEXT_SIZE];

	if (result < 0) {
		/* Left as it is in the record: the next start tries again. */
		op->undo_failed = true;
		log_error_errno(result, "Cannot undo %s of %s for partition %s",
				step_kind_to_string(step->kind),
				step->parent ? step->parent
					     : pci_address_format(&step->device, device),
				op->record.id);
	} else {
		step->state = STEP_UNDONE;
		(void)save(engine, op);
		if (step->kind == STEP_SRIOV_NUMVFS)
			forget_autoprobe(engine, &step->device);
	}
	operation_undo_next(engine, op);
}

/*
 * A write is past its timeout: tell the caller now, so nobody waits on a stuck
 * driver. The operation itself goes on when the write ends (it usually lands
 * in the end), and undoes what it changed from there.
 */
static void on_stuck(size_t index, void *userdata)
{
	Operation *op = userdata;
	PartitionOutcome outcome = { .result = -ETIMEDOUT, .message = op->message };

	op->stuck = true;
	if (op->reported)
		return;
	set_message(op,
		    "A sysfs write for partition %s did not answer in time (limits.sysfs-write-"
		    "timeout); what was done is undone once it ends. See the log (journalctl -u "
		    "libvfiod).",
		    op->record.id);
	operation_report(op, &outcome);
}

static void on_undo_written(int result, size_t failed, void *userdata)
{
	Operation *op = userdata;
	if (result == -ECANCELED)
		return; /* the engine is going away; the record stays for the next start */
	undo_step_done(op, &op->record.steps[op->undo_left], result);
}

/*
 * The VFs this SR-IOV step enabled carry other partitions too: rather than
 * remove them under those, hand the step to one of them, to be undone when
 * the last one goes. True when handed over (and saved).
 */
static bool hand_over_vfs(PartitionEngine *engine, const RecordStep *step)
{
	for (size_t i = 0; i < engine->n_records; i++) {
		PartitionRecord *other = &engine->records[i];
		if (other->mode != PARTITION_SRIOV ||
		    pci_address_compare(&other->gpu, &step->device) != 0 ||
		    !has_step(other, STEP_BIND_VFIO, NULL))
			continue;
		if (partition_record_take_over_step(other, step) < 0)
			return false;
		/* Unsaved, a restart forgets the step: the VFs then stay, which is safe. */
		int r = partition_record_save(engine->directory, other);
		if (r < 0)
			log_error_errno(r, "Cannot write the record of partition %s", other->id);
		log_info("The VFs stay: partition %s, which uses one, releases them when it goes",
			 other->id);
		return true;
	}
	return false;
}

static void operation_undo_next(PartitionEngine *engine, Operation *op)
{
	while (op->undo_left > 0) {
		RecordStep *step = &op->record.steps[--op->undo_left];
		const HostModel *model;
		SysfsPlan plan;

		if (step->state == STEP_UNDONE)
			continue;
		if (step->kind == STEP_SRIOV_NUMVFS && !engine->keep_vfs &&
		    hand_over_vfs(engine, step)) {
			step->state = STEP_UNDONE;
			(void)save(engine, op);
			continue;
		}
		bool keep = engine->keep_vfs && op->kind == OPERATION_DESTROY && !op->leftover &&
			    op->record.mode == PARTITION_SRIOV;
		int r = host_cache_model(engine->host, true, &model);
		if (r >= 0)
			r = undo_plan(step, model, keep, autoprobe_to_restore(engine, step), &plan);
		if (r >= 0 && plan.n_writes == 0) {
			step->state = STEP_UNDONE;
			(void)save(engine, op);
			/* Kept VFs keep autoprobe off, and its record, for whoever removes them. */
			if (step->kind == STEP_SRIOV_NUMVFS && !keep)
				forget_autoprobe(engine, &step->device);
			continue;
		}
		if (r >= 0)
			r = sysfs_plan_run(engine->writer, host_cache_root(engine->host), &plan,
					   engine->write_timeout_usec, on_undo_written, on_stuck,
					   op);
		if (r >= 0)
			return; /* on_undo_written goes on */
		undo_step_done(op, step, r);
		return;
	}

	/* Every step looked at. */
	if (!op->undo_failed) {
		(void)partition_record_remove(engine->directory, op->record.id);
		operation_finish(engine, op, op->failure < 0 ? op->failure : 0);
		return;
	}
	if (op->failure >= 0)
		set_message(op,
			    "Partition %s could not be released completely; see the log "
			    "(journalctl -u libvfiod). Destroy it again, or libvfiod tries again "
			    "when it restarts.",
			    op->record.id);
	/*
	 * Still held: its devices may be where the failed steps left them. It stays
	 * listed (and recorded), and a Destroy undoes what is left.
	 */
	op->record.active = false;
	if (engine_hold(engine, &op->record) < 0)
		log_error("Out of memory: partition %s is no longer listed", op->record.id);
	operation_finish(engine, op, op->failure < 0 ? op->failure : -EIO);
}

/* A creation failed after changes were made: undo them, then report `failure`. */
static void create_failed(Operation *op, int failure)
{
	LogField fields[2];
	log_full_errno_fields(LOG_WARNING, failure, partition_fields(&op->record, fields), 2,
			      "Creating partition %s failed, undoing it: %s", op->record.id,
			      op->message);
	operation_undo(op->engine, op, failure);
}

static void on_step_written(int result, size_t failed, void *userdata)
{
	Operation *op = userdata;
	PartitionEngine *engine = op->engine;
	RecordStep *step = &op->record.steps[op->record.n_steps - 1];

	if (result == -ECANCELED)
		return; /* the engine is going away; the record stays for the next start */
	const HostModel *model;
	char address[PCI_ADDRESS_TEXT_SIZE];
	const char *device =
		step->parent ? step->parent : pci_address_format(&step->device, address);

	if (result == -ENODEV) {
		set_message(op,
			    "%s vanished during %s (was it unplugged or its driver removed?). "
			    "'vfioctl gpus' shows what is there now.",
			    device, step_kind_to_string(step->kind));
		create_failed(op, result);
		return;
	}
	if (result < 0) {
		set_message(op, "The kernel refused %s on %s (%s).",
			    step_kind_to_string(step->kind), device,
			    result == -ETIMEDOUT ? "it did not answer in time" : strerror(-result));
		create_failed(op, result);
		return;
	}
	int r = host_cache_model(engine->host, true, &model);
	if (r < 0 || !step_took_effect(step, model)) {
		set_message(op, "The kernel accepted %s on %s, but it did not happen.",
			    step_kind_to_string(step->kind), device);
		create_failed(op, r < 0 ? r : -EIO);
		return;
	}
	step->state = STEP_DONE;
	(void)save(engine, op);
	operation_step(engine, op);
}

/* Takes the creation one step further, or completes it. */
static void operation_step(PartitionEngine *engine, Operation *op)
{
	const HostModel *model;
	RecordStep step;
	SysfsPlan plan = { 0 };
	char uuid[37];

	int r = host_cache_model(engine->host, true, &model);
	if (r >= 0)
		r = next_create_step(engine, op, model, &step, &plan, uuid);
	if (r == 0) {
		op->record.active = true;
		r = save(engine, op);
		if (r >= 0) {
			operation_finish(engine, op, 0);
			return;
		}
		set_message(op, "The partition's record cannot be written: %s.", strerror(-r));
	}
	if (r < 0) {
		if (!op->message[0])
			set_message(op, "The partition cannot be made: %s.", strerror(-r));
		create_failed(op, r);
		return;
	}

	/* Written down before it is made. */
	r = partition_record_add_step(&op->record, &step);
	if (r >= 0)
		r = save(engine, op);
	if (r < 0) {
		set_message(op, "The partition's record cannot be written: %s.", strerror(-r));
		create_failed(op, r);
		return;
	}
	if (plan.n_writes == 0) {
		on_step_written(0, 0, op); /* nothing to write: already so */
		return;
	}
	r = sysfs_plan_run(engine->writer, host_cache_root(engine->host), &plan,
			   engine->write_timeout_usec, on_step_written, on_stuck, op);
	if (r < 0)
		on_step_written(r, 0, op);
}

/*
 * Passthrough unbinds every device of the group from its host driver: true
 * (with the sentence set) when a host program holds one open. When the
 * processes cannot be listed, that is logged and the request goes on.
 */
static bool group_in_use(PartitionEngine *engine, Operation *op, const HostModel *model,
			 const PciAddress *gpu)
{
	const PciFunction *f = host_find_function(model, gpu);
	const IommuGroup *group = f ? host_find_group(model, f->iommu_group) : NULL;
	_cleanup_free_ PciAddress *devices = NULL;
	size_t n = 0;
	DeviceUser user;
	char address[PCI_ADDRESS_TEXT_SIZE];

	if (!group || !(devices = calloc(group->n_members, sizeof(PciAddress))))
		return false;
	for (size_t i = 0; i < group->n_members; i++) {
		const PciFunction *m = host_find_function(model, &group->members[i]);
		if (m && !pci_function_is_bridge(m))
			devices[n++] = m->address;
	}
	int r = device_users_find(host_cache_root(engine->host), devices, n, &user);
	if (r < 0)
		log_warning_errno(r, "Cannot tell whether a program uses %s; passing it through",
				  pci_address_format(gpu, address));
	if (r <= 0)
		return false;
	set_message(op,
		    "%s is in use on the host: %s (PID %d) has %s open. Close that program "
		    "(or log out of a desktop running on it), or add --force (force: true) to "
		    "take it anyway.",
		    pci_address_format(&user.device, address), user.command, (int)user.pid,
		    user.node);
	return true;
}

static void operation_start_create(PartitionEngine *engine, Operation *op)
{
	const HostModel *model;
	AllocationChoice choice;
	AllocSubject where = { 0 };
	size_t n_held = 0;

	int r = host_cache_model(engine->host, true, &model);
	_cleanup_free_ HeldPartition *held = r >= 0 ? held_partitions(engine, NULL, &n_held) : NULL;
	if (r < 0 || !held) {
		set_message(op, "The host cannot be read.");
		operation_finish(engine, op, r < 0 ? r : -ENOMEM);
		return;
	}
	AllocError error = alloc_choose(model, held, n_held, &op->request, &choice, &where);
	if (error != ALLOC_OK) {
		if (op->request.has_address)
			where.gpu = op->request.address;
		if (op->request.parent)
			where.parent = op->request.parent;
		operation_refuse(engine, op, model, error, &where, -EINVAL);
		return;
	}
	if (op->request.mode == PARTITION_PASSTHROUGH && !op->request.force &&
	    group_in_use(engine, op, model, &choice.gpu)) {
		operation_refuse(engine, op, model, ALLOC_DEVICE_IN_USE,
				 &(AllocSubject){ .gpu = choice.gpu }, -EBUSY);
		return;
	}

	sd_id128_t id;
	if (sd_id128_randomize(&id) < 0) {
		operation_finish(engine, op, -EIO);
		return;
	}
	snprintf(op->record.id, sizeof(op->record.id), "%s-%.12s",
		 partition_mode_to_string(op->request.mode), SD_ID128_TO_STRING(id));
	op->record.mode = op->request.mode;
	op->record.gpu = choice.gpu;
	if (choice.parent && !(op->record.parent = strdup(choice.parent->name))) {
		operation_finish(engine, op, -ENOMEM);
		return;
	}
	op->vf = choice.vf;
	op->vf_known = choice.vf_known;
	if (choice.type) {
		free(op->type);
		op->type = strdup(choice.type->id);
		if (!op->type) {
			operation_finish(engine, op, -ENOMEM);
			return;
		}
	}
	r = save(engine, op);
	if (r < 0) {
		set_message(op, "The partition's record cannot be written: %s.", strerror(-r));
		operation_finish(engine, op, r);
		return;
	}
	operation_step(engine, op);
}

static void on_vfs_written(int result, size_t failed, void *userdata)
{
	Operation *op = userdata;
	const HostModel *model;
	char address[PCI_ADDRESS_TEXT_SIZE];

	if (result == -ECANCELED)
		return;
	pci_address_format(&op->target, address);
	if (result < 0) {
		set_message(op, "The kernel refused to change the VFs of %s (%s).", address,
			    result == -ETIMEDOUT ? "it did not answer in time" : strerror(-result));
		operation_finish(op->engine, op, result);
		return;
	}
	int r = host_cache_model(op->engine->host, true, &model);
	const PciFunction *pf = r >= 0 ? host_find_function(model, &op->target) : NULL;
	if (!pf || pf->sriov_num_vfs != (int)op->count) {
		set_message(op, "The kernel accepted %u VFs for %s, but they did not appear.",
			    op->count, address);
		operation_finish(op->engine, op, -EIO);
		return;
	}
	int before = autoprobe_records_find(&op->engine->autoprobe, &op->target);
	if (op->count == 0 && before >= 0) {
		log_struct(LOG_INFO, LOG_FIELDS({ "LIBVFIO_PCI", address }),
			   "%s now has 0 VFs and sriov_drivers_autoprobe %d again, as before "
			   "libvfio turned it off",
			   address, before);
		forget_autoprobe(op->engine, &op->target);
	} else
		log_struct(LOG_INFO, LOG_FIELDS({ "LIBVFIO_PCI", address }), "%s now has %u VFs",
			   address, op->count);
	operation_finish(op->engine, op, 0);
}

static void operation_start_set_vfs(PartitionEngine *engine, Operation *op)
{
	const HostModel *model;
	char address[PCI_ADDRESS_TEXT_SIZE];
	size_t n_held = 0, in_use = 0;
	SysfsPlan plan;

	pci_address_format(&op->target, address);
	int r = host_cache_model(engine->host, true, &model);
	_cleanup_free_ HeldPartition *held = r >= 0 ? held_partitions(engine, NULL, &n_held) : NULL;
	if (!held) {
		set_message(op, "The host cannot be read.");
		operation_finish(engine, op, r < 0 ? r : -ENOMEM);
		return;
	}
	const PciFunction *pf = host_find_function(model, &op->target);
	int autoprobe_before = autoprobe_records_find(&engine->autoprobe, &op->target);
	if (op->leftover && (!pf || pf->sriov_num_vfs > 0)) {
		/* At start: VFs left on the PF keep autoprobe off; a PF gone took it along. */
		if (!pf)
			forget_autoprobe(engine, &op->target);
		operation_finish(engine, op, 0);
		return;
	}
	if (!pf || !pci_function_is_gpu(pf)) {
		operation_refuse(engine, op, model, pf ? ALLOC_NOT_A_GPU : ALLOC_NO_SUCH_GPU,
				 &(AllocSubject){ .gpu = op->target }, -EINVAL);
		return;
	}
	for (size_t i = 0; i < pf->n_vfs; i++) {
		const PciFunction *vf = host_find_function(model, &pf->vfs[i]);
		bool ours = false;
		for (size_t k = 0; k < n_held && !ours; k++)
			ours = pci_address_compare(&held[k].device, &pf->vfs[i]) == 0;
		in_use += ours || (vf && vf_is_in_use(vf));
	}
	int autoprobe_off;
	switch (sriov_set_count_plan(pf, op->count, in_use, MAX(autoprobe_before, -1), &plan,
				     &autoprobe_off)) {
	case SRIOV_OK:
		break;
	case SRIOV_NOT_CAPABLE:
		set_message(op, "%s has no SR-IOV capability.", address);
		operation_refuse(engine, op, model, ALLOC_MODE_UNSUPPORTED,
				 &(AllocSubject){ .gpu = op->target }, -EINVAL);
		return;
	case SRIOV_TOO_MANY:
		set_message(op, "%s supports %d VFs at most.", address, pf->sriov_total_vfs);
		operation_finish(engine, op, -EINVAL);
		return;
	case SRIOV_NO_PF_DRIVER:
		set_message(op,
			    "%s has no driver, and only its driver can create VFs: load and bind "
			    "it first.",
			    address);
		operation_finish(engine, op, -ENXIO);
		return;
	case SRIOV_VFS_IN_USE:
		set_message(op,
			    "VFs of %s are in use; changing the count removes every VF. Destroy "
			    "their partitions first.",
			    address);
		operation_refuse(engine, op, model, ALLOC_HELD,
				 &(AllocSubject){ .gpu = op->target }, -EBUSY);
		return;
	}
	/* Written down before it changes: a count of 0 puts it back, here or at the next start. */
	if (autoprobe_off >= 0) {
		r = autoprobe_records_add(&engine->autoprobe, &op->target, autoprobe_off);
		if (r < 0) {
			set_message(
				op,
				"The sriov_drivers_autoprobe of %s cannot be written down (%s), "
				"so its VFs are left as they are.",
				address, strerror(-r));
			operation_finish(engine, op, r);
			return;
		}
	}
	if (plan.n_writes == 0) {
		if (op->count == 0) /* no VFs, and autoprobe as recorded already */
			forget_autoprobe(engine, &op->target);
		operation_finish(engine, op, 0);
		return;
	}
	r = sysfs_plan_run(engine->writer, host_cache_root(engine->host), &plan,
			   engine->write_timeout_usec, on_vfs_written, on_stuck, op);
	if (r < 0)
		on_vfs_written(r, 0, op);
}

static int on_kick(sd_event_source *source, void *userdata)
{
	PartitionEngine *engine = userdata;
	Operation *op = engine->queue;

	if (!op)
		return 0;
	switch (op->kind) {
	case OPERATION_DESTROY:
		operation_undo(engine, op, 0);
		break;
	case OPERATION_SET_VFS:
		operation_start_set_vfs(engine, op);
		break;
	default:
		operation_start_create(engine, op);
	}
	return 0;
}

static void enqueue(PartitionEngine *engine, Operation *op)
{
	Operation **tail = &engine->queue;
	bool idle = !engine->queue;
	while (*tail)
		tail = &(*tail)->next;
	*tail = op;
	if (idle)
		(void)sd_event_source_set_enabled(engine->kick, SD_EVENT_ONESHOT);
}

int partition_engine_create(PartitionEngine *engine, const PartitionRequest *request,
			    const char *holder, PartitionCallback callback, void *userdata)
{
	Operation *op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	*op = (Operation){
		.engine = engine, .request = *request, .callback = callback, .userdata = userdata
	};
	op->record.holder = strdup(holder);
	op->type = request->type ? strdup(request->type) : NULL;
	op->parent = request->parent ? strdup(request->parent) : NULL;
	if (!op->record.holder || (request->type && !op->type) ||
	    (request->parent && !op->parent)) {
		operation_free(op);
		return -ENOMEM;
	}
	op->request.type = op->type;
	op->request.parent = op->parent;
	enqueue(engine, op);
	return 0;
}

int partition_engine_destroy(PartitionEngine *engine, const char *id, PartitionCallback callback,
			     void *userdata)
{
	PartitionRecord *record = engine_find(engine, id);
	if (!record)
		return -ENOENT;
	Operation *op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	*op = (Operation){ .engine = engine,
			   .kind = OPERATION_DESTROY,
			   .callback = callback,
			   .userdata = userdata };
	/* No longer handed out from now on; the record on disk stays until it is undone. */
	engine_release(engine, record, &op->record);
	enqueue(engine, op);
	return 0;
}

int partition_engine_set_vf_count(PartitionEngine *engine, const PciAddress *gpu, unsigned count,
				  PartitionCallback callback, void *userdata)
{
	Operation *op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	*op = (Operation){ .engine = engine,
			   .kind = OPERATION_SET_VFS,
			   .target = *gpu,
			   .count = count,
			   .callback = callback,
			   .userdata = userdata };
	enqueue(engine, op);
	return 0;
}

/* ---- start ---- */

/*
 * Runs the loop until the undo operations queued at start are done, so that
 * clients find the host as it should be; but not past a write that is stuck
 * (the kernel may never answer): the rest then goes on while clients are
 * served. False when the loop was told to exit meanwhile.
 */
static bool finish_leftovers(PartitionEngine *engine)
{
	while (engine->queue && !engine->queue->stuck) {
		int state = sd_event_get_state(engine->event);
		if (state == SD_EVENT_FINISHED || state == SD_EVENT_EXITING)
			return false;
		if (sd_event_run(engine->event, UINT64_MAX) < 0)
			return false;
	}
	if (engine->queue)
		log_warning("Undoing partition %s is stuck in the kernel; serving clients "
			    "meanwhile, it goes on when the write returns",
			    engine->queue->record.id);
	return true;
}

/*
 * Queues, after the partitions' undo, a check of each PF whose autoprobe
 * libvfio turned off: one left with no VFs (a daemon died between the writes,
 * or the last VF went while none ran) gets it back. One with VFs keeps it off.
 */
static int reconcile_autoprobe(PartitionEngine *engine)
{
	const char *directory = engine->autoprobe_directory;
	char **problems = NULL;

	autoprobe_records_done(&engine->autoprobe);
	int r = autoprobe_records_load(&engine->autoprobe, directory, &problems);
	for (size_t i = 0; problems && problems[i]; i++)
		log_warning("Autoprobe records: %s", problems[i]);
	strv_free(problems);
	if (r < 0)
		return log_error_errno(r, "Cannot read the autoprobe records in %s", directory);
	for (size_t i = 0; i < engine->autoprobe.n_records; i++) {
		Operation *op = calloc(1, sizeof(*op));
		if (!op)
			return -ENOMEM;
		*op = (Operation){ .engine = engine,
				   .kind = OPERATION_SET_VFS,
				   .target = engine->autoprobe.records[i].pf,
				   .count = 0,
				   .leftover = true };
		enqueue(engine, op);
	}
	return 0;
}

int partition_engine_reconcile(PartitionEngine *engine)
{
	PartitionRecord *records = NULL;
	char **problems = NULL;
	size_t n = 0;

	int r = partition_record_load_all(engine->directory, &records, &n, &problems);
	for (size_t i = 0; problems && problems[i]; i++)
		log_warning("Partition records: %s", problems[i]);
	strv_free(problems);
	if (r < 0)
		return log_error_errno(r, "Cannot read the partition records in %s",
				       engine->directory);

	for (size_t i = 0; i < n; i++) {
		PartitionRecord *record = &records[i];
		LogField fields[2];
		/*
		 * A finished partition is adopted: a manual one lives until Destroy,
		 * a VM's is kept or released by the VM manager, which knows whether
		 * its QEMU still runs.
		 */
		if (record->active) {
			log_full_errno_fields(LOG_INFO, 0, partition_fields(record, fields), 2,
					      "Adopted partition %s", record->id);
			if (engine_hold(engine, record) < 0)
				r = -ENOMEM;
			continue;
		}
		log_full_errno_fields(
			LOG_NOTICE, 0, partition_fields(record, fields), 2,
			"Undoing partition %s, left unfinished by a previous libvfiod", record->id);
		/* A normal release (off the loop, with the write timeout), in full. */
		Operation *op = calloc(1, sizeof(*op));
		if (!op) {
			r = -ENOMEM;
			continue;
		}
		*op = (Operation){ .engine = engine, .kind = OPERATION_DESTROY, .leftover = true };
		op->record = *record;
		*record = (PartitionRecord){ 0 };
		enqueue(engine, op);
	}
	for (size_t i = 0; i < n; i++)
		partition_record_done(&records[i]);
	free(records);
	if (r >= 0)
		r = reconcile_autoprobe(engine);
	if (r >= 0 && !finish_leftovers(engine))
		r = -ECANCELED;
	return r;
}

int partition_engine_new(sd_event *event, HostCache *host, const char *runtime_dir,
			 PartitionEngine **ret)
{
	PartitionEngine *engine = calloc(1, sizeof(*engine));
	if (!engine)
		return -ENOMEM;
	engine->event = sd_event_ref(event);
	engine->host = host;
	engine->write_timeout_usec = DEFAULT_WRITE_TIMEOUT_USEC;
	int r = asprintf(&engine->directory, "%s/partitions", runtime_dir) < 0 ||
				asprintf(&engine->autoprobe_directory, "%s/autoprobe",
					 runtime_dir) < 0
			? -ENOMEM
			: 0;
	if (r >= 0)
		r = sysfs_writer_new(event, &engine->writer);
	if (r >= 0)
		r = sd_event_add_defer(event, &engine->kick, on_kick, engine);
	if (r >= 0)
		r = sd_event_source_set_enabled(engine->kick, SD_EVENT_OFF);
	if (r < 0) {
		partition_engine_free(engine);
		return r;
	}
	*ret = engine;
	return 0;
}

void partition_engine_set_write_timeout(PartitionEngine *engine, uint64_t usec)
{
	engine->write_timeout_usec = usec;
}

void partition_engine_set_keep_vfs(PartitionEngine *engine, bool keep)
{
	engine->keep_vfs = keep;
}

PartitionEngine *partition_engine_free(PartitionEngine *engine)
{
	if (!engine)
		return NULL;
	/* Cancels the write under way (its callback sees -ECANCELED and must not go on). */
	Operation *queue = TAKE_PTR(engine->queue);
	engine->writer = sysfs_writer_free(engine->writer);
	while (queue) {
		Operation *next = queue->next;
		operation_free(queue);
		queue = next;
	}
	for (size_t i = 0; i < engine->n_records; i++)
		partition_record_done(&engine->records[i]);
	free(engine->records);
	autoprobe_records_done(&engine->autoprobe);
	sd_event_source_disable_unref(engine->kick);
	free(engine->directory);
	free(engine->autoprobe_directory);
	sd_event_unref(engine->event);
	free(engine);
	return NULL;
}
