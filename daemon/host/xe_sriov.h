/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Intel's xe driver's SR-IOV administration, as its PF shows it in sysfs
 * (Linux 6.19, drivers/gpu/drm/xe/xe_sriov_pf_sysfs.c):
 *
 *   PF/sriov_admin/pf/profile/{exec_quantum_ms,preempt_timeout_us,sched_priority}
 *   PF/sriov_admin/vfN/profile/...  one per VF the PF can have (N from 1),
 *   PF/sriov_admin/vfN/device       a link to the VF, once it is enabled
 *
 * exec_quantum_ms and preempt_timeout_us are a VF's share of GPU time: read
 * and written as u32 (kstrtou32, base 0: EINVAL for anything else). A VF's
 * sched_priority cannot be written (EOPNOTSUPP: the GuC firmware changes only
 * the PF's), so it is not a VF's setting here.
 *
 * vfN/profile/vram_quota (Linux 7.0,
 * Documentation/ABI/testing/sysfs-driver-intel-xe-sriov; xe_sriov_pf_sysfs.c
 * DEFINE_SIMPLE_PROVISIONING_SRIOV_VF_ATTR(vram_quota, vram, u64, "%llu\n")):
 * a VF's VRAM in bytes, u64 (kstrtou64, base 0), read "%llu\n", 0 when
 * unprovisioned, "might be aligned per HW/FW requirements"; only on discrete
 * GPUs (absent on integrated ones and for the PF), read-only without dynamic
 * VRAM provisioning (no LMTT); released when the VFs are disabled. So each
 * attribute is known or not on its own (PciFunction.xe_profile_known): an
 * integrated GPU's VFs have a share of GPU time and no vram_quota.
 * libvfio takes vram_quota up to INT64_MAX (8 EiB): its records hold int64.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "host/host.h"
#include "host/sysfs_plan.h"
#include "macro.h"

/* The attributes of a VF's profile libvfio sets. */
typedef enum XeProfileAttribute {
	XE_PROFILE_EXEC_QUANTUM_MS,
	XE_PROFILE_PREEMPT_TIMEOUT_US,
	XE_PROFILE_VRAM_QUOTA,
	_XE_PROFILE_ATTRIBUTE_MAX,
} XeProfileAttribute;

_Static_assert(_XE_PROFILE_ATTRIBUTE_MAX == ELEMENTSOF(((PciFunction *)0)->xe_profile),
	       "PciFunction.xe_profile holds one value per attribute");

/* "exec_quantum_ms", "preempt_timeout_us", "vram_quota": the file's name. */
const char *xe_profile_attribute_to_string(XeProfileAttribute attribute);
/* The attribute of that file name; -EINVAL for any other. */
int xe_profile_attribute_from_string(const char *name);
/* The largest value libvfio reads or writes: UINT32_MAX, or INT64_MAX for vram_quota. */
uint64_t xe_profile_attribute_max(XeProfileAttribute attribute);

/* A VF's profile as asked for: the attributes to set, and their values. */
typedef struct XeProfile {
	bool set[_XE_PROFILE_ATTRIBUTE_MAX];
	uint64_t value[_XE_PROFILE_ATTRIBUTE_MAX];
} XeProfile;

/* Whether `profile` asks for anything. */
bool xe_profile_is_set(const XeProfile *profile);

/*
 * Reads, for each PF of the model with sriov_admin (xe, from Linux 6.19),
 * which VF each of its vfN entries is (its device link) and that VF's
 * profile: vf->xe_vf_index and each attribute it has (a missing file is not
 * known; an unreadable one is a warning). Once per PF, after the functions
 * are read: a VF of any other PF costs nothing (it used to cost each VF a
 * lookup through its physfn link). 0 or -ENOMEM.
 */
int xe_sriov_read_vfs(const SysfsRoot *root, HostModel *model);

/* The write of `value` to `attribute` of VF `vf`'s profile (through its PF). */
int xe_profile_write_plan(const PciFunction *vf, XeProfileAttribute attribute, uint64_t value,
			  SysfsPlan *plan);
