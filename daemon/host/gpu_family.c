/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host/gpu_family.h"

#include <string.h>

#include "macro.h"

#define VENDOR_INTEL 0x8086
#define VENDOR_NVIDIA 0x10de
#define VENDOR_AMD 0x1002

/*
 * GVT-g: the kernel's drivers/gpu/drm/i915/intel_gvt.c (is_supported_device)
 * accepts Broadwell, Skylake, Kaby Lake, Broxton, Coffee Lake and Comet Lake.
 * Their IDs: include/drm/i915_pciids.h of Linux 6.1 (Debian 12's
 * linux-headers-6.1.0-*-common), INTEL_BDW_IDS, INTEL_SKL_IDS, INTEL_BXT_IDS,
 * INTEL_KBL_IDS and INTEL_CFL_IDS (which holds Whiskey Lake, Amber Lake and
 * Comet Lake too).
 */
static const uint16_t intel_gvtg_ids[] = {
	/* Broadwell */
	0x1602,
	0x1606,
	0x160a,
	0x160b,
	0x160d,
	0x160e,
	0x1612,
	0x1616,
	0x161a,
	0x161b,
	0x161d,
	0x161e,
	0x1622,
	0x1626,
	0x162a,
	0x162b,
	0x162d,
	0x162e,
	0x1632,
	0x1636,
	0x163a,
	0x163b,
	0x163d,
	0x163e,
	/* Skylake */
	0x1902,
	0x1906,
	0x190a,
	0x190b,
	0x190e,
	0x1912,
	0x1913,
	0x1915,
	0x1916,
	0x1917,
	0x191a,
	0x191b,
	0x191d,
	0x191e,
	0x1921,
	0x1923,
	0x1926,
	0x1927,
	0x192a,
	0x192b,
	0x192d,
	0x1932,
	0x193a,
	0x193b,
	0x193d,
	/* Broxton (Apollo Lake) */
	0x0a84,
	0x1a84,
	0x1a85,
	0x5a84,
	0x5a85,
	/* Kaby Lake, Amber Lake */
	0x5902,
	0x5906,
	0x5908,
	0x590a,
	0x590b,
	0x590e,
	0x5912,
	0x5913,
	0x5915,
	0x5916,
	0x5917,
	0x591a,
	0x591b,
	0x591c,
	0x591d,
	0x591e,
	0x5921,
	0x5923,
	0x5926,
	0x5927,
	0x593b,
	0x87c0,
	/* Coffee Lake, Whiskey Lake, Amber Lake, Comet Lake */
	0x3e90,
	0x3e91,
	0x3e92,
	0x3e93,
	0x3e94,
	0x3e96,
	0x3e98,
	0x3e99,
	0x3e9a,
	0x3e9b,
	0x3e9c,
	0x3ea0,
	0x3ea1,
	0x3ea2,
	0x3ea3,
	0x3ea4,
	0x3ea5,
	0x3ea6,
	0x3ea7,
	0x3ea8,
	0x3ea9,
	0x87ca,
	0x9b21,
	0x9b41,
	0x9ba2,
	0x9ba4,
	0x9ba5,
	0x9ba8,
	0x9baa,
	0x9bac,
	0x9bc2,
	0x9bc4,
	0x9bc5,
	0x9bc6,
	0x9bc8,
	0x9bca,
	0x9bcc,
	0x9be6,
	0x9bf6,
};

/*
 * Gen12 iGPUs with SR-IOV through Intel's i915 as strongtz/i915-sriov-dkms
 * packages it (README: i915.enable_guc=3 i915.max_vfs=7, "up to 7 VFs").
 * IDs: Linux 6.1 include/drm/i915_pciids.h, INTEL_TGL_12_IDS, INTEL_ADLS_IDS,
 * INTEL_ADLP_IDS, INTEL_ADLN_IDS, INTEL_RPLS_IDS, INTEL_RPLP_IDS.
 */
static const uint16_t intel_sriov_i915_ids[] = {
	/* Tiger Lake */
	0x9a40,
	0x9a49,
	0x9a59,
	0x9a60,
	0x9a68,
	0x9a70,
	0x9a78,
	0x9ac0,
	0x9ac9,
	0x9ad9,
	0x9af8,
	/* Alder Lake-S */
	0x4680,
	0x4682,
	0x4688,
	0x468a,
	0x468b,
	0x4690,
	0x4692,
	0x4693,
	/* Alder Lake-P */
	0x4626,
	0x4628,
	0x462a,
	0x46a0,
	0x46a1,
	0x46a2,
	0x46a3,
	0x46a6,
	0x46a8,
	0x46aa,
	0x46b0,
	0x46b1,
	0x46b2,
	0x46b3,
	0x46c0,
	0x46c1,
	0x46c2,
	0x46c3,
	/* Alder Lake-N */
	0x46d0,
	0x46d1,
	0x46d2,
	/* Raptor Lake-S */
	0xa780,
	0xa781,
	0xa782,
	0xa783,
	0xa788,
	0xa789,
	0xa78a,
	0xa78b,
	/* Raptor Lake-P */
	0xa720,
	0xa721,
	0xa7a0,
	0xa7a1,
	0xa7a8,
	0xa7a9,
};

/*
 * Meteor Lake and Arrow Lake: SR-IOV only with the out-of-tree module
 * (issue 13; strongtz/i915-sriov-dkms). IDs: torvalds/linux
 * include/drm/intel/pciids.h, INTEL_MTL_IDS and INTEL_ARL_IDS.
 */
static const uint16_t intel_sriov_oot_ids[] = {
	/* Meteor Lake */
	0x7d40,
	0x7d45,
	0x7d55,
	0x7d60,
	0x7dd5,
	/* Arrow Lake */
	0x7d41,
	0x7d51,
	0x7d67,
	0x7dd1,
	0xb640,
};

/*
 * Battlemage (Arc B-series, Arc Pro B-series) and Panther Lake: SR-IOV through
 * the upstream xe driver (xe.max_vfs; issue 13: native from Linux 6.17). IDs:
 * torvalds/linux include/drm/intel/pciids.h, INTEL_BMG_IDS and INTEL_PTL_IDS.
 */
static const uint16_t intel_sriov_xe_ids[] = {
	/* Battlemage */
	0xe202,
	0xe209,
	0xe20b,
	0xe20c,
	0xe20d,
	0xe210,
	0xe211,
	0xe212,
	0xe216,
	0xe220,
	0xe221,
	0xe222,
	0xe223,
	/* Panther Lake */
	0xb080,
	0xb081,
	0xb082,
	0xb083,
	0xb084,
	0xb085,
	0xb086,
	0xb087,
	0xb08f,
	0xb090,
	0xb0a0,
	0xb0b0,
};

/*
 * AMD MxGPU: GPUs whose SR-IOV physical function AMD's GIM drives, and their
 * virtual functions (so that a VF too is known as MxGPU). Each ID cites where
 * it is published:
 * - FirePro S7150 PF 0x6929: the legacy GIM, github.com/GPUOpen-LibrariesAndSDKs/
 *   MxGPU-Virtualization drv/gim_drv.c (its only pci_device_id); its VF 0x692f
 *   ("Tonga XTV GL [FirePro S7150V]"): the PCI ID Repository (pci.ids).
 * - Instinct MI300X 0x74a1, MI325X 0x74a5, MI308X 0x74a2/0x74a8, MI300X HF 0x74a9:
 *   the open GIM, github.com/amd/MxGPU-Virtualization libgv/core/amdgv_device.c
 *   (amdgv_sriov_device_table); their VFs 0x74b5, 0x74b6, 0x74bc, 0x74bd:
 *   libgv/core/amdgv_marketing_name.c.
 * - MI350X 0x75a0 (VF 0x75b0), MI355X 0x75a3 (VF 0x75b3), MI325X VF 0x74b9,
 *   Radeon PRO V710 0x7460 (VF "V710 MxGPU" 0x7461): github.com/ROCm/gpu-operator
 *   helm-charts-k8s/templates/gpu-nfd-default-rule.yaml (0x75a0 and 0x75a3
 *   are in the open GIM's libgv/core/hw/AI/mi300/mi300_sched.c too).
 */
static const uint16_t amd_mxgpu_ids[] = {
	/* FirePro S7150 (legacy GIM) */
	0x6929,
	0x692f,
	/* Instinct MI300 series (open GIM) */
	0x74a1,
	0x74a2,
	0x74a5,
	0x74a8,
	0x74a9,
	0x74b5,
	0x74b6,
	0x74b9,
	0x74bc,
	0x74bd,
	/* Instinct MI350 series */
	0x75a0,
	0x75a3,
	0x75b0,
	0x75b3,
	/* Radeon PRO V710 */
	0x7460,
	0x7461,
};

/*
 * AMD cards that vendor-reset can reset: gnif/vendor-reset src/device-db.h
 * (Polaris 10/11/12, Vega 10/20, Navi 10/12/14, Navi 23's 0x73ff, Arcturus).
 */
static const uint16_t amd_vendor_reset_ids[] = {
	/* Polaris 10 */
	0x67c0,
	0x67c1,
	0x67c2,
	0x67c4,
	0x67c7,
	0x67c8,
	0x67c9,
	0x67ca,
	0x67cc,
	0x67cf,
	0x67d0,
	0x67df,
	0x6fdf,
	/* Polaris 11 */
	0x67e0,
	0x67e1,
	0x67e3,
	0x67e7,
	0x67e8,
	0x67e9,
	0x67eb,
	0x67ef,
	0x67ff,
	/* Polaris 12 */
	0x6980,
	0x6981,
	0x6985,
	0x6986,
	0x6987,
	0x6995,
	0x6997,
	0x699f,
	/*
	 * Vega 10. The MI25 (0x6860) and V340 have SR-IOV in hardware (pci.ids
	 * names their VF 0x686c "Instinct MI25 MxGPU"), but neither published GIM
	 * drives them (the legacy one takes the S7150 only, the open one the
	 * MI300 series on): on Linux they are passthrough GPUs, reset by
	 * vendor-reset, and gpu_modes.c says why their VFs cannot be enabled.
	 */
	0x6860,
	0x6861,
	0x6862,
	0x6863,
	0x6864,
	0x6867,
	0x6868,
	0x6869,
	0x686a,
	0x686b,
	0x686c,
	0x686d,
	0x686e,
	0x686f,
	0x687f,
	/* Vega 20 */
	0x66a0,
	0x66a1,
	0x66a2,
	0x66a3,
	0x66a4,
	0x66a7,
	0x66af,
	0x164c,
	/* Navi 10 */
	0x7310,
	0x7312,
	0x7318,
	0x7319,
	0x731a,
	0x731b,
	0x731e,
	0x731f,
	0x15bf,
	0x15dd,
	0x15de,
	0x15e7,
	0x1636,
	0x1638,
	/* Navi 14, Navi 12 */
	0x7340,
	0x7341,
	0x7347,
	0x734f,
	0x7360,
	0x7362,
	/* Navi 23 */
	0x73ff,
	/* Arcturus (Instinct MI100) */
	0x738c,
};

#define IDS(a) a, ELEMENTSOF(a)

static const GpuFamily families[] = {
	{
		.kind = GPU_FAMILY_INTEL_GVTG,
		.name = "Intel Gen8-9.5 graphics (Broadwell to Comet Lake)",
		.vendor_id = VENDOR_INTEL,
		IDS(intel_gvtg_ids),
		.mechanisms = "mdev (GVT-g), passthrough",
		.source = "Linux drivers/gpu/drm/i915/intel_gvt.c; include/drm/i915_pciids.h",
	},
	{
		.kind = GPU_FAMILY_INTEL_SRIOV_I915,
		.name = "Intel Gen12 graphics (Tiger Lake, Alder/Raptor Lake, Alder Lake-N)",
		.vendor_id = VENDOR_INTEL,
		IDS(intel_sriov_i915_ids),
		.mechanisms = "SR-IOV (up to 7 VFs), passthrough",
		.source = "github.com/strongtz/i915-sriov-dkms README; include/drm/i915_pciids.h",
	},
	{
		.kind = GPU_FAMILY_INTEL_SRIOV_OOT,
		.name = "Intel Meteor Lake / Arrow Lake graphics",
		.vendor_id = VENDOR_INTEL,
		IDS(intel_sriov_oot_ids),
		.mechanisms = "SR-IOV with the out-of-tree module, passthrough",
		.source = "github.com/strongtz/i915-sriov-dkms; include/drm/intel/pciids.h",
	},
	{
		.kind = GPU_FAMILY_INTEL_SRIOV_XE,
		.name = "Intel Battlemage (Arc B, Arc Pro B) / Panther Lake graphics",
		.vendor_id = VENDOR_INTEL,
		IDS(intel_sriov_xe_ids),
		.mechanisms = "SR-IOV with xe (xe.max_vfs), passthrough",
		.source = "Linux drivers/gpu/drm/xe; include/drm/intel/pciids.h",
	},
	{
		/* The class, not IDs: NVIDIA's data-centre cards are 3D controllers (host.h). */
		.kind = GPU_FAMILY_NVIDIA_DATACENTER,
		.name = "NVIDIA data-centre GPU (3D controller)",
		.vendor_id = VENDOR_NVIDIA,
		.class = 0x0302,
		.mechanisms = "vGPU with NVIDIA's host driver (mdev on the GPU up to Turing, "
			      "SR-IOV VFs from Ampere), passthrough",
		.source = "NVIDIA Virtual GPU Software User Guide (docs.nvidia.com/vgpu)",
	},
	{
		.kind = GPU_FAMILY_NVIDIA_OTHER,
		.name = "NVIDIA GPU",
		.vendor_id = VENDOR_NVIDIA,
		.mechanisms = "passthrough",
		.source = "NVIDIA Virtual GPU Software User Guide (docs.nvidia.com/vgpu)",
	},
	{
		/* Before vendor-reset's row: these IDs are MxGPU whatever drives them. */
		.kind = GPU_FAMILY_AMD_MXGPU,
		.name = "AMD MxGPU (FirePro S7150, Instinct MI300/MI350, Radeon PRO V710)",
		.vendor_id = VENDOR_AMD,
		IDS(amd_mxgpu_ids),
		.mechanisms = "SR-IOV (MxGPU) with AMD's gim on the PF, passthrough",
		.source = "github.com/amd/MxGPU-Virtualization libgv/core/amdgv_device.c; "
			  "github.com/GPUOpen-LibrariesAndSDKs/MxGPU-Virtualization drv/gim_drv.c; "
			  "github.com/ROCm/gpu-operator gpu-nfd-default-rule.yaml; pci.ids",
	},
	{
		/* Any other GPU whose PF gim drives. */
		.kind = GPU_FAMILY_AMD_MXGPU,
		.name = "AMD MxGPU (driven by gim)",
		.vendor_id = VENDOR_AMD,
		.pf_driver = "gim",
		.mechanisms = "SR-IOV (MxGPU), passthrough",
		.source = "github.com/amd/MxGPU-Virtualization README",
	},
	{
		.kind = GPU_FAMILY_AMD_VENDOR_RESET,
		.name = "AMD Polaris, Vega, Navi 10/12/14, Navi 23",
		.vendor_id = VENDOR_AMD,
		IDS(amd_vendor_reset_ids),
		.mechanisms = "passthrough (resets need vendor-reset)",
		.source = "github.com/gnif/vendor-reset src/device-db.h",
	},
	{
		.kind = GPU_FAMILY_AMD_OTHER,
		.name = "AMD GPU",
		.vendor_id = VENDOR_AMD,
		.mechanisms = "passthrough",
		.source = "github.com/gnif/vendor-reset (the cards it knows; others are not)",
	},
	{
		.kind = GPU_FAMILY_UNKNOWN,
		.name = "unknown GPU family",
		.mechanisms = "passthrough only, as far as libvfio knows",
		.source = "-",
	},
};

static bool lists(const uint16_t *ids, size_t n, uint16_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

static bool row_matches(const GpuFamily *row, const PciFunction *gpu)
{
	if (row->vendor_id && row->vendor_id != gpu->vendor_id)
		return false;
	if (row->device_ids && !lists(row->device_ids, row->n_device_ids, gpu->device_id))
		return false;
	if (row->class && row->class != gpu->class_code >> 8)
		return false;
	if (row->pf_driver && (!gpu->driver || strcmp(gpu->driver, row->pf_driver) != 0))
		return false;
	return true;
}

const GpuFamily *gpu_family_lookup(const PciFunction *gpu)
{
	for (size_t i = 0; i < ELEMENTSOF(families); i++)
		if (gpu->readable && row_matches(&families[i], gpu))
			return &families[i];
	return &families[ELEMENTSOF(families) - 1];
}

const GpuFamily *gpu_family_table(size_t *ret_n)
{
	*ret_n = ELEMENTSOF(families);
	return families;
}
