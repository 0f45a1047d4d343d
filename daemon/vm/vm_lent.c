/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm/vm_lent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error_message.h"
#include "fs_util.h"
#include "macro.h"
#include "safe_open.h"

int vfio_group_node(const SysfsRoot *root, const PciAddress *device, const char *mdev_uuid,
		    char **ret_path, char **ret_message)
{
	char relative[256], address[PCI_ADDRESS_TEXT_SIZE], node[4096];
	_cleanup_free_ char *group = NULL;

	if (device)
		pci_address_format(device, address);
	else
		snprintf(address, sizeof(address), "?");
	if (mdev_uuid)
		snprintf(relative, sizeof(relative), "sys/bus/mdev/devices/%s/iommu_group",
			 mdev_uuid);
	else
		snprintf(relative, sizeof(relative), "sys/bus/pci/devices/%s/iommu_group", address);
	int r = sysfs_read_link_name(root, relative, &group);
	if (r < 0)
		return error_message(
			ret_message, r == -ENOMEM ? r : -ENOENT,
			"%s has no IOMMU group (%s): is the IOMMU on? 'vfioctl check' says.",
			mdev_uuid ? mdev_uuid : address, strerror(-r));
	if (strspn(group, "0123456789") != strlen(group))
		return error_message(ret_message, -EINVAL, "%s: odd IOMMU group '%s'.", address,
				     group);
	snprintf(relative, sizeof(relative), "dev/vfio/%s", group);
	r = sysfs_path(root, relative, node, sizeof(node));
	if (r < 0)
		return r;
	if (access(node, F_OK) < 0)
		return error_message(ret_message, -ENOENT,
				     "%s is missing: the VFIO group of %s has no node (is vfio-pci "
				     "loaded? modprobe vfio-pci).",
				     node, mdev_uuid ? mdev_uuid : address);
	char *copy = strdup(node);
	if (!copy)
		return -ENOMEM;
	*ret_path = copy;
	return 0;
}

int device_node_open(const char *path, VmLent *ret, char **ret_message)
{
	_cleanup_free_ char *problem = NULL;
	struct stat st;

	int fd = safe_open(path, O_PATH, &st, &problem);
	if (fd < 0)
		return problem ? error_message(ret_message, fd, "%s", problem) : fd;
	if (!S_ISCHR(st.st_mode)) {
		close(fd);
		return error_message(ret_message, -EINVAL, "%s is not a device node.", path);
	}
	char *copy = strdup(path);
	if (!copy) {
		close(fd);
		return -ENOMEM;
	}
	*ret = (VmLent){ .path = copy,
			 .uid = st.st_uid,
			 .gid = st.st_gid,
			 .mode = st.st_mode & 07777,
			 .device = st.st_rdev,
			 .fd = fd };
	return 0;
}

int vm_lent_give(const VmLent *lent, uid_t uid, gid_t gid, mode_t mode, char **ret_message)
{
	int r = fd_chown_chmod(lent->fd, uid, gid, mode);
	if (r < 0)
		return error_message(ret_message, r, "Cannot give %s to QEMU's user: %s.",
				     lent->path, strerror(-r));
	return 0;
}

void vm_lent_return(const VmLent *lent)
{
	_cleanup_free_ char *problem = NULL;
	_cleanup_close_ int reopened = -1;
	struct stat st;
	int fd = lent->fd;

	if (fd < 0) {
		/*
		 * From a record (the daemon restarted): found again without following
		 * a link someone else could have planted, and only the device it was.
		 */
		reopened = fd = safe_open(lent->path, O_PATH, &st, &problem);
		if (fd < 0 ||
		    (lent->device != 0 && (!S_ISCHR(st.st_mode) || st.st_rdev != lent->device)))
			return;
	}
	(void)fd_chown_chmod(fd, lent->uid, lent->gid, lent->mode);
}
