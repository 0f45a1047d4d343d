/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host/xe_sriov.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_internal.h"
#include "macro.h"
#include "strv.h"

/* xe's PFs have at most 63 VFs (the GuC's limit); a damaged tree is not walked past this. */
#define XE_MAX_VF_INDEX 128

static const char *const attribute_names[_XE_PROFILE_ATTRIBUTE_MAX] = {
	[XE_PROFILE_EXEC_QUANTUM_MS] = "exec_quantum_ms",
	[XE_PROFILE_PREEMPT_TIMEOUT_US] = "preempt_timeout_us",
	[XE_PROFILE_VRAM_QUOTA] = "vram_quota",
};

const char *xe_profile_attribute_to_string(XeProfileAttribute attribute)
{
	return attribute >= 0 && attribute < _XE_PROFILE_ATTRIBUTE_MAX ? attribute_names[attribute]
								       : NULL;
}

int xe_profile_attribute_from_string(const char *name)
{
	for (int a = 0; a < _XE_PROFILE_ATTRIBUTE_MAX; a++)
		if (name && strcmp(name, attribute_names[a]) == 0)
			return a;
	return -EINVAL;
}

uint64_t xe_profile_attribute_max(XeProfileAttribute attribute)
{
	return attribute == XE_PROFILE_VRAM_QUOTA ? INT64_MAX : UINT32_MAX;
}

bool xe_profile_is_set(const XeProfile *profile)
{
	for (int a = 0; a < _XE_PROFILE_ATTRIBUTE_MAX; a++)
		if (profile->set[a])
			return true;
	return false;
}

int xe_sriov_read_vf(int dir, PciFunction *f)
{
	char name[96];
	if (!sysfs_exists_at(dir, "physfn/sriov_admin"))
		return 0;
	for (unsigned n = 1; n <= XE_MAX_VF_INDEX; n++) {
		_cleanup_free_ char *target = NULL;
		snprintf(name, sizeof(name), "physfn/sriov_admin/vf%u", n);
		if (!sysfs_exists_at(dir, name))
			break; /* past the PF's last VF */
		snprintf(name, sizeof(name), "physfn/sriov_admin/vf%u/device", n);
		if (sysfs_read_link_name_at(dir, name, &target) < 0 ||
		    strcmp(target, f->address_text) != 0)
			continue;
		for (int a = 0; a < _XE_PROFILE_ATTRIBUTE_MAX; a++) {
			int64_t value;
			snprintf(name, sizeof(name), "physfn/sriov_admin/vf%u/profile/%s", n,
				 attribute_names[a]);
			int r = sysfs_read_int_at(dir, name, &value);
			/* vram_quota is only on discrete GPUs, from Linux 7.0: absent is unknown.
			 */
			if (r == -ENOENT)
				continue;
			if (r < 0 || value < 0 || (uint64_t)value > xe_profile_attribute_max(a)) {
				if (strv_appendf(&f->warnings, "its xe profile's %s is unreadable",
						 attribute_names[a]) < 0)
					return -ENOMEM;
				continue;
			}
			f->xe_profile[a] = (uint64_t)value;
			f->xe_profile_known[a] = true;
		}
		f->xe_vf_index = n;
		return 0;
	}
	return 0;
}

int xe_profile_write_plan(const PciFunction *vf, XeProfileAttribute attribute, uint64_t value,
			  SysfsPlan *plan)
{
	char pf[PCI_ADDRESS_TEXT_SIZE], text[24];
	if (!vf->is_vf || vf->xe_vf_index == 0 || !xe_profile_attribute_to_string(attribute) ||
	    value > xe_profile_attribute_max(attribute))
		return -EINVAL;
	pci_address_format(&vf->physfn, pf);
	snprintf(text, sizeof(text), "%" PRIu64, value);
	return sysfs_plan_add(plan, text, "sys/bus/pci/devices/%s/sriov_admin/vf%u/profile/%s", pf,
			      vf->xe_vf_index, attribute_names[attribute]);
}
