/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Running one operation of the partition engine: a creation, one step of the
 * plan (partition_plan.h) after the other, each written down before it is
 * made and checked on a fresh host model after; an undo, from the last step
 * back; a VF count. Writes run off the loop (sysfs_plan.h) and report back
 * here; the caller hears once, of the outcome or of a stuck write.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-id128.h>

#include "base/log.h"
#include "host/device_users.h"
#include "host/sriov.h"
#include "macro.h"
#include "partitions/engine_internal.h"
#include "partitions/partition_plan.h"

_printf_(2, 3) static void set_message(Operation *op, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	vsnprintf(op->message, sizeof(op->message), format, ap);
	va_end(ap);
}

const LogField *partition_log_fields(const PartitionRecord *record, LogField fields[2])
{
	static __thread char gpu[PCI_ADDRESS_TEXT_SIZE];
	fields[0] = (LogField){ "LIBVFIO_PARTITION", record->id };
	fields[1] = record->parent
			    ? (LogField){ "LIBVFIO_MDEV_PARENT", record->parent }
			    : (LogField){ "LIBVFIO_PCI", pci_address_format(&record->gpu, gpu) };
	return fields;
}

const LogField *partition_event_fields(const PartitionRecord *record, const char *message_id,
				       LogField fields[3])
{
	(void)partition_log_fields(record, fields);
	fields[2] = (LogField){ "MESSAGE_ID", message_id };
	return fields;
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
	LogField fields[3];

	if (result >= 0 && op->kind == OPERATION_CREATE) {
		log_full_errno_fields(
			LOG_INFO, 0,
			partition_event_fields(&op->record, MESSAGE_ID_PARTITION_CREATED, fields),
			3, "Partition %s created for %s", op->record.id, op->record.holder);
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
			log_full_errno_fields(LOG_INFO, 0,
					      partition_event_fields(&op->record,
								     MESSAGE_ID_PARTITION_RELEASED,
								     fields),
					      3, "Partition %s released", op->record.id);
		operation_report(op, &outcome);
	}
	engine->queue = op->next;
	operation_free(op);
	if (engine->queue)
		(void)sd_event_source_set_enabled(engine->kick, SD_EVENT_ONESHOT);
}

/*
 * Goes on in `then` once the host is read anew, off the loop (after a write
 * of the engine, or before an undo). Out of memory: at once with the error.
 */
static void wait_for_model(PartitionEngine *engine, Operation *op, HostModelCallback then)
{
	int r = host_cache_refresh(engine->host, then, op, &op->host_wait);
	if (r < 0)
		then(NULL, r, op);
}

static void on_undo_model(const HostModel *model, int result, void *userdata)
{
	Operation *op = userdata;
	op->host_wait = NULL;
	if (result != -ECANCELED)
		operation_undo_next(op->engine, op);
}

/* Starts undoing, from the last step back; `failure` is what went wrong (0 for a release). */
void operation_undo(PartitionEngine *engine, Operation *op, int failure)
{
	op->failure = failure;
	op->undo_left = op->record.n_steps;
	op->record.active = false;
	(void)save(engine, op);
	/* What a failed step half did is read before the undo plans from it. */
	wait_for_model(engine, op, on_undo_model);
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

static void on_undo_step_model(const HostModel *model, int result, void *userdata)
{
	Operation *op = userdata;
	op->host_wait = NULL;
	if (result == -ECANCELED)
		return;
	undo_step_done(op, &op->record.steps[op->undo_left], result < 0 ? result : 0);
}

static void on_undo_written(int result, size_t failed, void *userdata)
{
	Operation *op = userdata;
	if (result == -ECANCELED)
		return; /* the engine is going away; the record stays for the next start */
	if (result < 0) {
		host_cache_mark_stale(op->engine->host); /* a plan may have half run */
		undo_step_done(op, &op->record.steps[op->undo_left], result);
		return;
	}
	/* The next step is planned from the host as this one left it. */
	wait_for_model(op->engine, op, on_undo_step_model);
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
		    !partition_record_has_step(other, STEP_BIND_VFIO, NULL))
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
	for (int i; (i = partition_undo_next(&op->record, &op->undo_left)) >= 0;) {
		RecordStep *step = &op->record.steps[i];
		const HostModel *model;
		SysfsPlan plan;

		if (step->kind == STEP_SRIOV_NUMVFS && !engine->keep_vfs &&
		    hand_over_vfs(engine, step)) {
			step->state = STEP_UNDONE;
			(void)save(engine, op);
			continue;
		}
		bool keep = engine->keep_vfs && op->kind == OPERATION_DESTROY && !op->leftover &&
			    op->record.mode == PARTITION_SRIOV;
		int r = host_cache_model(engine->host, false, &model);
		if (r >= 0)
			r = partition_undo_plan(step, model, keep,
						partition_undo_autoprobe(&engine->autoprobe, step),
						&plan);
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
	log_full_errno_fields(LOG_WARNING, failure, partition_log_fields(&op->record, fields), 2,
			      "Creating partition %s failed, undoing it: %s", op->record.id,
			      op->message);
	operation_undo(op->engine, op, failure);
}

static void on_step_model(const HostModel *model, int result, void *userdata)
{
	Operation *op = userdata;
	RecordStep *step = &op->record.steps[op->record.n_steps - 1];
	char address[PCI_ADDRESS_TEXT_SIZE];
	const char *device =
		step->parent ? step->parent : pci_address_format(&step->device, address);

	op->host_wait = NULL;
	if (result == -ECANCELED)
		return; /* the engine is going away; the record stays for the next start */
	if (result < 0 || !partition_step_took_effect(step, model)) {
		set_message(op, "The kernel accepted %s on %s, but it did not happen.",
			    step_kind_to_string(step->kind), device);
		create_failed(op, result < 0 ? result : -EIO);
		return;
	}
	step->state = STEP_DONE;
	(void)save(op->engine, op);
	operation_step(op->engine, op);
}

static void on_step_written(int result, size_t failed, void *userdata)
{
	Operation *op = userdata;
	PartitionEngine *engine = op->engine;
	RecordStep *step = &op->record.steps[op->record.n_steps - 1];

	if (result == -ECANCELED)
		return; /* the engine is going away; the record stays for the next start */
	if (result < 0)
		host_cache_mark_stale(engine->host); /* a plan may have half run */
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
	if (result < 0 && step->kind == STEP_NVIDIA_VGPU && result != -ETIMEDOUT) {
		/* NVIDIA's driver publishes no errno list: what to look at, whatever it is. */
		set_message(op,
			    "NVIDIA's driver refused vGPU type %s on %s (%s): the GPU may be full "
			    "or hold vGPUs of another type. 'vfioctl gpu %s' lists the types it "
			    "can take now; the kernel log (journalctl -k) and nvidia-smi vgpu say "
			    "more.",
			    step->type, device, strerror(-result), device);
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
	/* Whether it happened, the host read anew (off the loop) tells. */
	wait_for_model(engine, op, on_step_model);
}

/*
 * The next step of the creation (partition_plan.h), with what it needs that
 * is not pure: a fresh UUID, the partitions held, and the PF's autoprobe
 * written down before a step that turns it off.
 */
static int next_step(PartitionEngine *engine, Operation *op, const HostModel *model,
		     PartitionStepPlan *ret, char uuid[static SD_ID128_UUID_STRING_MAX])
{
	PartitionPlanInput input = { .type = op->type,
				     .vfs_to_enable = op->request.vfs_to_enable,
				     .profile = &op->request.profile,
				     .vf_known = op->vf_known,
				     .vf = op->vf };
	_cleanup_free_ HeldPartition *held = NULL;
	char address[PCI_ADDRESS_TEXT_SIZE];
	sd_id128_t id;

	if (sd_id128_randomize(&id) >= 0)
		input.uuid = sd_id128_to_uuid_string(id, uuid);
	/* A VF chosen once the VFs exist must be none the other partitions hold. */
	if (op->record.mode == PARTITION_SRIOV && !op->vf_known) {
		held = engine_held(engine, &input.n_held);
		if (!held)
			return -ENOMEM;
		input.held = held;
	}
	int r = partition_plan_next_step(&op->record, model, &input, ret, op->message,
					 sizeof(op->message));
	/* Written down before it changes: the release puts it back. */
	if (r > 0 && ret->autoprobe_off >= 0 &&
	    autoprobe_records_add(&engine->autoprobe, &ret->step.device, ret->autoprobe_off) < 0) {
		set_message(op,
			    "The sriov_drivers_autoprobe of %s cannot be written "
			    "down, so it is left as it is.",
			    pci_address_format(&ret->step.device, address));
		return -EIO;
	}
	return r;
}

/* Takes the creation one step further, or completes it. */
static void operation_step(PartitionEngine *engine, Operation *op)
{
	const HostModel *model;
	PartitionStepPlan next;
	char uuid[SD_ID128_UUID_STRING_MAX];

	/* Read anew after the last step (on_step_model()), or kept fresh by uevents. */
	int r = host_cache_model(engine->host, false, &model);
	if (r >= 0)
		r = next_step(engine, op, model, &next, uuid);
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
	r = partition_record_add_step(&op->record, &next.step);
	if (r >= 0)
		r = save(engine, op);
	if (r < 0) {
		set_message(op, "The partition's record cannot be written: %s.", strerror(-r));
		create_failed(op, r);
		return;
	}
	if (next.writes.n_writes == 0) {
		on_step_written(0, 0, op); /* nothing to write: already so */
		return;
	}
	r = sysfs_plan_run(engine->writer, host_cache_root(engine->host), &next.writes,
			   engine->write_timeout_usec, on_step_written, on_stuck, op);
	if (r < 0)
		on_step_written(r, 0, op);
}

/*
 * Passthrough unbinds every device of the group from its host driver, so it
 * first asks whether a host program holds one open. That reads every
 * process's descriptors (proc/PID/fd below the sysfs root), which is no work
 * for the loop: a worker does it. The job is shared by the worker and the
 * operation (refs), so either may go first.
 */
typedef struct UsersJob {
	int refs; /* atomic */
	const SysfsRoot *root; /* the host cache's, which outlives the engine's operations */
	PciAddress *devices;
	size_t n;
	DeviceUser user; /* when found */
} UsersJob;

static void users_job_unref(void *data)
{
	UsersJob *job = data;
	if (!job || __atomic_sub_fetch(&job->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	free(job->devices);
	free(job);
}

static int find_users(void *data)
{
	UsersJob *job = data;
	return device_users_find(job->root, job->devices, job->n, &job->user);
}

/* The group's devices but its bridges; NULL when out of memory (or no group: checked before). */
static UsersJob *users_job_new(PartitionEngine *engine, const HostModel *model,
			       const PciAddress *gpu)
{
	const PciFunction *f = host_find_function(model, gpu);
	const IommuGroup *group = f ? host_find_group(model, f->iommu_group) : NULL;
	UsersJob *job = group ? calloc(1, sizeof(*job)) : NULL;

	if (!job || !(job->devices = calloc(group->n_members, sizeof(PciAddress)))) {
		free(job);
		return NULL;
	}
	job->refs = 1;
	job->root = host_cache_root(engine->host);
	for (size_t i = 0; i < group->n_members; i++) {
		const PciFunction *m = host_find_function(model, &group->members[i]);
		if (m && !pci_function_is_bridge(m))
			job->devices[job->n++] = m->address;
	}
	return job;
}

static void create_checked(PartitionEngine *engine, Operation *op);

void operation_cancel_users(Operation *op)
{
	op->users_job = worker_cancel(op->users_job);
	users_job_unref(op->users);
	op->users = NULL;
}

/* The worker's answer: a holder refuses (unless forced), none or an unknown lets it go on. */
static void on_users_found(int result, void *userdata)
{
	Operation *op = userdata;
	PartitionEngine *engine = op->engine;
	UsersJob *job = op->users;
	char address[PCI_ADDRESS_TEXT_SIZE];

	op->users_job = NULL;
	op->users = NULL;
	if (result < 0)
		log_warning_errno(result,
				  "Cannot tell whether a program uses %s; passing it through",
				  pci_address_format(&op->record.gpu, address));
	if (result > 0) {
		set_message(op,
			    "%s is in use on the host: %s (PID %d) has %s open. Close that program "
			    "(or log out of a desktop running on it), or add --force (force: true) "
			    "to take it anyway.",
			    pci_address_format(&job->user.device, address), job->user.command,
			    (int)job->user.pid, job->user.node);
		users_job_unref(job);
		operation_refuse(engine, op, NULL, ALLOC_DEVICE_IN_USE,
				 &(AllocSubject){ .gpu = op->record.gpu }, -EBUSY);
		return;
	}
	users_job_unref(job);
	create_checked(engine, op);
}

/* Starts the look for holders of `gpu`'s group; false (the operation finished) on failure. */
static bool start_users_check(PartitionEngine *engine, Operation *op, const HostModel *model,
			      const PciAddress *gpu)
{
	const PciFunction *f = host_find_function(model, gpu);
	if (!f || !host_find_group(model, f->iommu_group)) {
		create_checked(engine, op); /* no group, nothing of it to be held open */
		return true;
	}
	UsersJob *job = users_job_new(engine, model, gpu);
	if (!job) {
		set_message(op, "The daemon ran out of memory.");
		operation_finish(engine, op, -ENOMEM);
		return false;
	}
	job->refs = 2; /* the worker's and the operation's */
	op->users = job;
	int r = worker_start(engine->event, "passthrough, who uses the devices", find_users, job,
			     users_job_unref, on_users_found, op, &op->users_job);
	if (r < 0) {
		op->users = NULL;
		users_job_unref(job);
		set_message(op, "Cannot look for programs using %s: %s.",
			    pci_address_format(gpu, (char[PCI_ADDRESS_TEXT_SIZE]){ 0 }),
			    strerror(-r));
		operation_finish(engine, op, r);
		return false;
	}
	return true;
}

static void create_with_model(const HostModel *model, int result, void *userdata)
{
	Operation *op = userdata;
	PartitionEngine *engine = op->engine;
	AllocationChoice choice;
	AllocSubject where = { 0 };
	size_t n_held = 0;

	op->host_wait = NULL;
	if (result == -ECANCELED)
		return;
	int r = result;
	_cleanup_free_ HeldPartition *held = r >= 0 ? engine_held(engine, &n_held) : NULL;
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

	/* What was chosen, copied out of the model (which the loop may replace meanwhile). */
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
	if (op->request.mode == PARTITION_PASSTHROUGH && !op->request.force) {
		(void)start_users_check(engine, op, model, &choice.gpu);
		return;
	}
	create_checked(engine, op);
}

/* The choice stands: the partition gets its id, its record, then its first step. */
static void create_checked(PartitionEngine *engine, Operation *op)
{
	sd_id128_t id;
	if (sd_id128_randomize(&id) < 0) {
		operation_finish(engine, op, -EIO);
		return;
	}
	snprintf(op->record.id, sizeof(op->record.id), "%s-%.12s",
		 partition_mode_to_string(op->request.mode), SD_ID128_TO_STRING(id));
	int r = save(engine, op);
	if (r < 0) {
		set_message(op, "The partition's record cannot be written: %s.", strerror(-r));
		operation_finish(engine, op, r);
		return;
	}
	operation_step(engine, op);
}

/*
 * A creation starts from the host read anew, off the loop: not everything
 * that changes it sends a uevent (sriov_drivers_autoprobe, NVIDIA's vGPU
 * types, xe profiles). The steps then go on from the model read after each
 * write.
 */
void operation_start_create(PartitionEngine *engine, Operation *op)
{
	wait_for_model(engine, op, create_with_model);
}

static void on_vfs_model(const HostModel *model, int result, void *userdata)
{
	Operation *op = userdata;
	char address[PCI_ADDRESS_TEXT_SIZE];

	op->host_wait = NULL;
	if (result == -ECANCELED)
		return;
	pci_address_format(&op->target, address);
	const PciFunction *pf = result >= 0 ? host_find_function(model, &op->target) : NULL;
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

static void on_vfs_written(int result, size_t failed, void *userdata)
{
	Operation *op = userdata;
	char address[PCI_ADDRESS_TEXT_SIZE];

	if (result == -ECANCELED)
		return;
	if (result < 0) {
		host_cache_mark_stale(op->engine->host);
		set_message(op, "The kernel refused to change the VFs of %s (%s).",
			    pci_address_format(&op->target, address),
			    result == -ETIMEDOUT ? "it did not answer in time" : strerror(-result));
		operation_finish(op->engine, op, result);
		return;
	}
	wait_for_model(op->engine, op, on_vfs_model);
}

static void set_vfs_with_model(const HostModel *model, int result, void *userdata)
{
	Operation *op = userdata;
	PartitionEngine *engine = op->engine;
	char address[PCI_ADDRESS_TEXT_SIZE];
	size_t n_held = 0, in_use = 0;
	SysfsPlan plan;

	op->host_wait = NULL;
	if (result == -ECANCELED)
		return;
	pci_address_format(&op->target, address);
	int r = result;
	_cleanup_free_ HeldPartition *held = r >= 0 ? engine_held(engine, &n_held) : NULL;
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

/* Like a creation, from the host read anew (operation_start_create()). */
void operation_start_set_vfs(PartitionEngine *engine, Operation *op)
{
	wait_for_model(engine, op, set_vfs_with_model);
}
