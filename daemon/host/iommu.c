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

#include "host/host_internal.h"
#include "macro.h"
#include "strv.h"

#define IOMMU_MAX_GROUPS 65536

typedef struct Membership {
	int group;
	PciAddress address;
} Membership;

static int compare_memberships(const void *a, const void *b)
{
	const Membership *x = a, *y = b;
	if (x->group != y->group)
		return (x->group > y->group) - (x->group < y->group);
	return pci_address_compare(&x->address, &y->address);
}

typedef struct GroupIds {
	int *ids;
	size_t n;
} GroupIds;

static int collect_group_id(const char *name, void *userdata)
{
	GroupIds *groups = userdata;
	char *end;
	long id = strtol(name, &end, 10);

	if (end == name || *end || id < 0 || id > INT32_MAX)
		return 0;
	int *p = reallocarray(groups->ids, groups->n + 1, sizeof(int));
	if (!p)
		return -ENOMEM;
	groups->ids = p;
	p[groups->n++] = (int)id;
	return 0;
}

static int compare_ints(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/*
 * The groups, from each function's iommu_group link (read with the function),
 * and the list of sys/kernel/iommu_groups to tell which exist: one directory
 * read, where walking each group's devices/ would double the time of a
 * discovery on a host with thousands of VFs. Only PCI members are listed
 * (mdev instances are members too, but not PCI functions). A link to a group
 * that does not exist makes no group; the consistency check warns about it.
 */
int iommu_read_groups(const SysfsRoot *root, HostModel *model)
{
	_cleanup_free_ Membership *memberships = NULL;
	GroupIds existing = { 0 };
	size_t n = 0;

	int r = sysfs_list_dir(root, "sys/kernel/iommu_groups", IOMMU_MAX_GROUPS, collect_group_id,
			       &existing);
	if (r == -ENOMEM || model->n_functions == 0 || existing.n == 0) {
		free(existing.ids);
		return r == -ENOMEM ? r : 0; /* no groups: the IOMMU is off */
	}
	qsort(existing.ids, existing.n, sizeof(int), compare_ints);

	memberships = calloc(model->n_functions, sizeof(Membership));
	model->groups = calloc(model->n_functions, sizeof(IommuGroup));
	if (!memberships || !model->groups) {
		free(existing.ids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < model->n_functions; i++)
		if (model->functions[i].iommu_group >= 0)
			memberships[n++] = (Membership){ model->functions[i].iommu_group,
							 model->functions[i].address };
	qsort(memberships, n, sizeof(Membership), compare_memberships);

	for (size_t i = 0; i < n && r >= 0;) {
		size_t end = i;
		while (end < n && memberships[end].group == memberships[i].group)
			end++;
		if (bsearch(&memberships[i].group, existing.ids, existing.n, sizeof(int),
			    compare_ints)) {
			IommuGroup *group = &model->groups[model->n_groups++];
			*group = (IommuGroup){ .id = memberships[i].group,
					       .members = calloc(end - i, sizeof(PciAddress)) };
			if (!group->members)
				r = -ENOMEM;
			for (size_t k = i; group->members && k < end; k++)
				group->members[group->n_members++] = memberships[k].address;
		}
		i = end;
	}
	free(existing.ids);
	return r < 0 ? r : 0;
}
