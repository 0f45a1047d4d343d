/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The GPU families libvfio knows by their PCI IDs, and how each can be split:
 * one table row per family, each row citing the public source its IDs and
 * mechanisms come from. A row matches a list of device IDs, or a rule (a
 * vendor and a PCI class, or the driver bound to the physical function) when
 * no ID list is published. A pure lookup: no I/O.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "host/host.h"

typedef enum GpuFamilyKind {
	GPU_FAMILY_INTEL_GVTG, /* Broadwell .. Comet Lake: mdev through GVT-g */
	GPU_FAMILY_INTEL_SRIOV_I915, /* Tiger Lake, Alder/Raptor Lake, Alder Lake-N */
	GPU_FAMILY_INTEL_SRIOV_OOT, /* Meteor/Arrow Lake: out-of-tree module only */
	GPU_FAMILY_INTEL_SRIOV_XE, /* Battlemage (Arc B, Arc Pro B), Panther Lake: xe */
	GPU_FAMILY_NVIDIA_DATACENTER, /* 3D controllers: vGPU when NVIDIA lists them */
	GPU_FAMILY_NVIDIA_OTHER, /* GeForce and the rest: passthrough */
	GPU_FAMILY_AMD_MXGPU, /* the PF is driven by AMD's gim */
	GPU_FAMILY_AMD_VENDOR_RESET, /* Polaris .. Navi 23: vendor-reset */
	GPU_FAMILY_AMD_OTHER,
	GPU_FAMILY_UNKNOWN,
	_GPU_FAMILY_MAX,
} GpuFamilyKind;

typedef struct GpuFamily {
	GpuFamilyKind kind;
	const char *name; /* "Intel Gen12 (Tiger Lake, Alder/Raptor Lake, Alder Lake-N)" */
	uint16_t vendor_id; /* 0: any */
	const uint16_t *device_ids; /* NULL: the row is a rule */
	size_t n_device_ids;
	uint16_t class; /* upper 16 bits of the class, 0: any */
	const char *pf_driver; /* the rule "driven by": NULL when not part of it */
	const char *mechanisms; /* what the family supports, for people */
	const char *source; /* where the row's facts come from */
} GpuFamily;

/*
 * The family of a GPU by its vendor, device ID, class and driver; never NULL:
 * the last row, "unknown", matches anything.
 */
const GpuFamily *gpu_family_lookup(const PciFunction *gpu);

/* Every row, in lookup order, for the README's table and the tests. */
const GpuFamily *gpu_family_table(size_t *ret_n);
