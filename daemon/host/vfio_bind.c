/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host/vfio_bind.h"

#include <errno.h>
#include <string.h>

#include "parse_util.h"

bool vfio_is_bound(const PciFunction *function)
{
	return function->driver && strcmp(function->driver, VFIO_PCI_DRIVER) == 0;
}

/* Unbind from the current driver, if any, then (when asked) probe: the override decides who binds.
 */
static int add_rebind(const PciFunction *function, bool probe, SysfsPlan *plan)
{
	int r = 0;
	if (function->driver) {
		if (!sysfs_name_is_plain(function->driver))
			return -EINVAL;
		r = sysfs_plan_add(plan, function->address_text, "sys/bus/pci/drivers/%s/unbind",
				   function->driver);
	}
	if (r >= 0 && probe)
		r = sysfs_plan_add(plan, function->address_text, "sys/bus/pci/drivers_probe");
	return r;
}

int vfio_bind_plan(const PciFunction *function, SysfsPlan *ret)
{
	SysfsPlan plan = { 0 };

	if (vfio_is_bound(function))
		return -EALREADY;
	int r = sysfs_plan_add(&plan, VFIO_PCI_DRIVER, "sys/bus/pci/devices/%s/driver_override",
			       function->address_text);
	if (r >= 0)
		r = add_rebind(function, true, &plan);
	if (r < 0)
		return r;
	*ret = plan;
	return 0;
}

int vfio_restore_plan(const PciFunction *function, const char *override_before, bool reprobe,
		      SysfsPlan *ret)
{
	SysfsPlan plan = { 0 };

	if (override_before && !sysfs_name_is_plain(override_before))
		return -EINVAL;
	/* The kernel clears driver_override on an empty write (a lone newline). */
	int r = sysfs_plan_add(&plan, override_before ? override_before : "\n",
			       "sys/bus/pci/devices/%s/driver_override", function->address_text);
	if (r >= 0)
		r = add_rebind(function, reprobe, &plan);
	if (r < 0)
		return r;
	*ret = plan;
	return 0;
}
