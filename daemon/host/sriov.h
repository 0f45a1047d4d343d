/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Changing how many VFs a physical function has, as the kernel allows it
 * (Documentation/ABI/testing/sysfs-bus-pci, and ../shared/lab: what a real
 * kernel did): sriov_drivers_autoprobe=0 first, so new VFs come up without
 * the PF's driver and can go to vfio-pci, and its value before back once no
 * VF is left; a non-zero count only changes by
 * way of 0, which removes every VF, so it is refused while any VF is in use;
 * and the PF's driver must be bound, because it is the driver that creates
 * the VFs. Pure: plans for the partition engine.
 */
#pragma once

#include "host/host.h"
#include "host/sysfs_plan.h"

typedef enum SriovRefusal {
	SRIOV_OK,
	SRIOV_NOT_CAPABLE, /* no sriov_totalvfs */
	SRIOV_TOO_MANY, /* more than sriov_totalvfs */
	SRIOV_NO_PF_DRIVER, /* the PF has no driver, which must create the VFs */
	SRIOV_VFS_IN_USE, /* changing the count removes VFs that are in use */
} SriovRefusal;

/*
 * The writes that take `pf` to `count` VFs, new ones without a host driver.
 * `in_use` counts the VFs someone holds (a host driver or a partition).
 * `autoprobe_before` is the sriov_drivers_autoprobe recorded before libvfio
 * turned it off (-1: none): a count of 0 puts it back, after the VFs are
 * gone, since it was off only to keep host drivers from new VFs.
 * *ret_autoprobe_off is the value the plan turns autoprobe off from (1), or
 * -1 when it leaves autoprobe alone or its value is unknown: the caller records it before it runs
 * the plan (autoprobe_record.h). SRIOV_OK, *ret and *ret_autoprobe_off, or
 * why not.
 */
SriovRefusal sriov_set_count_plan(const PciFunction *pf, unsigned count, size_t in_use,
				  int autoprobe_before, SysfsPlan *ret, int *ret_autoprobe_off);

/* The writes that put back a count and autoprobe setting recorded before a change. */
int sriov_restore_plan(const PciFunction *pf, unsigned count_before, int autoprobe_before,
		       SysfsPlan *ret);
