/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "partitions/partition_plan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/gpu_family.h"
#include "host/mdev.h"
#include "host/nvidia_vgpu.h"
#include "host/sriov.h"
#include "host/vfio_bind.h"
#include "host/xe_sriov.h"
#include "macro.h"
#include "parse_util.h"
#include "strv.h"

/* What vendor-reset's reset is called in reset_method. */
#define RESET_DEVICE_SPECIFIC "device_specific"

_printf_(3, 4) static void set_message(char *message, size_t size, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	vsnprintf(message, size, format, ap);
	va_end(ap);
}

HeldPartition *partition_plan_held(const PartitionRecord *records, size_t n_records, size_t *ret_n)
{
	size_t max = 1, n = 0;
	for (size_t i = 0; i < n_records; i++)
		max += records[i].n_steps + 1;
	HeldPartition *held = calloc(max, sizeof(HeldPartition));
	if (!held)
		return NULL;
	for (size_t i = 0; i < n_records; i++) {
		const PartitionRecord *r = &records[i];
		if (r->mode == PARTITION_PASSTHROUGH)
			held[n++] = (HeldPartition){ r->mode, r->gpu, r->gpu, NULL };
		for (size_t k = 0; k < r->n_steps; k++)
			/* A VF given its profile is taken, before it is bound too. */
			if ((r->steps[k].kind == STEP_BIND_VFIO ||
			     r->steps[k].kind == STEP_XE_PROFILE ||
			     r->steps[k].kind == STEP_NVIDIA_VGPU) &&
			    r->mode == PARTITION_SRIOV)
				held[n++] = (HeldPartition){ r->mode, r->gpu, r->steps[k].device,
							     NULL };
			else if (r->steps[k].kind == STEP_MDEV_CREATE)
				held[n++] = (HeldPartition){ r->mode, r->gpu, r->gpu, r->parent };
	}
	*ret_n = n;
	return held;
}

bool partition_record_has_step(const PartitionRecord *record, StepKind kind,
			       const PciAddress *device)
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

/* The step that creates the mdev of the input's type on `parent` (an address or a name). */
static int mdev_step(const PartitionRecord *record, const PartitionPlanInput *input,
		     const char *parent, const MdevType *types, size_t n_types,
		     PartitionStepPlan *ret, char *message, size_t message_size)
{
	const MdevType *type = find_type(types, n_types, input->type);

	if (!type || !input->uuid) {
		set_message(message, message_size, "The mdev type %s of %s vanished.", input->type,
			    parent);
		return -ENODEV;
	}
	ret->step = (RecordStep){ .kind = STEP_MDEV_CREATE,
				  .device = record->gpu,
				  .parent = record->parent,
				  .uuid = (char *)input->uuid,
				  .type = type->id };
	return mdev_create_plan(parent, type, input->uuid, &ret->writes) < 0 ? -EINVAL : 1;
}

/*
 * A GPU that only vendor-reset can reset between VMs (AMD Polaris to Navi 23:
 * gnif/vendor-reset's device list, gpu_family.h), on a host where it is
 * loaded, whose reset_method (Linux 5.15+) is not device_specific yet.
 * vendor-reset's README: echo device_specific > .../reset_method. Only then:
 * the kernel takes a method it cannot probe as none, which disables resets.
 */
static bool needs_device_specific_reset(const HostModel *model, const PciFunction *f)
{
	return f->reset_method && strcmp(f->reset_method, RESET_DEVICE_SPECIFIC) != 0 &&
	       gpu_family_lookup(f)->kind == GPU_FAMILY_AMD_VENDOR_RESET &&
	       strv_contains(model->facts.modules_loaded, "vendor_reset");
}

/* reset_method to device_specific, the methods before written down to be put back. */
static int reset_method_step(const PciFunction *f, PartitionStepPlan *ret)
{
	ret->step = (RecordStep){ .kind = STEP_RESET_METHOD,
				  .device = f->address,
				  .override_before = f->reset_method };
	return sysfs_plan_add(&ret->writes, RESET_DEVICE_SPECIFIC,
			      "sys/bus/pci/devices/%s/reset_method", f->address_text) < 0
		       ? -EINVAL
		       : 1;
}

/* The step that binds `device` to vfio-pci; no writes when it is there already. */
static int bind_step(const PciFunction *device, PartitionStepPlan *ret)
{
	ret->step = (RecordStep){ .kind = STEP_BIND_VFIO,
				  .device = device->address,
				  .driver_before = device->driver };
	int r = vfio_bind_plan(device, &ret->writes);
	if (r == -EALREADY) {
		ret->writes = (SysfsPlan){ 0 };
		return 1;
	}
	return r < 0 ? r : 1;
}

/* The record's first xe profile step: it names the VF this partition took. */
static const RecordStep *record_profile_step(const PartitionRecord *record)
{
	for (size_t i = 0; i < record->n_steps; i++)
		if (record->steps[i].kind == STEP_XE_PROFILE)
			return &record->steps[i];
	return NULL;
}

/* Whether `record` set `attribute` of a VF's profile already. */
static bool record_has_profile_step(const PartitionRecord *record, XeProfileAttribute attribute)
{
	const char *name = xe_profile_attribute_to_string(attribute);
	for (size_t i = 0; i < record->n_steps; i++)
		if (record->steps[i].kind == STEP_XE_PROFILE && record->steps[i].type &&
		    strcmp(record->steps[i].type, name) == 0)
			return true;
	return false;
}

/*
 * A VF of NVIDIA's vGPU host driver gets the type allocation chose, and is
 * then complete: nvidia.ko is its VFIO driver, vfio-pci would refuse it.
 */
static int vgpu_type_step(const PciFunction *vf, const PartitionPlanInput *input,
			  PartitionStepPlan *ret, char *message, size_t message_size)
{
	const MdevType *type = nvidia_vgpu_find_type(vf, input->type);
	uint64_t id;

	if (!type || parse_uint64(type->id, &id) < 0 || id == 0 || id > UINT32_MAX) {
		set_message(message, message_size,
			    "%s can no longer take the vGPU type %s: the GPU filled up, or another "
			    "type took it; 'vfioctl gpu %s' lists what it can take now.",
			    vf->address_text, input->type ? input->type : "asked for",
			    vf->address_text);
		return -ENOSPC;
	}
	ret->step = (RecordStep){ .kind = STEP_NVIDIA_VGPU,
				  .device = vf->address,
				  .type = type->id,
				  .value_before = vf->nvidia_vgpu_current,
				  .value_after = (int64_t)id };
	return nvidia_vgpu_write_plan(vf, (uint32_t)id, &ret->writes) < 0 ? -EINVAL : 1;
}

/*
 * The VF's next step: each attribute of its xe profile the VM asks for, the
 * value it had written down first (while a host driver cannot hold it: its
 * autoprobe is off); then its bind to vfio-pci, or its NVIDIA vGPU type.
 */
static int vf_next_step(const PartitionRecord *record, const PciFunction *vf,
			const PartitionPlanInput *input, PartitionStepPlan *ret, char *message,
			size_t message_size)
{
	for (int a = 0; input->profile && a < _XE_PROFILE_ATTRIBUTE_MAX; a++) {
		if (!input->profile->set[a] || record_has_profile_step(record, a))
			continue;
		if (vf->xe_vf_index == 0) {
			set_message(message, message_size,
				    "profile: %s has no xe SR-IOV profile to set (that needs "
				    "Intel's xe driver on the GPU, Linux 6.19 or later); remove "
				    "profile from the VM's gpu entry.",
				    vf->address_text);
			return -EOPNOTSUPP;
		}
		if (!vf->xe_profile_known[a] && a == XE_PROFILE_VRAM_QUOTA) {
			set_message(
				message, message_size,
				"profile: vram-quota: %s has no vram_quota in its xe profile (only "
				"a discrete GPU's VFs have their own VRAM, from Linux 7.0); "
				"remove vram-quota from the VM's gpu profile.",
				vf->address_text);
			return -EOPNOTSUPP;
		}
		if (!vf->xe_profile_known[a]) {
			set_message(message, message_size,
				    "profile: %s's xe profile has no readable %s ('vfioctl gpu' "
				    "shows its warnings); remove it from the VM's gpu profile.",
				    vf->address_text, xe_profile_attribute_to_string(a));
			return -EOPNOTSUPP;
		}
		ret->step = (RecordStep){ .kind = STEP_XE_PROFILE,
					  .device = vf->address,
					  .type = (char *)xe_profile_attribute_to_string(a),
					  .value_before = (int64_t)vf->xe_profile[a],
					  .value_after = (int64_t)input->profile->value[a] };
		return xe_profile_write_plan(vf, a, input->profile->value[a], &ret->writes) < 0
			       ? -EINVAL
			       : 1;
	}
	if (vf->nvidia_vgpu)
		return vgpu_type_step(vf, input, ret, message, message_size);
	return bind_step(vf, ret);
}

/* SR-IOV: enable the VFs first when the PF has none, then bind one of them. */
static int sriov_next_step(const PartitionRecord *record, const HostModel *model,
			   const PciFunction *gpu, const PartitionPlanInput *input,
			   PartitionStepPlan *ret, char *message, size_t message_size)
{
	const char *gpu_text = gpu->address_text;

	if (gpu->sriov_num_vfs == 0 &&
	    !partition_record_has_step(record, STEP_SRIOV_NUMVFS, NULL)) {
		unsigned count = input->vfs_to_enable && input->vfs_to_enable <
								 (unsigned)gpu->sriov_total_vfs
					 ? input->vfs_to_enable
					 : (unsigned)gpu->sriov_total_vfs;
		switch (sriov_set_count_plan(gpu, count, 0, -1, &ret->writes,
					     &ret->autoprobe_off)) {
		case SRIOV_OK:
			break;
		case SRIOV_NO_PF_DRIVER:
			set_message(message, message_size,
				    "%s has no driver, and only its driver can create VFs: "
				    "load and bind it first.",
				    gpu_text);
			return -ENXIO;
		default:
			set_message(message, message_size, "%s cannot enable %u VFs.", gpu_text,
				    count);
			return -EINVAL;
		}
		ret->step = (RecordStep){ .kind = STEP_SRIOV_NUMVFS,
					  .device = gpu->address,
					  .value_before = 0,
					  .value_after = count };
		return 1;
	}
	if (partition_record_has_step(record, STEP_BIND_VFIO, NULL) ||
	    partition_record_has_step(record, STEP_NVIDIA_VGPU, NULL))
		return 0;
	/* The VF: the one a profile step was written down for, or chosen before, or now. */
	const RecordStep *profiled = record_profile_step(record);
	if (profiled || input->vf_known) {
		const PciFunction *vf =
			host_find_function(model, profiled ? &profiled->device : &input->vf);
		if (!vf) {
			set_message(message, message_size, "The VF chosen on %s vanished.",
				    gpu_text);
			return -ENODEV;
		}
		return vf_next_step(record, vf, input, ret, message, message_size);
	}
	/* VFs just enabled: choose one of them now. */
	PartitionRequest request = { .mode = PARTITION_SRIOV,
				     .has_address = true,
				     .address = gpu->address,
				     .preferred_node = -1 };
	AllocationChoice choice;
	AllocSubject where;
	if (alloc_choose(model, input->held, input->n_held, &request, &choice, &where) !=
		    ALLOC_OK ||
	    !choice.vf_known) {
		set_message(message, message_size, "No VF of %s is free.", gpu_text);
		return -ENOSPC;
	}
	return vf_next_step(record, host_find_function(model, &choice.vf), input, ret, message,
			    message_size);
}

int partition_plan_next_step(const PartitionRecord *record, const HostModel *model,
			     const PartitionPlanInput *input, PartitionStepPlan *ret, char *message,
			     size_t message_size)
{
	const PciFunction *gpu = host_find_function(model, &record->gpu);
	char gpu_text[PCI_ADDRESS_TEXT_SIZE];

	*ret = (PartitionStepPlan){ .autoprobe_off = -1 };
	if (record->parent) { /* an mdev parent outside PCI */
		const MdevParent *parent = host_find_mdev_parent(model, record->parent);
		if (partition_record_has_step(record, STEP_MDEV_CREATE, NULL))
			return 0;
		if (!parent) {
			set_message(message, message_size,
				    "The mdev parent %s vanished while its partition was being "
				    "made.",
				    record->parent);
			return -ENODEV;
		}
		return mdev_step(record, input, parent->name, parent->mdev_types,
				 parent->n_mdev_types, ret, message, message_size);
	}
	pci_address_format(&record->gpu, gpu_text);
	if (!gpu) {
		set_message(message, message_size,
			    "The GPU %s vanished while its partition was being made.", gpu_text);
		return -ENODEV;
	}

	if (record->mode == PARTITION_MDEV) {
		if (partition_record_has_step(record, STEP_MDEV_CREATE, NULL))
			return 0;
		return mdev_step(record, input, gpu->address_text, gpu->mdev_types,
				 gpu->n_mdev_types, ret, message, message_size);
	}

	if (record->mode == PARTITION_SRIOV)
		return sriov_next_step(record, model, gpu, input, ret, message, message_size);

	/*
	 * Passthrough: every member of the group but bridges, each first given
	 * vendor-reset's reset when it needs one (reset_method_step()).
	 */
	const IommuGroup *group = host_find_group(model, gpu->iommu_group);
	for (size_t i = 0; group && i < group->n_members; i++) {
		const PciFunction *m = host_find_function(model, &group->members[i]);
		if (!m || pci_function_is_bridge(m) ||
		    partition_record_has_step(record, STEP_BIND_VFIO, &m->address))
			continue;
		if (needs_device_specific_reset(model, m) &&
		    !partition_record_has_step(record, STEP_RESET_METHOD, &m->address))
			return reset_method_step(m, ret);
		return bind_step(m, ret);
	}
	return 0;
}

bool partition_step_took_effect(const RecordStep *step, const HostModel *model)
{
	const PciFunction *f = host_find_function(model, &step->device);
	switch (step->kind) {
	case STEP_MDEV_CREATE:
		return mdev_exists(model, step->uuid);
	case STEP_SRIOV_NUMVFS:
		return f && f->sriov_num_vfs == step->value_after;
	case STEP_BIND_VFIO:
		return f && vfio_is_bound(f);
	case STEP_XE_PROFILE: {
		int a = xe_profile_attribute_from_string(step->type);
		if (!f || a < 0 || f->xe_vf_index == 0 || !f->xe_profile_known[a])
			return false;
		/* The kernel may align a VRAM quota (to its HW/FW's granule): never below. */
		if (a == XE_PROFILE_VRAM_QUOTA)
			return f->xe_profile[a] >= (uint64_t)step->value_after;
		return f->xe_profile[a] == (uint64_t)step->value_after;
	}
	case STEP_RESET_METHOD:
		return f && f->reset_method && strcmp(f->reset_method, RESET_DEVICE_SPECIFIC) == 0;
	case STEP_NVIDIA_VGPU:
		return f && f->nvidia_vgpu && f->nvidia_vgpu_current == step->value_after;
	default:
		return true;
	}
}

int partition_undo_next(const PartitionRecord *record, size_t *cursor)
{
	while (*cursor > 0) {
		size_t i = --*cursor;
		if (i < record->n_steps && record->steps[i].state != STEP_UNDONE)
			return (int)i;
	}
	return -ENOENT;
}

int partition_undo_autoprobe(const AutoprobeRecords *autoprobe, const RecordStep *step)
{
	int before = autoprobe_records_find(autoprobe, &step->device);
	if (before >= 0)
		return before;
	if (step->override_before &&
	    (strcmp(step->override_before, "0") == 0 || strcmp(step->override_before, "1") == 0))
		return step->override_before[0] - '0';
	return -1;
}

int partition_undo_plan(const RecordStep *step, const HostModel *model, bool keep,
			int autoprobe_before, SysfsPlan *ret)
{
	const PciFunction *f = host_find_function(model, &step->device);

	*ret = (SysfsPlan){ 0 };
	if (keep && (step->kind == STEP_SRIOV_NUMVFS || step->kind == STEP_BIND_VFIO))
		return 0;
	switch (step->kind) {
	case STEP_MDEV_CREATE:
		return mdev_exists(model, step->uuid) ? mdev_remove_plan(step->uuid, ret) : 0;
	case STEP_SRIOV_NUMVFS:
		return f ? sriov_restore_plan(f, (unsigned)step->value_before, autoprobe_before,
					      ret)
			 : 0;
	case STEP_BIND_VFIO:
		/* It was on vfio-pci before us: leave it. A vanished device has nothing to undo. */
		if (!f ||
		    (step->driver_before && strcmp(step->driver_before, VFIO_PCI_DRIVER) == 0))
			return 0;
		if (vfio_is_bound(f))
			return vfio_restore_plan(f, NULL, step->driver_before != NULL, ret);
		/*
		 * Not on vfio-pci: the bind stopped part-way. The override may be set, and the
		 * device may have lost its driver: clear the one, probe for the other.
		 */
		if (sysfs_plan_add(ret, "\n", "sys/bus/pci/devices/%s/driver_override",
				   f->address_text) < 0)
			return -EINVAL;
		if (!f->driver && step->driver_before &&
		    sysfs_plan_add(ret, f->address_text, "sys/bus/pci/drivers_probe") < 0)
			return -EINVAL;
		return 0;
	case STEP_RESET_METHOD:
		/* The methods it had, in their order ("" had none: a newline writes nothing). */
		if (!f || !f->reset_method || !step->override_before ||
		    strcmp(f->reset_method, step->override_before) == 0)
			return 0;
		return sysfs_plan_add(ret, step->override_before[0] ? step->override_before : "\n",
				      "sys/bus/pci/devices/%s/reset_method", f->address_text) < 0
			       ? -EINVAL
			       : 0;
	case STEP_NVIDIA_VGPU:
		/* The vGPU is released, kept VFs too; a VF with another type is not ours. */
		if (!f || !f->nvidia_vgpu || f->nvidia_vgpu_current != step->value_after)
			return 0;
		return nvidia_vgpu_write_plan(f, (uint32_t)step->value_before, ret) < 0 ? -EINVAL
											: 0;
	case STEP_XE_PROFILE: {
		/* Back as it was, kept VFs too: the share was the VM's. Gone: nothing to undo. */
		int a = xe_profile_attribute_from_string(step->type);
		if (!f || a < 0 || f->xe_vf_index == 0 || !f->xe_profile_known[a] ||
		    f->xe_profile[a] == (uint64_t)step->value_before)
			return 0;
		return xe_profile_write_plan(f, a, (uint64_t)step->value_before, ret) < 0 ? -EINVAL
											  : 0;
	}
	default:
		return 0;
	}
}
