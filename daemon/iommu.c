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

/*
 * The groups, from each function's iommu_group link (read with the function):
 * no directory walk of sys/kernel/iommu_groups, which on a host with
 * thousands of VFs doubles the time of a discovery. Only PCI members are
 * listed (mdev instances are members too, but not PCI functions). A link to a
 * group that does not exist in sys/kernel/iommu_groups makes no group; the
 * consistency check warns about it.
 */
int iommu_read_groups(const SysfsRoot *root, HostModel *model)
{
	_cleanup_free_ Membership *memberships = NULL;
	size_t n = 0;

	if (model->n_functions == 0)
		return 0;
	memberships = calloc(model->n_functions, sizeof(Membership));
	if (!memberships)
		return -ENOMEM;
	for (size_t i = 0; i < model->n_functions; i++)
		if (model->functions[i].iommu_group >= 0)
			memberships[n++] = (Membership){ model->functions[i].iommu_group,
							 model->functions[i].address };
	qsort(memberships, n, sizeof(Membership), compare_memberships);

	/* At most one group per membership. */
	model->groups = calloc(MAX(n, (size_t)1), sizeof(IommuGroup));
	if (!model->groups)
		return -ENOMEM;
	for (size_t i = 0; i < n;) {
		size_t end = i;
		char path[64];
		while (end < n && memberships[end].group == memberships[i].group)
			end++;
		snprintf(path, sizeof(path), "sys/kernel/iommu_groups/%d", memberships[i].group);
		if (sysfs_exists(root, path)) {
			IommuGroup *group = &model->groups[model->n_groups++];
			*group = (IommuGroup){ .id = memberships[i].group,
					       .members = calloc(end - i, sizeof(PciAddress)) };
			if (!group->members)
				return -ENOMEM;
			for (size_t k = i; k < end; k++)
				group->members[group->n_members++] = memberships[k].address;
		}
		i = end;
	}
	return 0;
}
