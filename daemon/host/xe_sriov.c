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

/* The profile of VF number `n` of the PF whose directory is `pf_dir`, into `vf`. 0 or -ENOMEM. */
static int read_profile(int pf_dir, unsigned n, PciFunction *vf)
{
	char name[96];

	for (int a = 0; a < _XE_PROFILE_ATTRIBUTE_MAX; a++) {
		int64_t value;
		snprintf(name, sizeof(name), "sriov_admin/vf%u/profile/%s", n, attribute_names[a]);
		int r = sysfs_read_int_at(pf_dir, name, &value);
		/* vram_quota is only on discrete GPUs, from Linux 7.0: absent is unknown. */
		if (r == -ENOENT)
			continue;
		if (r < 0 || value < 0 || (uint64_t)value > xe_profile_attribute_max(a)) {
			if (strv_appendf(&vf->warnings, "its xe profile's %s is unreadable",
					 attribute_names[a]) < 0)
				return -ENOMEM;
			continue;
		}
		vf->xe_profile[a] = (uint64_t)value;
		vf->xe_profile_known[a] = true;
	}
	vf->xe_vf_index = n;
	return 0;
}

/* The VFs of one PF that has sriov_admin: each vfN names its VF by its device link. */
static int read_pf(const SysfsRoot *root, HostModel *model, const PciFunction *pf)
{
	char name[96];

	snprintf(name, sizeof(name), "sys/bus/pci/devices/%s", pf->address_text);
	_cleanup_close_ int dir = sysfs_open_dir(root, name);
	if (dir < 0 || !sysfs_exists_at(dir, "sriov_admin"))
		return 0;
	for (unsigned n = 1; n <= XE_MAX_VF_INDEX; n++) {
		_cleanup_free_ char *target = NULL;
		PciAddress address;
		snprintf(name, sizeof(name), "sriov_admin/vf%u", n);
		if (!sysfs_exists_at(dir, name))
			break; /* past the PF's last VF */
		snprintf(name, sizeof(name), "sriov_admin/vf%u/device", n);
		if (sysfs_read_link_name_at(dir, name, &target) < 0 ||
		    pci_address_parse(target, &address) < 0)
			continue;
		/* Only a VF of this very PF (its physfn link said so). */
		PciFunction *vf = (PciFunction *)host_find_function(model, &address);
		if (!vf || !vf->is_vf || pci_address_compare(&vf->physfn, &pf->address) != 0 ||
		    vf->xe_vf_index != 0)
			continue;
		int r = read_profile(dir, n, vf);
		if (r < 0)
			return r;
	}
	return 0;
}

int xe_sriov_read_vfs(const SysfsRoot *root, HostModel *model)
{
	for (size_t i = 0; i < model->n_functions; i++) {
		const PciFunction *pf = &model->functions[i];
		if (pf->is_vf || pf->n_vfs == 0)
			continue;
		int r = read_pf(root, model, pf);
		if (r < 0)
			return r;
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
