/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Moving a PCI function to vfio-pci and giving it back, as
 * Documentation/ABI/testing/sysfs-bus-pci describes: driver_override names
 * the only driver that may bind the device, unbind releases it from its
 * driver, drivers_probe binds it to the driver that matches, which is then
 * the override. Giving it back: the override as it was (an empty write
 * clears it), unbind from vfio-pci, probe again: the original driver matches
 * the device by its IDs and takes it. Pure: these build plans (sysfs_plan.h)
 * from the host model; the partition engine runs them.
 */
#pragma once

#include <stdbool.h>

#include "host/host.h"
#include "host/sysfs_plan.h"

#define VFIO_PCI_DRIVER "vfio-pci"

/* True when the function is bound to vfio-pci. */
bool vfio_is_bound(const PciFunction *function);

/*
 * The writes that bind `function` to vfio-pci. -EALREADY when it is bound
 * already, -EINVAL when its current driver's name cannot be used in a path.
 */
int vfio_bind_plan(const PciFunction *function, SysfsPlan *ret);

/*
 * The writes that give `function` (as it is now) back: driver_override as it
 * was before (NULL: cleared), unbind, and, when it had a driver before
 * (`reprobe`), a fresh probe, so that its own driver takes it again. A
 * device that had none (a new VF) stays without one.
 */
int vfio_restore_plan(const PciFunction *function, const char *override_before, bool reprobe,
		      SysfsPlan *ret);
