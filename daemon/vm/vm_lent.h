/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Device nodes lent to QEMU's user for the VM's life (the /dev/vfio group
 * nodes of its devices, kvmfr): opened without following a link, changed
 * through the descriptor, and given back as they were. What is lent is
 * written down in the runtime record (VmLent, vm_runtime.h) before it is
 * given, by the caller.
 */
#pragma once

#include <sys/types.h>

#include "host/sysfs.h"
#include "pci_address.h"
#include "vm/vm_runtime.h"

/*
 * The /dev/vfio node of a PCI device's or an mdev's IOMMU group, below the
 * host root. -ENOENT with *ret_message when the device has no group.
 */
int vfio_group_node(const SysfsRoot *root, const PciAddress *device, const char *mdev_uuid,
		    char **ret_path, char **ret_message);

/*
 * The device node at `path` (a /dev/vfio group, kvmfr) opened as O_PATH, with
 * its owner and mode now, in *ret (vm_lent_done() frees it).
 */
int device_node_open(const char *path, VmLent *ret, char **ret_message);

/* Gives the node to uid:gid with `mode`, through its descriptor. */
int vm_lent_give(const VmLent *lent, uid_t uid, gid_t gid, mode_t mode, char **ret_message);

/*
 * Gives it back as it was: through its descriptor, or, read from a record
 * after a restart, found again by safe_open() and only when it is the same
 * device.
 */
void vm_lent_return(const VmLent *lent);
