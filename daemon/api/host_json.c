/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "api/host_json.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "host/gpu_doctor.h"
#include "host/gpu_modes.h"
#include "host/xe_sriov.h"
#include "json_util.h"
#include "macro.h"

/* Appends `value` (taken) to `array`; -ENOMEM when either is NULL or the append fails. */
static int append(json_object *array, json_object *value)
{
	if (!array || !value || json_object_array_add(array, value) < 0) {
		json_object_put(value);
		return -ENOMEM;
	}
	return 0;
}

/* Adds `value` (taken) under key; -ENOMEM when either object is NULL or the add fails. */
static int add_object(json_object *object, const char *key, json_object *value)
{
	if (!object || !value || json_object_object_add(object, key, value) < 0) {
		json_object_put(value);
		return -ENOMEM;
	}
	return 0;
}

/* A number as `digits` lower-case hex digits ("8086", "030000"). */
static int add_hex(json_object *object, const char *key, unsigned digits, unsigned value)
{
	char text[16];
	snprintf(text, sizeof(text), "%0*x", (int)digits, value);
	return json_add_string(object, key, text);
}

/* The fields a Function and a GPU share. */
static int add_identity(json_object *o, const PciFunction *f)
{
	if (json_add_string(o, "address", f->address_text) < 0)
		return -ENOMEM;
	if (!f->readable)
		return json_add_string(o, "vendorId", "????") < 0 ||
				       json_add_string(o, "deviceId", "????") < 0 ||
				       json_add_string(o, "vendor", NULL) < 0 ||
				       json_add_string(o, "device", NULL) < 0 ||
				       json_add_string(o, "class", "??????") < 0
			       ? -ENOMEM
			       : 0;
	return add_hex(o, "vendorId", 4, f->vendor_id) < 0 ||
			       add_hex(o, "deviceId", 4, f->device_id) < 0 ||
			       json_add_string(o, "vendor", f->vendor_name) < 0 ||
			       json_add_string(o, "device", f->device_name) < 0 ||
			       add_hex(o, "class", 6, f->class_code) < 0
		       ? -ENOMEM
		       : 0;
}

static int add_placement(json_object *o, const PciFunction *f)
{
	return json_add_string(o, "driver", f->driver) < 0 ||
			       json_add_int_or_null(o, "iommuGroup", f->iommu_group) < 0 ||
			       json_add_int_or_null(o, "numaNode", f->numa_node) < 0
		       ? -ENOMEM
		       : 0;
}

json_object *host_function_to_json(const PciFunction *f)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	if (!o || add_identity(o, f) < 0 || add_placement(o, f) < 0 ||
	    json_add_strv(o, "warnings", f->warnings) < 0)
		return NULL;
	return TAKE_PTR(o);
}

static json_object *mdev_type_to_json(const MdevType *t)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	if (!o || json_add_string(o, "id", t->id) < 0 || json_add_string(o, "name", t->name) < 0 ||
	    json_add_string(o, "description", t->description) < 0 ||
	    json_add_string(o, "deviceApi", t->device_api) < 0 ||
	    json_add_int_or_null(o, "availableInstances", t->available_instances) < 0 ||
	    json_add_strv(o, "instances", t->instances) < 0)
		return NULL;
	return TAKE_PTR(o);
}

/* The entry of type `id` in `array` of VgpuType objects, or NULL. */
static json_object *find_vgpu_type(json_object *array, const char *id)
{
	for (size_t i = 0; i < json_object_array_length(array); i++) {
		json_object *t = json_object_array_get_idx(array, i);
		json_object *value;
		if (json_object_object_get_ex(t, "id", &value) &&
		    strcmp(json_object_get_string(value), id) == 0)
			return t;
	}
	return NULL;
}

/*
 * NVIDIA vGPU 17+: every type the PF's free VFs can take now, with how many
 * can (nvidia_vgpu.h). Empty for any other PF.
 */
static json_object *vgpu_types_to_json(const HostModel *model, const PciFunction *pf)
{
	_cleanup_json_ json_object *array = json_object_new_array();

	for (size_t i = 0; array && i < pf->n_vfs; i++) {
		const PciFunction *vf = host_find_function(model, &pf->vfs[i]);
		for (size_t k = 0;
		     vf && vf->nvidia_vgpu && !vf_is_in_use(vf) && k < vf->n_nvidia_vgpu_types;
		     k++) {
			const MdevType *type = &vf->nvidia_vgpu_types[k];
			json_object *t = find_vgpu_type(array, type->id);
			int64_t count = 0;
			if (!t) {
				t = json_object_new_object();
				if (append(array, t) < 0 ||
				    json_add_string(t, "id", type->id) < 0 ||
				    json_add_string(t, "name", type->name) < 0)
					return NULL;
			} else
				(void)json_get_int(t, "availableVFs", &count);
			if (json_add_int(t, "availableVFs", count + 1) < 0)
				return NULL;
		}
	}
	return TAKE_PTR(array);
}

/*
 * Adds a VF's "xeProfile" (xe_sriov.h), null when it has none: 0 is no limit
 * (or, for vramQuota, unprovisioned); an attribute it lacks is null.
 */
static int add_xe_profile(json_object *v, const PciFunction *vf)
{
	static const char *const keys[_XE_PROFILE_ATTRIBUTE_MAX] = {
		[XE_PROFILE_EXEC_QUANTUM_MS] = "execQuantumMs",
		[XE_PROFILE_PREEMPT_TIMEOUT_US] = "preemptTimeoutUs",
		[XE_PROFILE_VRAM_QUOTA] = "vramQuota",
	};
	if (!vf || vf->xe_vf_index == 0)
		return json_add_string(v, "xeProfile", NULL);
	json_object *o = json_object_new_object();
	if (add_object(v, "xeProfile", o) < 0)
		return -ENOMEM;
	for (int a = 0; a < _XE_PROFILE_ATTRIBUTE_MAX; a++)
		if (json_add_int_or_null(o, keys[a],
					 vf->xe_profile_known[a] ? (int64_t)vf->xe_profile[a]
								 : -1) < 0)
			return -ENOMEM;
	return 0;
}

static json_object *sriov_to_json(const HostModel *model, const PciFunction *pf)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	json_object *vfs = json_object_new_array();

	if (add_object(o, "vfs", vfs) < 0 || json_add_int(o, "totalVFs", pf->sriov_total_vfs) < 0 ||
	    json_add_int(o, "numVFs", pf->sriov_num_vfs) < 0 ||
	    (pf->sriov_autoprobe < 0
		     ? json_add_string(o, "driversAutoprobe", NULL)
		     : json_add_bool(o, "driversAutoprobe", pf->sriov_autoprobe)) < 0)
		return NULL;
	for (size_t i = 0; i < pf->n_vfs; i++) {
		const PciFunction *vf = host_find_function(model, &pf->vfs[i]);
		char address[PCI_ADDRESS_TEXT_SIZE];
		json_object *v = json_object_new_object();
		if (append(vfs, v) < 0 ||
		    json_add_string(v, "address", pci_address_format(&pf->vfs[i], address)) < 0 ||
		    json_add_string(v, "driver", vf ? vf->driver : NULL) < 0 ||
		    json_add_int_or_null(v, "iommuGroup", vf ? vf->iommu_group : -1) < 0 ||
		    json_add_bool(v, "inUse", vf && vf_is_in_use(vf)) < 0 ||
		    json_add_int_or_null(v, "vgpuType",
					 vf && vf->nvidia_vgpu &&
							 vf->nvidia_vgpu_current != UINT32_MAX
						 ? (int64_t)vf->nvidia_vgpu_current
						 : -1) < 0)
			return NULL;
		if (add_xe_profile(v, vf) < 0)
			return NULL;
	}
	if (add_object(o, "vgpuTypes", vgpu_types_to_json(model, pf)) < 0)
		return NULL;
	return TAKE_PTR(o);
}

/* Takes the assessments (done here). */
static int add_assessments(json_object *o, ModeAssessment modes[_PARTITION_MODE_MAX])
{
	json_object *array = json_object_new_array();
	int r = add_object(o, "modes", array);

	for (int m = 0; m < _PARTITION_MODE_MAX && r >= 0; m++) {
		json_object *mode = json_object_new_object();
		r = append(array, mode);
		if (r >= 0 &&
		    (json_add_string(mode, "mode", partition_mode_to_string(modes[m].mode)) < 0 ||
		     json_add_bool(mode, "available", modes[m].available) < 0 ||
		     json_add_string(mode, "capacity", modes[m].capacity) < 0 ||
		     json_add_string(mode, "note", modes[m].note) < 0))
			r = -ENOMEM;
	}
	mode_assessments_done(modes);
	return r;
}

static int add_modes(json_object *o, const HostModel *model, const PciFunction *gpu)
{
	ModeAssessment modes[_PARTITION_MODE_MAX];
	if (gpu_assess_modes(model, gpu, modes) < 0)
		return -ENOMEM;
	return add_assessments(o, modes);
}

/* The hardware doctor's word on a physical function; null for a VF. */
static int add_family(json_object *o, const HostModel *model, const PciFunction *gpu)
{
	if (gpu->is_vf)
		return json_add_string(o, "family", NULL);

	GpuDoctor d;
	if (gpu_doctor_examine(model, gpu, &d) < 0)
		return -ENOMEM;

	json_object *family = json_object_new_object();
	json_object *mechanisms = json_object_new_array();
	int r = add_object(o, "family", family);
	if (r >= 0)
		r = add_object(family, "mechanisms", mechanisms);
	else
		json_object_put(mechanisms);
	if (r >= 0 && (json_add_string(family, "name", d.family->name) < 0 ||
		       json_add_string(family, "supports", d.family->mechanisms) < 0 ||
		       json_add_string(family, "source", d.family->source) < 0 ||
		       json_add_strv(family, "warnings", d.warnings) < 0))
		r = -ENOMEM;
	for (size_t i = 0; r >= 0 && i < d.n_advice; i++) {
		json_object *m = json_object_new_object();
		r = append(mechanisms, m);
		if (r >= 0 && (json_add_string(m, "mechanism", d.advice[i].mechanism) < 0 ||
			       json_add_bool(m, "usable", d.advice[i].usable) < 0 ||
			       json_add_string(m, "reason", d.advice[i].reason) < 0 ||
			       json_add_string(m, "steps", d.advice[i].steps) < 0))
			r = -ENOMEM;
	}
	gpu_doctor_done(&d);
	return r;
}

static int add_mdev_types(json_object *o, const MdevType *types, size_t n)
{
	json_object *array = json_object_new_array();
	if (add_object(o, "mdevTypes", array) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (append(array, mdev_type_to_json(&types[i])) < 0)
			return -ENOMEM;
	return 0;
}

/* Every function of the card, and every member of the GPU's IOMMU group. */
static int add_relatives(json_object *o, const HostModel *model, const PciFunction *gpu)
{
	json_object *functions = json_object_new_array();
	json_object *members = json_object_new_array();
	int r = add_object(o, "functions", functions);
	if (add_object(o, "iommuGroupMembers", members) < 0 || r < 0)
		return -ENOMEM;

	/* A VF shares its slot with its sibling VFs, not with the card's other functions. */
	for (size_t i = 0; i < model->n_functions; i++) {
		const PciFunction *f = &model->functions[i];
		bool relative =
			gpu->is_vf ? f == gpu
				   : pci_address_same_slot(&f->address, &gpu->address) && !f->is_vf;
		if (relative && append(functions, host_function_to_json(f)) < 0)
			return -ENOMEM;
	}
	const IommuGroup *group =
		gpu->iommu_group >= 0 ? host_find_group(model, gpu->iommu_group) : NULL;
	for (size_t i = 0; group && i < group->n_members; i++) {
		char address[PCI_ADDRESS_TEXT_SIZE];
		if (append(members, json_object_new_string(
					    pci_address_format(&group->members[i], address))) < 0)
			return -ENOMEM;
	}
	return 0;
}

static json_object *hugepages_to_json(const HugepagePool *pools, size_t n)
{
	_cleanup_json_ json_object *array = json_object_new_array();
	if (!array)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		json_object *pool = json_object_new_object();
		if (append(array, pool) < 0 ||
		    json_add_int(pool, "sizeKiB", (int64_t)pools[i].size_kib) < 0 ||
		    json_add_int(pool, "total", (int64_t)pools[i].total) < 0 ||
		    json_add_int(pool, "free", (int64_t)pools[i].free) < 0)
			return NULL;
	}
	return TAKE_PTR(array);
}

/* The NUMA node a GPU sits on: its own, or the only one when the platform does not say. */
static const NumaNode *gpu_node(const HostModel *model, const PciFunction *gpu)
{
	for (size_t i = 0; i < model->n_nodes; i++)
		if (model->nodes[i].id == gpu->numa_node)
			return &model->nodes[i];
	return gpu->numa_node < 0 && model->n_nodes == 1 ? &model->nodes[0] : NULL;
}

/* What a VM placed next to the GPU can have: the node's CPUs, memory and hugepages. */
static int add_node(json_object *o, const HostModel *model, const PciFunction *gpu)
{
	const NumaNode *n = gpu_node(model, gpu);
	if (!n)
		return json_add_string(o, "node", NULL);

	json_object *node = json_object_new_object();
	if (add_object(o, "node", node) < 0 || json_add_int(node, "id", n->id) < 0 ||
	    json_add_string(node, "cpus", n->cpus ? n->cpus : "") < 0 ||
	    json_add_int(node, "memoryTotalKiB", (int64_t)n->memory_total_kib) < 0 ||
	    json_add_int(node, "memoryFreeKiB", (int64_t)n->memory_free_kib) < 0 ||
	    add_object(node, "hugepages", hugepages_to_json(n->hugepages, n->n_hugepages)) < 0)
		return -ENOMEM;
	return 0;
}

/* Its resizable BARs (rebar.h): each one's size now and the sizes it can take, in MiB. */
static json_object *rebars_to_json(const PciFunction *gpu)
{
	_cleanup_json_ json_object *array = json_object_new_array();

	for (size_t i = 0; array && i < gpu->n_rebars; i++) {
		const PciRebar *bar = &gpu->rebars[i];
		json_object *o = json_object_new_object(), *sizes = json_object_new_array();
		if (append(array, o) < 0 || add_object(o, "sizesMiB", sizes) < 0 ||
		    json_add_int(o, "bar", bar->bar) < 0 ||
		    json_add_int_or_null(o, "currentMiB",
					 bar->current ? (int64_t)(bar->current >> 20) : -1) < 0)
			return NULL;
		for (int bit = 0; bit < 64; bit++)
			if ((bar->sizes >> bit) & 1 &&
			    append(sizes, json_object_new_int64(INT64_C(1) << bit)) < 0)
				return NULL;
	}
	return TAKE_PTR(array);
}

json_object *host_gpu_to_json(const HostModel *model, const PciFunction *gpu)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	char physfn[PCI_ADDRESS_TEXT_SIZE];

	if (!o || add_mdev_types(o, gpu->mdev_types, gpu->n_mdev_types) < 0 ||
	    add_identity(o, gpu) < 0 || json_add_string(o, "sysfsPath", NULL) < 0 ||
	    add_placement(o, gpu) < 0 || json_add_bool(o, "bootVga", gpu->boot_vga == 1) < 0 ||
	    json_add_string(o, "physicalFunction",
			    gpu->is_vf ? pci_address_format(&gpu->physfn, physfn) : NULL) < 0 ||
	    add_node(o, model, gpu) < 0 || add_relatives(o, model, gpu) < 0 ||
	    (gpu->sriov_total_vfs > 0 ? add_object(o, "sriov", sriov_to_json(model, gpu))
				      : json_add_string(o, "sriov", NULL)) < 0 ||
	    add_modes(o, model, gpu) < 0 || add_family(o, model, gpu) < 0 ||
	    add_object(o, "resizableBars", rebars_to_json(gpu)) < 0 ||
	    json_add_strv(o, "warnings", gpu->warnings) < 0)
		return NULL;
	return TAKE_PTR(o);
}

json_object *host_mdev_parent_to_json(const HostModel *model, const MdevParent *parent)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	ModeAssessment modes[_PARTITION_MODE_MAX];
	/* Not a PCI function: no ids, class, group, node of its own, card or VFs. */
	static const char *const none[] = { "vendorId",   "deviceId", "vendor",
					    "device",     "class",    "driver",
					    "iommuGroup", "numaNode", "physicalFunction",
					    "sriov",      "family" };
	const PciFunction nowhere = { .numa_node = -1 };

	if (!o || json_add_string(o, "address", parent->name) < 0 ||
	    json_add_string(o, "sysfsPath", parent->path) < 0 ||
	    json_add_bool(o, "bootVga", false) < 0 || add_node(o, model, &nowhere) < 0 ||
	    add_object(o, "functions", json_object_new_array()) < 0 ||
	    add_object(o, "iommuGroupMembers", json_object_new_array()) < 0 ||
	    add_mdev_types(o, parent->mdev_types, parent->n_mdev_types) < 0 ||
	    add_object(o, "resizableBars", json_object_new_array()) < 0 ||
	    json_add_strv(o, "warnings", parent->warnings) < 0)
		return NULL;
	for (size_t i = 0; i < ELEMENTSOF(none); i++)
		if (json_add_string(o, none[i], NULL) < 0)
			return NULL;
	if (mdev_parent_assess_modes(parent, modes) < 0 || add_assessments(o, modes) < 0)
		return NULL;
	return TAKE_PTR(o);
}

/* Listed on its own: a GPU, and a VF that is an mdev parent (NVIDIA before vGPU 17). */
static bool listed(const PciFunction *f)
{
	return pci_function_is_gpu(f) && (!f->is_vf || f->mdev_parent);
}

json_object *host_gpus_to_json(const HostModel *model)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	json_object *gpus = json_object_new_array();

	if (add_object(o, "gpus", gpus) < 0)
		return NULL;
	for (size_t i = 0; i < model->n_functions; i++) {
		const PciFunction *f = &model->functions[i];
		if (listed(f) && append(gpus, host_gpu_to_json(model, f)) < 0)
			return NULL;
	}
	for (size_t i = 0; i < model->n_mdev_parents; i++)
		if (append(gpus, host_mdev_parent_to_json(model, &model->mdev_parents[i])) < 0)
			return NULL;
	return TAKE_PTR(o);
}

json_object *host_groups_to_json(const HostModel *model)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	json_object *groups = json_object_new_array();

	if (add_object(o, "groups", groups) < 0)
		return NULL;
	for (size_t i = 0; i < model->n_groups; i++) {
		const IommuGroup *g = &model->groups[i];
		json_object *group = json_object_new_object();
		json_object *devices = json_object_new_array();
		if (append(groups, group) < 0 || add_object(group, "devices", devices) < 0 ||
		    json_add_int(group, "id", g->id) < 0)
			return NULL;
		for (size_t k = 0; k < g->n_members; k++) {
			const PciFunction *f = host_find_function(model, &g->members[k]);
			PciFunction missing = { .address = g->members[k],
						.iommu_group = g->id,
						.numa_node = -1 };
			if (!f) {
				pci_address_format(&missing.address, missing.address_text);
				f = &missing;
			}
			if (append(devices, host_function_to_json(f)) < 0)
				return NULL;
		}
	}
	return TAKE_PTR(o);
}

json_object *host_topology_to_json(const HostModel *model)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	json_object *nodes = json_object_new_array();

	if (add_object(o, "nodes", nodes) < 0 ||
	    add_object(o, "hugepages",
		       hugepages_to_json(model->facts.hugepages, model->facts.n_hugepages)) < 0)
		return NULL;
	for (size_t i = 0; i < model->n_nodes; i++) {
		const NumaNode *n = &model->nodes[i];
		json_object *node = json_object_new_object();
		json_object *gpus = json_object_new_array();
		if (append(nodes, node) < 0 || add_object(node, "gpus", gpus) < 0 ||
		    json_add_int(node, "id", n->id) < 0 ||
		    json_add_string(node, "cpus", n->cpus ? n->cpus : "") < 0 ||
		    json_add_int(node, "memoryTotalKiB", (int64_t)n->memory_total_kib) < 0 ||
		    json_add_int(node, "memoryFreeKiB", (int64_t)n->memory_free_kib) < 0 ||
		    add_object(node, "hugepages", hugepages_to_json(n->hugepages, n->n_hugepages)) <
			    0)
			return NULL;
		for (size_t k = 0; k < model->n_functions; k++) {
			const PciFunction *f = &model->functions[k];
			/* A platform with one node often leaves numa_node at -1. */
			bool on_node =
				f->numa_node == n->id || (f->numa_node < 0 && model->n_nodes == 1);
			if (pci_function_is_gpu(f) && !f->is_vf && on_node &&
			    append(gpus, json_object_new_string(f->address_text)) < 0)
				return NULL;
		}
	}
	return TAKE_PTR(o);
}

json_object *readiness_to_json(const Readiness *r)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	json_object *modes = json_object_new_array();
	json_object *checks = json_object_new_array();

	if (!o) {
		json_object_put(modes);
		json_object_put(checks);
		return NULL;
	}
	int k = add_object(o, "readyModes", modes);
	if (add_object(o, "checks", checks) < 0 || k < 0 || json_add_bool(o, "ready", r->ready) < 0)
		return NULL;
	for (int m = 0; m < _PARTITION_MODE_MAX; m++)
		if (r->ready_modes[m] &&
		    append(modes, json_object_new_string(
					  partition_mode_to_string((PartitionModeKind)m))) < 0)
			return NULL;
	for (size_t i = 0; i < r->n_checks; i++) {
		const CheckResult *c = &r->checks[i];
		json_object *check = json_object_new_object();
		if (append(checks, check) < 0 || json_add_string(check, "id", c->id) < 0 ||
		    json_add_string(check, "status", check_status_to_string(c->status)) < 0 ||
		    json_add_string(check, "summary", c->summary) < 0 ||
		    json_add_string(check, "fix", c->fix) < 0 ||
		    json_add_string(check, "gpu", c->gpu) < 0)
			return NULL;
	}
	return TAKE_PTR(o);
}
