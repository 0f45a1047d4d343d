/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "partitions/partition_record.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/mdev.h"
#include "host/xe_sriov.h"
#include "json_records.h"
#include "json_util.h"
#include "macro.h"
#include "string_table.h"
#include "strv.h"

/* A record is a few hundred bytes; anything bigger is not one of ours. */
#define RECORD_MAX_SIZE (64 * 1024)
#define RECORD_MAX_STEPS 64
#define RECORD_MAX_FILES 4096

static const char *const step_kind_table[_STEP_KIND_MAX] = {
	[STEP_MDEV_CREATE] = "mdev-create",   [STEP_SRIOV_AUTOPROBE] = "sriov-autoprobe",
	[STEP_SRIOV_NUMVFS] = "sriov-numvfs", [STEP_BIND_VFIO] = "bind-vfio",
	[STEP_XE_PROFILE] = "xe-profile",     [STEP_RESET_METHOD] = "reset-method",
	[STEP_NVIDIA_VGPU] = "nvidia-vgpu",
};
DEFINE_STRING_TABLE_LOOKUP(step_kind, StepKind)

static const char *const step_state_table[_STEP_STATE_MAX] = {
	[STEP_STARTED] = "started",
	[STEP_DONE] = "done",
	[STEP_UNDONE] = "undone",
};
DEFINE_STRING_TABLE_LOOKUP(step_state, StepState)

bool partition_id_is_valid(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > PARTITION_ID_MAX)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("_.:-", *p)))
			return false;
	return id[0] != '.';
}

static void step_done(RecordStep *step)
{
	free(step->parent);
	free(step->uuid);
	free(step->type);
	free(step->driver_before);
	free(step->override_before);
}

void partition_record_done(PartitionRecord *record)
{
	for (size_t i = 0; i < record->n_steps; i++)
		step_done(&record->steps[i]);
	free(record->steps);
	free(record->parent);
	free(record->holder);
	*record = (PartitionRecord){ 0 };
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int partition_record_add_step(PartitionRecord *record, const RecordStep *step)
{
	if (record->n_steps >= RECORD_MAX_STEPS)
		return -E2BIG;
	RecordStep *steps = reallocarray(record->steps, record->n_steps + 1, sizeof(RecordStep));
	if (!steps)
		return -ENOMEM;
	record->steps = steps;
	RecordStep copy = *step;
	copy.state = STEP_STARTED;
	copy.parent = dup_or_null(step->parent);
	copy.uuid = dup_or_null(step->uuid);
	copy.type = dup_or_null(step->type);
	copy.driver_before = dup_or_null(step->driver_before);
	copy.override_before = dup_or_null(step->override_before);
	if ((step->parent && !copy.parent) || (step->uuid && !copy.uuid) ||
	    (step->type && !copy.type) || (step->driver_before && !copy.driver_before) ||
	    (step->override_before && !copy.override_before)) {
		step_done(&copy);
		return -ENOMEM;
	}
	steps[record->n_steps] = copy;
	return (int)record->n_steps++;
}

int partition_record_take_over_step(PartitionRecord *record, const RecordStep *step)
{
	int r = partition_record_add_step(record, step);
	if (r < 0)
		return r;
	RecordStep taken = record->steps[r];
	taken.state = step->state;
	memmove(record->steps + 1, record->steps, (size_t)r * sizeof(RecordStep));
	record->steps[0] = taken;
	return 0;
}

static json_object *step_to_json(const RecordStep *step)
{
	char address[PCI_ADDRESS_TEXT_SIZE];
	_cleanup_json_ json_object *o = json_object_new_object();

	if (!o || json_add_string(o, "kind", step_kind_to_string(step->kind)) < 0 ||
	    json_add_string(o, "state", step_state_to_string(step->state)) < 0 ||
	    json_add_string(o, "device",
			    step->parent ? step->parent
					 : pci_address_format(&step->device, address)) < 0 ||
	    json_add_string(o, "uuid", step->uuid) < 0 ||
	    json_add_string(o, "type", step->type) < 0 ||
	    json_add_string(o, "driverBefore", step->driver_before) < 0 ||
	    json_add_string(o, "overrideBefore", step->override_before) < 0 ||
	    json_add_int(o, "valueBefore", step->value_before) < 0 ||
	    json_add_int(o, "valueAfter", step->value_after) < 0)
		return NULL;
	return TAKE_PTR(o);
}

const char *partition_record_gpu_text(const PartitionRecord *record,
				      char buf[PCI_ADDRESS_TEXT_SIZE])
{
	return record->parent ? record->parent : pci_address_format(&record->gpu, buf);
}

/* A PCI address into *ret_address, or else a parent's name copied into *ret_parent. */
static int parse_device(const char *text, PciAddress *ret_address, char **ret_parent)
{
	if (pci_address_parse(text, ret_address) == 0)
		return 0;
	if (!sysfs_name_is_plain(text))
		return -EINVAL;
	*ret_parent = strdup(text);
	return *ret_parent ? 0 : -ENOMEM;
}

json_object *partition_record_to_json(const PartitionRecord *record)
{
	char gpu[PCI_ADDRESS_TEXT_SIZE];
	_cleanup_json_ json_object *o = json_object_new_object();
	json_object *steps = json_object_new_array();

	if (!o || !steps || json_object_object_add(o, "steps", steps) < 0) {
		json_object_put(steps); /* not added: still ours */
		return NULL;
	}
	if (json_add_string(o, "id", record->id) < 0 ||
	    json_add_string(o, "mode", partition_mode_to_string(record->mode)) < 0 ||
	    json_add_string(o, "gpu", partition_record_gpu_text(record, gpu)) < 0 ||
	    json_add_string(o, "holder", record->holder) < 0 ||
	    json_add_int(o, "holderPid", record->holder_pid) < 0 ||
	    json_add_int(o, "holderStartTime", (int64_t)record->holder_start_time) < 0 ||
	    json_add_bool(o, "active", record->active) < 0)
		return NULL;
	for (size_t i = 0; i < record->n_steps; i++) {
		json_object *step = step_to_json(&record->steps[i]);
		if (!step || json_object_array_add(steps, step) < 0) {
			json_object_put(step);
			return NULL;
		}
	}
	return TAKE_PTR(o);
}

/* Reads an optional string: absent or null is NULL; another type is an error. */
static int get_string(json_object *o, const char *key, bool required, const char **ret)
{
	json_object *value;
	*ret = NULL;
	if (!json_object_object_get_ex(o, key, &value) || !value)
		return required ? -EINVAL : 0;
	if (!json_object_is_type(value, json_type_string))
		return -EINVAL;
	*ret = json_object_get_string(value);
	return 0;
}

static int get_int(json_object *o, const char *key, int64_t *ret)
{
	json_object *value;
	if (!json_object_object_get_ex(o, key, &value) ||
	    !json_object_is_type(value, json_type_int))
		return -EINVAL;
	*ret = json_object_get_int64(value);
	return 0;
}

static int step_from_json(json_object *o, RecordStep *ret, const char **ret_bad_field)
{
	const char *kind, *state, *device, *uuid, *type, *driver, *override;
	RecordStep step = { 0 };
	int k, s;

	*ret_bad_field = "a step is malformed";
	if (!json_object_is_type(o, json_type_object) || get_string(o, "kind", true, &kind) < 0 ||
	    get_string(o, "state", true, &state) < 0 ||
	    get_string(o, "device", true, &device) < 0 || get_string(o, "uuid", false, &uuid) < 0 ||
	    get_string(o, "type", false, &type) < 0 ||
	    get_string(o, "driverBefore", false, &driver) < 0 ||
	    get_string(o, "overrideBefore", false, &override) < 0 ||
	    get_int(o, "valueBefore", &step.value_before) < 0 ||
	    get_int(o, "valueAfter", &step.value_after) < 0)
		return -EINVAL;
	k = step_kind_from_string(kind);
	s = step_state_from_string(state);
	/* Only an mdev's parent may be other than a PCI device. */
	int r = k < 0 || s < 0          ? -EINVAL
		: k == STEP_MDEV_CREATE ? parse_device(device, &step.device, &step.parent)
					: pci_address_parse(device, &step.device);
	if (r < 0) {
		*ret_bad_field = "a step has an unknown kind, state or device";
		return r;
	}
	/* What is written back to reset_method: method names (a-z, '_') and spaces, or nothing. */
	if (k == STEP_RESET_METHOD &&
	    (!override || strlen(override) > 128 ||
	     strspn(override, "abcdefghijklmnopqrstuvwxyz_ ") != strlen(override))) {
		*ret_bad_field = "a reset-method step has no reset methods to put back";
		return -EINVAL;
	}
	/* Its attribute names a sysfs file, and values within that attribute's bounds. */
	int attribute = k == STEP_XE_PROFILE ? xe_profile_attribute_from_string(type) : -EINVAL;
	if (k == STEP_XE_PROFILE &&
	    (attribute < 0 || step.value_before < 0 ||
	     (uint64_t)step.value_before > xe_profile_attribute_max(attribute) ||
	     step.value_after < 0 ||
	     (uint64_t)step.value_after > xe_profile_attribute_max(attribute))) {
		*ret_bad_field = "an xe-profile step names no profile attribute or value";
		return -EINVAL;
	}
	/* Written to current_vgpu_type: type ids, and 0 before. */
	if (k == STEP_NVIDIA_VGPU && (step.value_before < 0 || step.value_before > UINT32_MAX ||
				      step.value_after <= 0 || step.value_after > UINT32_MAX)) {
		*ret_bad_field = "an nvidia-vgpu step names no vGPU type id";
		return -EINVAL;
	}
	step.kind = (StepKind)k;
	step.state = (StepState)s;
	step.uuid = dup_or_null(uuid);
	step.type = dup_or_null(type);
	step.driver_before = dup_or_null(driver);
	step.override_before = dup_or_null(override);
	if ((uuid && !step.uuid) || (type && !step.type) || (driver && !step.driver_before) ||
	    (override && !step.override_before)) {
		free(step.parent);
		free(step.uuid);
		free(step.type);
		free(step.driver_before);
		free(step.override_before);
		return -ENOMEM;
	}
	*ret = step;
	return 0;
}

int partition_record_from_json(json_object *o, PartitionRecord *ret, const char **ret_bad_field)
{
	PartitionRecord record = { 0 };
	const char *id, *mode, *gpu, *holder;
	int64_t pid, start_time;
	json_object *steps, *active;
	int m;

	*ret_bad_field = "it is not a record";
	if (!json_object_is_type(o, json_type_object) || get_string(o, "id", true, &id) < 0 ||
	    get_string(o, "mode", true, &mode) < 0 || get_string(o, "gpu", true, &gpu) < 0 ||
	    get_string(o, "holder", true, &holder) < 0 || get_int(o, "holderPid", &pid) < 0 ||
	    get_int(o, "holderStartTime", &start_time) < 0 ||
	    !json_object_object_get_ex(o, "active", &active) ||
	    !json_object_is_type(active, json_type_boolean) ||
	    !json_object_object_get_ex(o, "steps", &steps) ||
	    !json_object_is_type(steps, json_type_array))
		return -EINVAL;
	m = partition_mode_from_string(mode);
	int r = m == PARTITION_MDEV ? parse_device(gpu, &record.gpu, &record.parent)
				    : pci_address_parse(gpu, &record.gpu);
	if (r == -ENOMEM)
		return r;
	if (!partition_id_is_valid(id) || m < 0 || r < 0 || pid < 0 || pid > INT32_MAX ||
	    start_time < 0 || json_object_array_length(steps) > RECORD_MAX_STEPS) {
		*ret_bad_field = "its id, mode, GPU, holder or steps are out of range";
		free(record.parent);
		return -EINVAL;
	}
	strcpy(record.id, id);
	record.mode = (PartitionModeKind)m;
	record.holder_pid = (pid_t)pid;
	record.holder_start_time = (uint64_t)start_time;
	record.active = json_object_get_boolean(active);
	record.holder = strdup(holder);
	record.steps = calloc(MAX(json_object_array_length(steps), (size_t)1), sizeof(RecordStep));
	if (!record.holder || !record.steps) {
		partition_record_done(&record);
		return -ENOMEM;
	}
	for (size_t i = 0; i < json_object_array_length(steps); i++) {
		r = step_from_json(json_object_array_get_idx(steps, i),
				   &record.steps[record.n_steps], ret_bad_field);
		if (r < 0) {
			partition_record_done(&record);
			return r;
		}
		record.n_steps++;
	}
	*ret_bad_field = NULL;
	*ret = record;
	return 0;
}

int partition_record_save(const char *directory, const PartitionRecord *record)
{
	if (!partition_id_is_valid(record->id))
		return -EINVAL;
	_cleanup_json_ json_object *o = partition_record_to_json(record);
	return o ? json_record_save(directory, record->id, o) : -ENOMEM;
}

int partition_record_remove(const char *directory, const char *id)
{
	if (!partition_id_is_valid(id))
		return -EINVAL;
	return json_record_remove(directory, id);
}

static int compare_records(const void *a, const void *b)
{
	return strcmp(((const PartitionRecord *)a)->id, ((const PartitionRecord *)b)->id);
}

/* One record; a damaged one, or one filed under another id, is refused. */
static int parse_record(json_object *object, const char *name, void *element, char *problem,
			size_t problem_size)
{
	PartitionRecord *record = element;
	const char *what = NULL;

	int r = partition_record_from_json(object, record, &what);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		snprintf(problem, problem_size, "is damaged: %s", what ? what : "not a record");
		return 0;
	}
	/* The file name and the id inside must agree, or one would hide the other. */
	if (strcmp(name, record->id) != 0) {
		partition_record_done(record);
		snprintf(problem, problem_size, "names another id");
		return 0;
	}
	return 1;
}

static void record_done(void *element)
{
	partition_record_done(element);
}

int partition_record_load_all(const char *directory, PartitionRecord **ret, size_t *ret_n,
			      char ***problems)
{
	void *records;
	size_t n;

	int r = json_record_load_all(directory, RECORD_MAX_FILES, RECORD_MAX_SIZE,
				     sizeof(PartitionRecord), parse_record, record_done, &records,
				     &n, problems);
	if (r < 0)
		return r;
	if (n > 0) /* qsort's base must not be NULL, even for no elements */
		qsort(records, n, sizeof(PartitionRecord), compare_records);
	*ret = records;
	*ret_n = n;
	return 0;
}
