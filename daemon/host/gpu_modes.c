/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host/gpu_modes.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/gpu_family.h"
#include "macro.h"
#include "string_table.h"
#include "strv.h"

#define VENDOR_INTEL 0x8086
#define VENDOR_NVIDIA 0x10de
#define VENDOR_AMD 0x1002

static const char *const partition_mode_table[_PARTITION_MODE_MAX] = {
	[PARTITION_MDEV] = "mdev",
	[PARTITION_SRIOV] = "sriov",
	[PARTITION_PASSTHROUGH] = "passthrough",
};

DEFINE_STRING_TABLE_LOOKUP(partition_mode, PartitionModeKind)

bool sriov_vfs_made_by_libvfio(const PciFunction *pf)
{
	return pf->vendor_id != VENDOR_NVIDIA && pf->vendor_id != VENDOR_AMD;
}

bool vf_is_in_use(const PciFunction *vf)
{
	/* NVIDIA's driver is the VF's VFIO driver (nvidia_vgpu.h): its vGPU type says. */
	if (vf->nvidia_vgpu)
		return vf->nvidia_vgpu_current != 0;
	return vf->driver && strcmp(vf->driver, "vfio-pci") != 0;
}

/* Sets a text field from a format; -ENOMEM on failure. */
_printf_(2, 3) static int set(char **field, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	int r = vasprintf(field, format, ap);
	va_end(ap);
	if (r < 0) {
		*field = NULL;
		return -ENOMEM;
	}
	return 0;
}

static bool module_loaded(const HostModel *model, const char *module)
{
	return strv_contains(model->facts.modules_loaded, module);
}

bool pf_has_nvidia_vgpu_vfs(const HostModel *model, const PciFunction *pf)
{
	for (size_t i = 0; i < pf->n_vfs; i++) {
		const PciFunction *vf = host_find_function(model, &pf->vfs[i]);
		if (vf && vf->nvidia_vgpu)
			return true;
	}
	return false;
}

/* Why a GPU without mdev types has none, by vendor; and the fix when there is one. */
static int explain_no_mdev(const HostModel *model, const PciFunction *gpu, ModeAssessment *a)
{
	const GpuFamily *family = gpu_family_lookup(gpu);

	switch (gpu->vendor_id) {
	case VENDOR_INTEL:
		/* i915's GVT-g takes Broadwell..Comet Lake only: enable_gvt=1 does nothing here. */
		if (family->kind == GPU_FAMILY_INTEL_SRIOV_I915 ||
		    family->kind == GPU_FAMILY_INTEL_SRIOV_OOT ||
		    family->kind == GPU_FAMILY_INTEL_SRIOV_XE)
			return set(
				&a->note,
				"GVT-g covers Intel graphics of the 5th to 9th generation "
				"(Broadwell to Comet Lake) only; this GPU (%s) splits with SR-IOV",
				family->name);
		if (!gpu->driver || strcmp(gpu->driver, "i915") != 0)
			return set(&a->note,
				   "GVT-g needs the i915 driver, and this GPU is driven "
				   "by %s",
				   gpu->driver ? gpu->driver : "no driver");
		if (model->facts.i915_enable_gvt < 0)
			return set(&a->note,
				   "this kernel's i915 was built without GVT-g (it has no "
				   "enable_gvt parameter); Debian's kernel has it");
		if (model->facts.i915_enable_gvt == 0) {
			a->fixable = true;
			return set(&a->note, "GVT-g is off (i915.enable_gvt); only Intel "
					     "graphics of the 5th to 9th generation (Broadwell to "
					     "Comet Lake) support it, newer ones use SR-IOV") < 0 ||
					       set(&a->fix,
						   "Add i915.enable_gvt=1 to the kernel command "
						   "line, load kvmgt (echo kvmgt > "
						   "/etc/modules-load.d/kvmgt.conf) and reboot.")
				       ? -ENOMEM
				       : 0;
		}
		if (!module_loaded(model, "kvmgt")) {
			a->fixable = true;
			return set(&a->note, "GVT-g is on but the kvmgt module is not loaded") <
						       0 ||
					       set(&a->fix,
						   "modprobe kvmgt (and echo kvmgt > "
						   "/etc/modules-load.d/kvmgt.conf to keep it).")
				       ? -ENOMEM
				       : 0;
		}
		return set(&a->note, "i915 offers no GVT-g types for this GPU (generation 10 and "
				     "later have no GVT-g; use SR-IOV)");
	case VENDOR_NVIDIA:
		if (pf_has_nvidia_vgpu_vfs(model, gpu))
			return set(&a->note,
				   "NVIDIA's vGPU 17 and later make no mdevs: its VFs take "
				   "the vGPU types (mode sriov)");
		return set(&a->note,
			   "no vGPU types: they come with NVIDIA's vGPU host driver "
			   "(nvidia-vgpu-mgr, licensed); the standard driver offers none");
	case VENDOR_AMD:
		return set(&a->note, "AMD GPUs offer no mediated devices; AMD splits data-centre "
				     "GPUs with SR-IOV (MxGPU)");
	default:
		return set(&a->note, "its driver offers no mediated device types");
	}
}

/* mdev on a parent that offers types: how many are free. */
static int assess_types(const MdevType *types, size_t n_types, ModeAssessment *a)
{
	_cleanup_free_ char *capacity = NULL;
	size_t length = 0;
	int64_t free_total = 0;

	FILE *f = open_memstream(&capacity, &length);
	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < n_types; i++) {
		const MdevType *t = &types[i];
		if (t->available_instances <= 0)
			continue; /* used up, or unknown (warned) */
		fprintf(f, "%s%s: %lld free", free_total ? ", " : "", t->id,
			(long long)t->available_instances);
		free_total += t->available_instances;
	}
	if (fclose(f) != 0)
		return -ENOMEM;

	a->available = free_total > 0;
	if (a->available) {
		a->capacity = TAKE_PTR(capacity);
		return 0;
	}
	size_t instances = 0;
	for (size_t i = 0; i < n_types; i++)
		instances += strv_length(types[i].instances);
	return set(&a->note, "every mdev type is used up (%zu %s)", instances,
		   instances == 1 ? "instance exists" : "instances exist");
}

/* Is one of the types offered with an instance free? */
static bool types_have_room(const MdevType *types, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (types[i].available_instances > 0)
			return true;
	return false;
}

/*
 * NVIDIA before vGPU 17 on Ampere and later: the PF offers no types, each of
 * its VFs is an mdev parent that holds one vGPU (User Guide 16, "Creating an
 * NVIDIA vGPU on a Linux with KVM Hypervisor": mdev types under the VF).
 * -ENOENT when no VF is a parent.
 */
static int assess_vf_parents(const HostModel *model, const PciFunction *gpu, ModeAssessment *a)
{
	size_t parents = 0, room = 0;

	for (size_t i = 0; i < gpu->n_vfs; i++) {
		const PciFunction *vf = host_find_function(model, &gpu->vfs[i]);
		if (!vf || !vf->mdev_parent)
			continue;
		parents++;
		room += types_have_room(vf->mdev_types, vf->n_mdev_types);
	}
	if (parents == 0)
		return -ENOENT;
	a->available = room > 0;
	if (a->available)
		return set(&a->capacity, "%zu/%zu VFs can take a vGPU", room, parents) < 0 ||
				       set(&a->note, "each VF is an mdev parent of one vGPU: "
						     "'vfioctl gpu' on a VF lists its types")
			       ? -ENOMEM
			       : 0;
	return set(&a->note, "every VF holds a vGPU (%zu VFs)", parents);
}

static int assess_mdev(const HostModel *model, const PciFunction *gpu, ModeAssessment *a)
{
	if (gpu->n_mdev_types == 0) {
		int r = assess_vf_parents(model, gpu, a);
		return r == -ENOENT ? explain_no_mdev(model, gpu, a) : r;
	}
	return assess_types(gpu->mdev_types, gpu->n_mdev_types, a);
}

/* An NVIDIA PF's VFs come from NVIDIA's vGPU host driver, never from libvfio. */
static int explain_nvidia_vfs(const PciFunction *gpu, ModeAssessment *a)
{
	a->fixable = true;
	return set(&a->note, "no VFs are enabled; NVIDIA's VFs are made by its vGPU host driver, "
			     "on the nvidia driver, not by libvfio") < 0 ||
			       set(&a->fix, "/usr/lib/nvidia/sriov-manage -e %s (after each boot)",
				   gpu->address_text) < 0
		       ? -ENOMEM
		       : 0;
}

/* A VF that can be handed out now: not in use, and for NVIDIA's, a type to take. */
static bool vf_is_free(const PciFunction *vf)
{
	return !vf_is_in_use(vf) && (!vf->nvidia_vgpu || vf->n_nvidia_vgpu_types > 0);
}

/*
 * An AMD PF with the SR-IOV capability and no VFs. Only AMD's GIM enables
 * MxGPU VFs, and it does so itself when it loads, as many as its vf_num
 * parameter says (legacy GIM docs/gim_runtime_configuration; open GIM
 * gim_shim/gim_config.c). Neither gim nor amdgpu offers sriov_configure, so
 * the kernel refuses a write to sriov_numvfs (drivers/pci/iov.c,
 * sriov_numvfs_store: -ENOENT): libvfio cannot enable them.
 */
static int explain_amd_without_vfs(const PciFunction *gpu, ModeAssessment *a)
{
	const GpuFamily *family = gpu_family_lookup(gpu);

	if (gpu->driver && strcmp(gpu->driver, "gim") == 0)
		return set(&a->note, "gim enabled no VFs: it enables them when it loads, from its "
				     "vf_num parameter (the kernel's sriov_numvfs cannot)");
	if (family->kind == GPU_FAMILY_AMD_MXGPU)
		return set(&a->note,
			   "the VFs of an MxGPU come from AMD's gim, and %s drives "
			   "this GPU",
			   gpu->driver ? gpu->driver : "no driver");
	return set(&a->note,
		   "it has SR-IOV in hardware, but no published host driver (AMD's "
		   "gim) supports this GPU, and %s cannot enable VFs",
		   gpu->driver ? gpu->driver : "no driver");
}

static int assess_sriov(const HostModel *model, const PciFunction *gpu, ModeAssessment *a)
{
	char physfn[PCI_ADDRESS_TEXT_SIZE];

	if (gpu->is_vf)
		return set(&a->note, "it is a virtual function of %s; pass it through whole",
			   pci_address_format(&gpu->physfn, physfn));
	if (gpu->sriov_total_vfs <= 0)
		return set(&a->note, "it has no SR-IOV capability");
	if (gpu->vendor_id == VENDOR_AMD && gpu->sriov_num_vfs == 0)
		return explain_amd_without_vfs(gpu, a);

	if (gpu->sriov_num_vfs == 0 && gpu->vendor_id == VENDOR_NVIDIA)
		return explain_nvidia_vfs(gpu, a);
	if (gpu->sriov_num_vfs == 0) {
		a->available = true;
		return set(&a->capacity, "0/%d VFs enabled", gpu->sriov_total_vfs) < 0 ||
				       set(&a->note, "no VFs are enabled yet; libvfio enables them "
						     "when a partition is created")
			       ? -ENOMEM
			       : 0;
	}

	size_t free_vfs = 0, vgpu_vfs = 0;
	for (size_t i = 0; i < gpu->n_vfs; i++) {
		const PciFunction *vf = host_find_function(model, &gpu->vfs[i]);
		free_vfs += vf && vf_is_free(vf);
		vgpu_vfs += vf && vf->nvidia_vgpu;
	}
	a->available = free_vfs > 0;
	if (set(&a->capacity, "%zu/%d VFs free", free_vfs, gpu->sriov_num_vfs) < 0)
		return -ENOMEM;
	if (!a->available) {
		free(a->capacity);
		a->capacity = NULL;
		if (vgpu_vfs > 0)
			return set(&a->note, "every VF holds a vGPU, or the GPU has room for no "
					     "more");
		return set(&a->note, "all %d enabled VFs are held by host drivers",
			   gpu->sriov_num_vfs);
	}
	if (vgpu_vfs > 0)
		return set(&a->note,
			   "each VF takes one NVIDIA vGPU type: 'vfioctl gpu %s' lists "
			   "them",
			   gpu->address_text);
	return 0;
}

/* The group members that are neither functions of this card nor bridges. */
static int foreign_members(const HostModel *model, const PciFunction *gpu, const IommuGroup *group,
			   char **ret)
{
	size_t length = 0;
	FILE *f = open_memstream(ret, &length);
	size_t n = 0;

	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < group->n_members; i++) {
		const PciAddress *member = &group->members[i];
		const PciFunction *m = host_find_function(model, member);
		char address[PCI_ADDRESS_TEXT_SIZE];
		if (pci_address_same_slot(member, &gpu->address) ||
		    (m && pci_function_is_bridge(m)))
			continue;
		fprintf(f, "%s%s", n++ ? ", " : "", pci_address_format(member, address));
		if (m && m->device_name)
			fprintf(f, " (%s)", m->device_name);
	}
	if (fclose(f) != 0)
		return -ENOMEM;
	if (n == 0) {
		free(*ret);
		*ret = NULL;
	}
	return 0;
}

static int assess_passthrough(const HostModel *model, const PciFunction *gpu, ModeAssessment *a)
{
	const IommuGroup *group =
		gpu->iommu_group >= 0 ? host_find_group(model, gpu->iommu_group) : NULL;
	_cleanup_free_ char *foreign = NULL;

	if (!group)
		return set(&a->note, "it is in no IOMMU group: the IOMMU is off (see the iommu "
				     "check)");
	if (foreign_members(model, gpu, group, &foreign) < 0)
		return -ENOMEM;
	if (foreign)
		return set(
			&a->note,
			"IOMMU group %d also holds %s, which would go to the VM with it; put the "
			"card in another slot",
			group->id, foreign);

	size_t functions = 0;
	for (size_t i = 0; i < group->n_members; i++)
		if (pci_address_same_slot(&group->members[i], &gpu->address))
			functions++;
	a->available = true;
	if (set(&a->capacity, "the whole GPU (%zu function%s)", functions,
		functions == 1 ? "" : "s") < 0)
		return -ENOMEM;
	if (gpu->boot_vga == 1)
		return set(&a->note, "it is the boot display: the host loses this screen while a "
				     "VM holds the GPU");
	if (gpu->driver && strcmp(gpu->driver, "vfio-pci") != 0)
		return set(&a->note,
			   "its driver %s is unbound while a VM holds it, and restored "
			   "afterwards",
			   gpu->driver);
	return 0;
}

int gpu_assess_modes(const HostModel *model, const PciFunction *gpu,
		     ModeAssessment ret[_PARTITION_MODE_MAX])
{
	static int (*const assess[_PARTITION_MODE_MAX])(const HostModel *, const PciFunction *,
							ModeAssessment *) = {
		[PARTITION_MDEV] = assess_mdev,
		[PARTITION_SRIOV] = assess_sriov,
		[PARTITION_PASSTHROUGH] = assess_passthrough,
	};

	for (int m = 0; m < _PARTITION_MODE_MAX; m++)
		ret[m] = (ModeAssessment){ .mode = (PartitionModeKind)m };
	for (int m = 0; m < _PARTITION_MODE_MAX; m++)
		if (assess[m](model, gpu, &ret[m]) < 0) {
			mode_assessments_done(ret);
			return -ENOMEM;
		}
	return 0;
}

int mdev_parent_assess_modes(const MdevParent *parent, ModeAssessment ret[_PARTITION_MODE_MAX])
{
	int r = 0;

	for (int m = 0; m < _PARTITION_MODE_MAX; m++)
		ret[m] = (ModeAssessment){ .mode = (PartitionModeKind)m };
	if (parent->n_mdev_types == 0)
		r = set(&ret[PARTITION_MDEV].note, "its driver offers no mediated device types");
	else
		r = assess_types(parent->mdev_types, parent->n_mdev_types, &ret[PARTITION_MDEV]);
	for (int m = PARTITION_SRIOV; r >= 0 && m < _PARTITION_MODE_MAX; m++)
		r = set(&ret[m].note, "it is not a PCI device: only its mediated devices can be "
				      "handed to a VM");
	if (r < 0)
		mode_assessments_done(ret);
	return r;
}

void mode_assessments_done(ModeAssessment assessments[_PARTITION_MODE_MAX])
{
	for (int m = 0; m < _PARTITION_MODE_MAX; m++) {
		free(assessments[m].capacity);
		free(assessments[m].note);
		free(assessments[m].fix);
		assessments[m] = (ModeAssessment){ .mode = (PartitionModeKind)m };
	}
}
