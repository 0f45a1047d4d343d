/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "api/host_json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "host/gpu_doctor.h"
#include "host/gpu_modes.h"
#include "host/xe_sriov.h"
#include "json_util.h"
#include "macro.h"

/*
 * Every writer below writes one JSON value into `t`; the keys of an object
 * come in the order the reply has always had (clients and golden files see
 * the same bytes as when the reply was built from json-c objects).
 */

/* The fields a Function and a GPU share, each after a ',' but the first. */
static void identity_json_text(JsonText *t, const PciFunction *f)
{
	json_text_literal(t, "\"address\":");
	json_text_string(t, f->address_text);
	if (!f->readable) {
		json_text_literal(t, ",\"vendorId\":\"????\",\"deviceId\":\"????\",\"vendor\":null,"
				     "\"device\":null,\"class\":\"??????\"");
		return;
	}
	json_text_literal(t, ",\"vendorId\":");
	json_text_hex(t, f->vendor_id, 4);
	json_text_literal(t, ",\"deviceId\":");
	json_text_hex(t, f->device_id, 4);
	json_text_literal(t, ",\"vendor\":");
	json_text_string(t, f->vendor_name);
	json_text_literal(t, ",\"device\":");
	json_text_string(t, f->device_name);
	json_text_literal(t, ",\"class\":");
	json_text_hex(t, f->class_code, 6);
}

static void placement_json_text(JsonText *t, const PciFunction *f)
{
	json_text_literal(t, ",\"driver\":");
	json_text_string(t, f->driver);
	json_text_literal(t, ",\"iommuGroup\":");
	json_text_int_or_null(t, f->iommu_group);
	json_text_literal(t, ",\"numaNode\":");
	json_text_int_or_null(t, f->numa_node);
}

/* A Function: a member of an IOMMU group, or of a GPU's card. */
static void function_json_text(JsonText *t, const PciFunction *f)
{
	json_text_literal(t, "{");
	identity_json_text(t, f);
	placement_json_text(t, f);
	json_text_literal(t, ",\"warnings\":");
	json_text_strv(t, f->warnings);
	json_text_literal(t, "}");
}

static void mdev_types_json_text(JsonText *t, const MdevType *types, size_t n)
{
	json_text_literal(t, "[");
	for (size_t i = 0; i < n; i++) {
		const MdevType *type = &types[i];
		json_text_literal(t, i > 0 ? ",{\"id\":" : "{\"id\":");
		json_text_string(t, type->id);
		json_text_literal(t, ",\"name\":");
		json_text_string(t, type->name);
		json_text_literal(t, ",\"description\":");
		json_text_string(t, type->description);
		json_text_literal(t, ",\"deviceApi\":");
		json_text_string(t, type->device_api);
		json_text_literal(t, ",\"availableInstances\":");
		json_text_int_or_null(t, type->available_instances);
		json_text_literal(t, ",\"instances\":");
		json_text_strv(t, type->instances);
		json_text_literal(t, "}");
	}
	json_text_literal(t, "]");
}

typedef struct VgpuTypeCount {
	const MdevType *type; /* the first VF's entry of that id */
	int64_t available_vfs;
} VgpuTypeCount;

/*
 * NVIDIA vGPU 17+: every type the PF's free VFs can take now, with how many
 * can (nvidia_vgpu.h), in the order the VFs first offer them. [] for any
 * other PF.
 */
static void vgpu_types_json_text(JsonText *t, const HostModel *model, const PciFunction *pf)
{
	_cleanup_free_ VgpuTypeCount *counts = NULL;
	size_t n = 0, allocated = 0;

	for (size_t i = 0; i < pf->n_vfs; i++) {
		const PciFunction *vf = host_find_function(model, &pf->vfs[i]);
		for (size_t k = 0;
		     vf && vf->nvidia_vgpu && !vf_is_in_use(vf) && k < vf->n_nvidia_vgpu_types;
		     k++) {
			const MdevType *type = &vf->nvidia_vgpu_types[k];
			size_t c = 0;
			while (c < n && strcmp(counts[c].type->id, type->id) != 0)
				c++;
			if (c == n) {
				if (n == allocated) {
					size_t more = allocated ? allocated * 2 : 16;
					VgpuTypeCount *p = reallocarray(counts, more, sizeof(*p));
					if (!p) {
						json_text_fail(t);
						return;
					}
					counts = p;
					allocated = more;
				}
				counts[n++] = (VgpuTypeCount){ type, 0 };
			}
			counts[c].available_vfs++;
		}
	}
	json_text_literal(t, "[");
	for (size_t c = 0; c < n; c++) {
		json_text_literal(t, c > 0 ? ",{\"id\":" : "{\"id\":");
		json_text_string(t, counts[c].type->id);
		json_text_literal(t, ",\"name\":");
		json_text_string(t, counts[c].type->name);
		json_text_literal(t, ",\"availableVFs\":");
		json_text_int(t, counts[c].available_vfs);
		json_text_literal(t, "}");
	}
	json_text_literal(t, "]");
}

/*
 * A VF's "xeProfile" (xe_sriov.h), null when it has none: 0 is no limit
 * (or, for vramQuota, unprovisioned); an attribute it lacks is null.
 */
static void xe_profile_json_text(JsonText *t, const PciFunction *vf)
{
	static const char *const keys[_XE_PROFILE_ATTRIBUTE_MAX] = {
		[XE_PROFILE_EXEC_QUANTUM_MS] = "{\"execQuantumMs\":",
		[XE_PROFILE_PREEMPT_TIMEOUT_US] = ",\"preemptTimeoutUs\":",
		[XE_PROFILE_VRAM_QUOTA] = ",\"vramQuota\":",
	};
	if (!vf || vf->xe_vf_index == 0) {
		json_text_literal(t, "null");
		return;
	}
	for (int a = 0; a < _XE_PROFILE_ATTRIBUTE_MAX; a++) {
		json_text_literal(t, keys[a]);
		json_text_int_or_null(t, vf->xe_profile_known[a] ? (int64_t)vf->xe_profile[a] : -1);
	}
	json_text_literal(t, "}");
}

static void sriov_json_text(JsonText *t, const HostModel *model, const PciFunction *pf)
{
	json_text_literal(t, "{\"vfs\":[");
	for (size_t i = 0; i < pf->n_vfs; i++) {
		const PciFunction *vf = host_find_function(model, &pf->vfs[i]);
		char address[PCI_ADDRESS_TEXT_SIZE];
		json_text_literal(t, i > 0 ? ",{\"address\":" : "{\"address\":");
		json_text_string(t,
				 vf ? vf->address_text : pci_address_format(&pf->vfs[i], address));
		json_text_literal(t, ",\"driver\":");
		json_text_string(t, vf ? vf->driver : NULL);
		json_text_literal(t, ",\"iommuGroup\":");
		json_text_int_or_null(t, vf ? vf->iommu_group : -1);
		json_text_literal(t, ",\"inUse\":");
		json_text_bool(t, vf && vf_is_in_use(vf));
		json_text_literal(t, ",\"vgpuType\":");
		json_text_int_or_null(t,
				      vf && vf->nvidia_vgpu && vf->nvidia_vgpu_current != UINT32_MAX
					      ? (int64_t)vf->nvidia_vgpu_current
					      : -1);
		json_text_literal(t, ",\"xeProfile\":");
		xe_profile_json_text(t, vf);
		json_text_literal(t, "}");
	}
	json_text_literal(t, "],\"totalVFs\":");
	json_text_int(t, pf->sriov_total_vfs);
	json_text_literal(t, ",\"numVFs\":");
	json_text_int(t, pf->sriov_num_vfs);
	json_text_literal(t, ",\"driversAutoprobe\":");
	if (pf->sriov_autoprobe < 0)
		json_text_literal(t, "null");
	else
		json_text_bool(t, pf->sriov_autoprobe);
	json_text_literal(t, ",\"vgpuTypes\":");
	vgpu_types_json_text(t, model, pf);
	json_text_literal(t, "}");
}

/* The assessments as "modes" (taken: done here), after a ','. */
static void assessments_json_text(JsonText *t, ModeAssessment modes[_PARTITION_MODE_MAX])
{
	json_text_literal(t, ",\"modes\":[");
	for (int m = 0; m < _PARTITION_MODE_MAX; m++) {
		json_text_literal(t, m > 0 ? ",{\"mode\":" : "{\"mode\":");
		json_text_string(t, partition_mode_to_string(modes[m].mode));
		json_text_literal(t, ",\"available\":");
		json_text_bool(t, modes[m].available);
		json_text_literal(t, ",\"capacity\":");
		json_text_string(t, modes[m].capacity);
		json_text_literal(t, ",\"note\":");
		json_text_string(t, modes[m].note);
		json_text_literal(t, "}");
	}
	json_text_literal(t, "]");
	mode_assessments_done(modes);
}

/* The hardware doctor's word on a physical function; null for a VF. */
static void family_json_text(JsonText *t, const HostModel *model, const PciFunction *gpu)
{
	GpuDoctor d;

	if (gpu->is_vf) {
		json_text_literal(t, "null");
		return;
	}
	if (gpu_doctor_examine(model, gpu, &d) < 0) {
		json_text_fail(t);
		return;
	}
	json_text_literal(t, "{\"mechanisms\":[");
	for (size_t i = 0; i < d.n_advice; i++) {
		json_text_literal(t, i > 0 ? ",{\"mechanism\":" : "{\"mechanism\":");
		json_text_string(t, d.advice[i].mechanism);
		json_text_literal(t, ",\"usable\":");
		json_text_bool(t, d.advice[i].usable);
		json_text_literal(t, ",\"reason\":");
		json_text_string(t, d.advice[i].reason);
		json_text_literal(t, ",\"steps\":");
		json_text_string(t, d.advice[i].steps);
		json_text_literal(t, "}");
	}
	json_text_literal(t, "],\"name\":");
	json_text_string(t, d.family->name);
	json_text_literal(t, ",\"supports\":");
	json_text_string(t, d.family->mechanisms);
	json_text_literal(t, ",\"source\":");
	json_text_string(t, d.family->source);
	json_text_literal(t, ",\"warnings\":");
	json_text_strv(t, d.warnings);
	json_text_literal(t, "}");
	gpu_doctor_done(&d);
}

/* Every function of the card and every member of the GPU's IOMMU group, after a ','. */
static void relatives_json_text(JsonText *t, const HostModel *model, const PciFunction *gpu)
{
	bool first = true;
	size_t n = 0;

	json_text_literal(t, ",\"functions\":[");
	/* A VF shares its slot with its sibling VFs, not with the card's other functions. */
	const PciFunction *slot = gpu->is_vf ? NULL : host_find_slot(model, &gpu->address, &n);
	if (gpu->is_vf)
		function_json_text(t, gpu);
	for (size_t i = 0; i < n; i++) {
		if (slot[i].is_vf)
			continue;
		if (!first)
			json_text_literal(t, ",");
		first = false;
		function_json_text(t, &slot[i]);
	}
	json_text_literal(t, "],\"iommuGroupMembers\":[");
	const IommuGroup *group =
		gpu->iommu_group >= 0 ? host_find_group(model, gpu->iommu_group) : NULL;
	for (size_t i = 0; group && i < group->n_members; i++) {
		char address[PCI_ADDRESS_TEXT_SIZE];
		if (i > 0)
			json_text_literal(t, ",");
		json_text_string(t, pci_address_format(&group->members[i], address));
	}
	json_text_literal(t, "]");
}

/* The pools, each with "heldForVMs" when `held` is given. */
static void hugepages_json_text(JsonText *t, const HugepagePool *pools, size_t n, int node,
				HugepagesHeld held, void *userdata)
{
	json_text_literal(t, "[");
	for (size_t i = 0; i < n; i++) {
		json_text_literal(t, i > 0 ? ",{\"sizeKiB\":" : "{\"sizeKiB\":");
		json_text_int(t, (int64_t)pools[i].size_kib);
		json_text_literal(t, ",\"total\":");
		json_text_int(t, (int64_t)pools[i].total);
		json_text_literal(t, ",\"free\":");
		json_text_int(t, (int64_t)pools[i].free);
		if (held && (int64_t)pools[i].size_kib > 0) {
			json_text_literal(t, ",\"heldForVMs\":");
			json_text_int(t, (int64_t)held(node, pools[i].size_kib, userdata));
		}
		json_text_literal(t, "}");
	}
	json_text_literal(t, "]");
}

/* A NUMA node's keys, from "id" to "hugepages" (the caller writes the braces). */
static void node_fields_json_text(JsonText *t, const NumaNode *n, HugepagesHeld held,
				  void *userdata)
{
	json_text_literal(t, "\"id\":");
	json_text_int(t, n->id);
	json_text_literal(t, ",\"cpus\":");
	json_text_string(t, n->cpus ? n->cpus : "");
	json_text_literal(t, ",\"memoryTotalKiB\":");
	json_text_int(t, (int64_t)n->memory_total_kib);
	json_text_literal(t, ",\"memoryFreeKiB\":");
	json_text_int(t, (int64_t)n->memory_free_kib);
	json_text_literal(t, ",\"hugepages\":");
	hugepages_json_text(t, n->hugepages, n->n_hugepages, n->id, held, userdata);
}

/* The NUMA node a GPU sits on: its own, or the only one when the platform does not say. */
static const NumaNode *gpu_node(const HostModel *model, int numa_node)
{
	for (size_t i = 0; i < model->n_nodes; i++)
		if (model->nodes[i].id == numa_node)
			return &model->nodes[i];
	return numa_node < 0 && model->n_nodes == 1 ? &model->nodes[0] : NULL;
}

/* What a VM placed next to the GPU can have: the node's CPUs, memory and hugepages. */
static void gpu_node_json_text(JsonText *t, const HostModel *model, int numa_node)
{
	const NumaNode *n = gpu_node(model, numa_node);
	if (!n) {
		json_text_literal(t, "null");
		return;
	}
	json_text_literal(t, "{");
	node_fields_json_text(t, n, NULL, NULL);
	json_text_literal(t, "}");
}

/* Its resizable BARs (rebar.h): each one's size now and the sizes it can take, in MiB. */
static void rebars_json_text(JsonText *t, const PciFunction *gpu)
{
	json_text_literal(t, "[");
	for (size_t i = 0; i < gpu->n_rebars; i++) {
		const PciRebar *bar = &gpu->rebars[i];
		bool first = true;
		json_text_literal(t, i > 0 ? ",{\"sizesMiB\":[" : "{\"sizesMiB\":[");
		for (int bit = 0; bit < 64; bit++) {
			if (!((bar->sizes >> bit) & 1))
				continue;
			if (!first)
				json_text_literal(t, ",");
			first = false;
			json_text_int(t, (int64_t)(UINT64_C(1) << bit));
		}
		json_text_literal(t, "],\"bar\":");
		json_text_int(t, bar->bar);
		json_text_literal(t, ",\"currentMiB\":");
		json_text_int_or_null(t, bar->current ? (int64_t)(bar->current >> 20) : -1);
		json_text_literal(t, "}");
	}
	json_text_literal(t, "]");
}

void host_gpu_json_text(JsonText *t, const HostModel *model, const PciFunction *gpu)
{
	ModeAssessment modes[_PARTITION_MODE_MAX];
	char physfn[PCI_ADDRESS_TEXT_SIZE];

	json_text_literal(t, "{\"mdevTypes\":");
	mdev_types_json_text(t, gpu->mdev_types, gpu->n_mdev_types);
	json_text_literal(t, ",");
	identity_json_text(t, gpu);
	json_text_literal(t, ",\"sysfsPath\":null");
	placement_json_text(t, gpu);
	json_text_literal(t, ",\"bootVga\":");
	json_text_bool(t, gpu->boot_vga == 1);
	json_text_literal(t, ",\"physicalFunction\":");
	json_text_string(t, gpu->is_vf ? pci_address_format(&gpu->physfn, physfn) : NULL);
	json_text_literal(t, ",\"node\":");
	gpu_node_json_text(t, model, gpu->numa_node);
	relatives_json_text(t, model, gpu);
	json_text_literal(t, ",\"sriov\":");
	if (gpu->sriov_total_vfs > 0)
		sriov_json_text(t, model, gpu);
	else
		json_text_literal(t, "null");
	if (gpu_assess_modes(model, gpu, modes) < 0)
		json_text_fail(t);
	else
		assessments_json_text(t, modes);
	json_text_literal(t, ",\"family\":");
	family_json_text(t, model, gpu);
	json_text_literal(t, ",\"resizableBars\":");
	rebars_json_text(t, gpu);
	json_text_literal(t, ",\"warnings\":");
	json_text_strv(t, gpu->warnings);
	json_text_literal(t, "}");
}

void host_mdev_parent_json_text(JsonText *t, const HostModel *model, const MdevParent *parent)
{
	ModeAssessment modes[_PARTITION_MODE_MAX];

	json_text_literal(t, "{\"address\":");
	json_text_string(t, parent->name);
	json_text_literal(t, ",\"sysfsPath\":");
	json_text_string(t, parent->path);
	json_text_literal(t, ",\"bootVga\":false,\"node\":");
	/* Not a PCI function: no node of its own, the only one if there is one. */
	gpu_node_json_text(t, model, -1);
	json_text_literal(t, ",\"functions\":[],\"iommuGroupMembers\":[],\"mdevTypes\":");
	mdev_types_json_text(t, parent->mdev_types, parent->n_mdev_types);
	json_text_literal(t, ",\"resizableBars\":[],\"warnings\":");
	json_text_strv(t, parent->warnings);
	/* No ids, class, driver, group, card or VFs. */
	json_text_literal(t, ",\"vendorId\":null,\"deviceId\":null,\"vendor\":null,\"device\":null,"
			     "\"class\":null,\"driver\":null,\"iommuGroup\":null,\"numaNode\":null,"
			     "\"physicalFunction\":null,\"sriov\":null,\"family\":null");
	if (mdev_parent_assess_modes(parent, modes) < 0)
		json_text_fail(t);
	else
		assessments_json_text(t, modes);
	json_text_literal(t, "}");
}

/* Listed on its own: a GPU, and a VF that is an mdev parent (NVIDIA before vGPU 17). */
static bool listed(const PciFunction *f)
{
	return pci_function_is_gpu(f) && (!f->is_vf || f->mdev_parent);
}

void host_gpus_json_text(JsonText *t, const HostModel *model)
{
	bool first = true;

	json_text_literal(t, "{\"gpus\":[");
	for (size_t i = 0; i < model->n_functions && !t->failed; i++) {
		const PciFunction *f = &model->functions[i];
		if (!listed(f))
			continue;
		if (!first)
			json_text_literal(t, ",");
		first = false;
		host_gpu_json_text(t, model, f);
	}
	for (size_t i = 0; i < model->n_mdev_parents && !t->failed; i++) {
		if (!first)
			json_text_literal(t, ",");
		first = false;
		host_mdev_parent_json_text(t, model, &model->mdev_parents[i]);
	}
	json_text_literal(t, "]}");
}

void host_groups_json_text(JsonText *t, const HostModel *model)
{
	json_text_literal(t, "{\"groups\":[");
	for (size_t i = 0; i < model->n_groups; i++) {
		const IommuGroup *g = &model->groups[i];
		json_text_literal(t, i > 0 ? ",{\"devices\":[" : "{\"devices\":[");
		for (size_t k = 0; k < g->n_members; k++) {
			const PciFunction *f = host_find_function(model, &g->members[k]);
			PciFunction missing = { .address = g->members[k],
						.iommu_group = g->id,
						.numa_node = -1 };
			if (!f) {
				pci_address_format(&missing.address, missing.address_text);
				f = &missing;
			}
			if (k > 0)
				json_text_literal(t, ",");
			function_json_text(t, f);
		}
		json_text_literal(t, "],\"id\":");
		json_text_int(t, g->id);
		json_text_literal(t, "}");
	}
	json_text_literal(t, "]}");
}

void host_topology_json_text(JsonText *t, const HostModel *model, HugepagesHeld held,
			     void *userdata)
{
	json_text_literal(t, "{\"nodes\":[");
	for (size_t i = 0; i < model->n_nodes; i++) {
		const NumaNode *n = &model->nodes[i];
		bool first = true;
		json_text_literal(t, i > 0 ? ",{\"gpus\":[" : "{\"gpus\":[");
		for (size_t k = 0; k < model->n_functions; k++) {
			const PciFunction *f = &model->functions[k];
			/* A platform with one node often leaves numa_node at -1. */
			bool on_node =
				f->numa_node == n->id || (f->numa_node < 0 && model->n_nodes == 1);
			if (!pci_function_is_gpu(f) || f->is_vf || !on_node)
				continue;
			if (!first)
				json_text_literal(t, ",");
			first = false;
			json_text_string(t, f->address_text);
		}
		json_text_literal(t, "],");
		node_fields_json_text(t, n, held, userdata);
		json_text_literal(t, "}");
	}
	json_text_literal(t, "],\"hugepages\":");
	hugepages_json_text(t, model->facts.hugepages, model->facts.n_hugepages, -1, held,
			    userdata);
	json_text_literal(t, "}");
}
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
