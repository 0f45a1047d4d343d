/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SR-IOV as sysfs shows it (Documentation/ABI/testing/sysfs-bus-pci):
 * sriov_totalvfs, sriov_numvfs, sriov_drivers_autoprobe and a virtfnN link
 * per enabled VF on the physical function; a physfn link on each VF.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_internal.h"
#include "host/nvidia_vgpu.h"
#include "host/sriov.h"
#include "host/xe_sriov.h"
#include "macro.h"
#include "strv.h"

/* The kernel caps VFs per PF well below this (the PCI spec allows 65535). */
#define SRIOV_MAX_VFS 4096

/* Reads a count attribute; a damaged one becomes a warning and -1. */
static int read_count(int dir, PciFunction *f, const char *name, int *ret)
{
	int64_t value;
	int r = sysfs_read_int_at(dir, name, &value);
	if (r == -ENOENT)
		return r;
	if (r < 0 || value < 0 || value > SRIOV_MAX_VFS) {
		*ret = -1;
		return strv_appendf(&f->warnings, "its %s is unreadable or out of range", name) < 0
			       ? -ENOMEM
			       : -EINVAL;
	}
	*ret = (int)value;
	return 0;
}

/* The address a virtfnN or physfn link points to. */
static int read_link_address(int dir, const char *name, PciAddress *ret)
{
	_cleanup_free_ char *target = NULL;
	int r = sysfs_read_link_name_at(dir, name, &target);
	if (r < 0)
		return r;
	return pci_address_parse(target, ret);
}

static int read_vfs(int dir, PciFunction *f)
{
	if (f->sriov_num_vfs <= 0)
		return 0;
	f->vfs = calloc((size_t)f->sriov_num_vfs, sizeof(PciAddress));
	if (!f->vfs)
		return -ENOMEM;
	for (int i = 0; i < f->sriov_num_vfs; i++) {
		char name[32];
		snprintf(name, sizeof(name), "virtfn%d", i);
		int r = read_link_address(dir, name, &f->vfs[f->n_vfs]);
		if (r < 0) {
			if (strv_appendf(&f->warnings,
					 "its %s link is missing or does not name a "
					 "PCI device",
					 name) < 0)
				return -ENOMEM;
			continue;
		}
		f->n_vfs++;
	}
	return 0;
}

int sriov_read(int dir, PciFunction *f)
{
	int r = read_link_address(dir, "physfn", &f->physfn);
	if (r == 0) {
		f->is_vf = true;
		return nvidia_vgpu_read_vf(dir, f); /* xe's profiles: by the PF, after */
	}

	r = read_count(dir, f, "sriov_totalvfs", &f->sriov_total_vfs);
	if (r == -ENOENT || r == -EINVAL)
		return 0; /* not SR-IOV capable, or damaged (warned) */
	if (r < 0)
		return r;
	r = read_count(dir, f, "sriov_numvfs", &f->sriov_num_vfs);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		f->sriov_num_vfs = 0;

	int64_t autoprobe;
	if (sysfs_read_int_at(dir, "sriov_drivers_autoprobe", &autoprobe) == 0)
		f->sriov_autoprobe = autoprobe != 0;
	return read_vfs(dir, f);
}

/* Appends a write to an attribute of the PF. */
static int add_pf_write(SysfsPlan *plan, const PciFunction *pf, const char *attribute,
			unsigned value)
{
	char text[16];
	snprintf(text, sizeof(text), "%u", value);
	return sysfs_plan_add(plan, text, "sys/bus/pci/devices/%s/%s", pf->address_text, attribute);
}

SriovRefusal sriov_set_count_plan(const PciFunction *pf, unsigned count, size_t in_use,
				  int autoprobe_before, SysfsPlan *ret, int *ret_autoprobe_off)
{
	SysfsPlan plan = { 0 };
	int r = 0;

	if (pf->is_vf || pf->sriov_total_vfs <= 0)
		return SRIOV_NOT_CAPABLE;
	if (count > (unsigned)pf->sriov_total_vfs)
		return SRIOV_TOO_MANY;
	bool recount = (unsigned)MAX(pf->sriov_num_vfs, 0) != count;
	/* Writing the count it has is nothing to the kernel, even without a PF driver. */
	if (recount && !pf->driver)
		return SRIOV_NO_PF_DRIVER;
	if (recount && pf->sriov_num_vfs > 0 && in_use > 0)
		return SRIOV_VFS_IN_USE;

	/* An unreadable autoprobe (-1) is turned off too, but there is no value to record. */
	bool turn_off = recount && count > 0 && pf->sriov_autoprobe != 0;
	if (turn_off)
		r = add_pf_write(&plan, pf, "sriov_drivers_autoprobe", 0);
	/* The kernel refuses one non-zero count for another (EBUSY): by way of 0. */
	if (r >= 0 && recount && pf->sriov_num_vfs > 0 && count > 0)
		r = add_pf_write(&plan, pf, "sriov_numvfs", 0);
	if (r >= 0 && recount)
		r = add_pf_write(&plan, pf, "sriov_numvfs", count);
	if (r >= 0 && count == 0 && autoprobe_before >= 0 &&
	    pf->sriov_autoprobe != autoprobe_before)
		r = add_pf_write(&plan, pf, "sriov_drivers_autoprobe", (unsigned)autoprobe_before);
	if (r < 0)
		return SRIOV_TOO_MANY; /* cannot happen: a plan has room for three writes */
	*ret = plan;
	*ret_autoprobe_off = turn_off && pf->sriov_autoprobe > 0 ? 1 : -1;
	return SRIOV_OK;
}

int sriov_restore_plan(const PciFunction *pf, unsigned count_before, int autoprobe_before,
		       SysfsPlan *ret)
{
	SysfsPlan plan = { 0 };
	int r = 0;

	bool recount = (unsigned)MAX(pf->sriov_num_vfs, 0) != count_before;

	/*
	 * Autoprobe goes back before VFs come back, so they come up the way they
	 * did before (with the PF's VF driver, usually).
	 */
	if (recount && pf->sriov_num_vfs > 0)
		r = add_pf_write(&plan, pf, "sriov_numvfs", 0);
	if (r >= 0 && autoprobe_before >= 0 && pf->sriov_autoprobe != autoprobe_before)
		r = add_pf_write(&plan, pf, "sriov_drivers_autoprobe", (unsigned)autoprobe_before);
	if (r >= 0 && recount && count_before > 0)
		r = add_pf_write(&plan, pf, "sriov_numvfs", count_before);
	if (r < 0)
		return r;
	*ret = plan;
	return 0;
}
