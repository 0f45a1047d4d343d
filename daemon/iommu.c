/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * IOMMU groups (Documentation/ABI/testing/sysfs-kernel-iommu_groups): one
 * directory per group under sys/kernel/iommu_groups, its devices/ holding a
 * link per member. A group is the smallest set of devices the IOMMU can
 * isolate: passthrough hands a VM every member at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_internal.h"
#include "macro.h"
#include "strv.h"

#define IOMMU_MAX_GROUPS 65536
#define IOMMU_MAX_MEMBERS 1024

typedef struct GroupScan {
	const SysfsRoot *root;
	HostModel *model;
	IommuGroup *group; /* being filled */
	size_t allocated;
} GroupScan;

static int add_member(const char *name, void *userdata)
{
	GroupScan *scan = userdata;
	IommuGroup *group = scan->group;
	PciAddress address;

	if (pci_address_parse(name, &address) < 0)
		return 0; /* mdevs and other buses share groups too; not PCI functions */
	PciAddress *p = reallocarray(group->members, group->n_members + 1, sizeof(PciAddress));
	if (!p)
		return -ENOMEM;
	group->members = p;
	group->members[group->n_members++] = address;
	return 0;
}

static int add_group(const char *name, void *userdata)
{
	GroupScan *scan = userdata;
	HostModel *model = scan->model;
	char *end, path[128];

	long id = strtol(name, &end, 10);
	if (end == name || *end || id < 0 || id > INT32_MAX)
		return strv_appendf(&model->warnings,
				    "sys/kernel/iommu_groups holds \"%.64s\", not a group number",
				    name) < 0
			       ? -ENOMEM
			       : 0;

	if (model->n_groups == scan->allocated) {
		size_t want = scan->allocated ? scan->allocated * 2 : 64;
		IommuGroup *p = reallocarray(model->groups, want, sizeof(IommuGroup));
		if (!p)
			return -ENOMEM;
		model->groups = p;
		scan->allocated = want;
	}
	scan->group = &model->groups[model->n_groups++];
	*scan->group = (IommuGroup){ .id = (int)id };

	snprintf(path, sizeof(path), "sys/kernel/iommu_groups/%ld/devices", id);
	int r = sysfs_list_dir(scan->root, path, IOMMU_MAX_MEMBERS, add_member, scan);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return strv_appendf(&model->warnings,
				    "Cannot list the devices of IOMMU group %ld: "
				    "%s",
				    id, strerror(-r)) < 0
			       ? -ENOMEM
			       : 0;
	return 0;
}

static int compare_groups(const void *a, const void *b)
{
	int x = ((const IommuGroup *)a)->id, y = ((const IommuGroup *)b)->id;
	return (x > y) - (x < y);
}

int iommu_read_groups(const SysfsRoot *root, HostModel *model)
{
	GroupScan scan = { .root = root, .model = model };

	int r = sysfs_list_dir(root, "sys/kernel/iommu_groups", IOMMU_MAX_GROUPS, add_group, &scan);
	if (r == -ENOMEM)
		return r;
	qsort(model->groups, model->n_groups, sizeof(IommuGroup), compare_groups);
	return 0; /* no directory: no IOMMU, which the checks report */
}
