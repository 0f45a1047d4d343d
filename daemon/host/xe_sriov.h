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
 * Not set by libvfio yet: vfN/profile/vram_quota (Linux 7.0,
 * Documentation/ABI/testing/sysfs-driver-intel-xe-sriov; xe_sriov_pf_sysfs.c
 * DEFINE_SIMPLE_PROVISIONING_SRIOV_VF_ATTR(vram_quota, vram, u64, "%llu\n")):
 * a VF's VRAM in bytes, u64 (kstrtou64, base 0), read "%llu\n", 0 when
 * unprovisioned, aligned by HW/FW; only on discrete GPUs (absent on
 * integrated ones and for the PF), read-only without dynamic VRAM
 * provisioning (no LMTT); released when the VFs are disabled. Being u64 and
 * optional, it does not fit the u32 attributes above as they are.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "host/host.h"
#include "host/sysfs_plan.h"

/* The attributes of a VF's profile libvfio sets. */
typedef enum XeProfileAttribute {
	XE_PROFILE_EXEC_QUANTUM_MS,
	XE_PROFILE_PREEMPT_TIMEOUT_US,
	_XE_PROFILE_ATTRIBUTE_MAX,
} XeProfileAttribute;

/* "exec_quantum_ms", "preempt_timeout_us": the file's name. */
const char *xe_profile_attribute_to_string(XeProfileAttribute attribute);
/* The attribute of that file name; -EINVAL for any other. */
int xe_profile_attribute_from_string(const char *name);

/* A VF's profile as asked for: the attributes to set, and their values. */
typedef struct XeProfile {
	bool set[_XE_PROFILE_ATTRIBUTE_MAX];
	uint32_t value[_XE_PROFILE_ATTRIBUTE_MAX];
} XeProfile;

/* Whether `profile` asks for anything. */
bool xe_profile_is_set(const XeProfile *profile);

/*
 * Reads, for VF `f` (its directory `dir`), its entry in its PF's
 * sriov_admin: f->xe_vf_index and its profile. Nothing when the PF has no
 * sriov_admin (not xe, or a kernel before 6.19). 0 or -ENOMEM.
 */
int xe_sriov_read_vf(int dir, PciFunction *f);

/* The write of `value` to `attribute` of VF `vf`'s profile (through its PF). */
int xe_profile_write_plan(const PciFunction *vf, XeProfileAttribute attribute, uint32_t value,
			  SysfsPlan *plan);
