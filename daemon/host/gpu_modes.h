/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which partition modes a GPU offers (mdev, SR-IOV, passthrough), how much of
 * each is free, and why a mode is not offered. A pure function of the host
 * model: no I/O.
 */
#pragma once

#include <stdbool.h>

#include "host/host.h"
#include "string_table.h"

typedef enum PartitionModeKind {
	PARTITION_MDEV,
	PARTITION_SRIOV,
	PARTITION_PASSTHROUGH,
	_PARTITION_MODE_MAX,
} PartitionModeKind;

typedef struct ModeAssessment {
	PartitionModeKind mode;
	bool available;
	bool fixable; /* not available now, but a change on this host would make it so */
	char *capacity; /* "i915-GVTg_V5_4: 2 free", "3/7 VFs free"; NULL when not available */
	char *note; /* why not, or what to keep in mind */
	char *fix; /* the change that makes it available, when fixable */
} ModeAssessment;

/* "mdev", "sriov", "passthrough", to and from the mode (-EINVAL for anything else). */
DECLARE_STRING_TABLE_LOOKUP(partition_mode, PartitionModeKind);

/* Fills one assessment per mode, in enum order. Returns 0 or -ENOMEM. */
int gpu_assess_modes(const HostModel *model, const PciFunction *gpu,
		     ModeAssessment ret[_PARTITION_MODE_MAX]);
/* The same for an mdev parent outside PCI: mdev only. */
int mdev_parent_assess_modes(const MdevParent *parent, ModeAssessment ret[_PARTITION_MODE_MAX]);
void mode_assessments_done(ModeAssessment assessments[_PARTITION_MODE_MAX]);

/*
 * Whether libvfio may enable the PF's VFs itself (sriov_numvfs): not for
 * NVIDIA's (its sriov-manage makes them, on its driver) nor AMD's (gim does,
 * from vf_num; the kernel refuses sriov_numvfs to it and amdgpu).
 */
bool sriov_vfs_made_by_libvfio(const PciFunction *pf);

/* Whether the PF has a VF of NVIDIA's vGPU 17 or later (nvidia_vgpu.h). */
bool pf_has_nvidia_vgpu_vfs(const HostModel *model, const PciFunction *pf);

/* True for a VF that a host driver (not vfio-pci) holds. */
bool vf_is_in_use(const PciFunction *vf);
