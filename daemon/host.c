/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_internal.h"
#include "macro.h"
#include "strv.h"

bool pci_function_is_gpu(const PciFunction *function)
{
	return function->readable && (function->class_code >> 16) == PCI_CLASS_DISPLAY;
}

bool pci_function_is_bridge(const PciFunction *function)
{
	return function->readable && (function->class_code >> 8) == PCI_CLASS_BRIDGE_PCI;
}

void pci_functions_free(PciFunction *functions, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		PciFunction *f = &functions[i];
		free(f->vendor_name);
		free(f->device_name);
		free(f->driver);
		free(f->vfs);
		mdev_types_free(f->mdev_types, f->n_mdev_types);
		strv_free(f->warnings);
	}
	free(functions);
}

HostModel *host_model_free(HostModel *model)
{
	if (!model)
		return NULL;
	pci_functions_free(model->functions, model->n_functions);
	for (size_t i = 0; i < model->n_groups; i++)
		free(model->groups[i].members);
	free(model->groups);
	for (size_t i = 0; i < model->n_nodes; i++) {
		free(model->nodes[i].cpus);
		free(model->nodes[i].hugepages);
	}
	free(model->nodes);
	host_facts_done(&model->facts);
	strv_free(model->warnings);
	free(model);
	return NULL;
}

static int compare_function_address(const void *key, const void *element)
{
	return pci_address_compare(key, &((const PciFunction *)element)->address);
}

const PciFunction *host_find_function(const HostModel *model, const PciAddress *address)
{
	if (model->n_functions == 0) /* bsearch's base must not be NULL, even for no elements */
		return NULL;
	return bsearch(address, model->functions, model->n_functions, sizeof(PciFunction),
		       compare_function_address);
}

static int compare_group_id(const void *key, const void *element)
{
	int x = *(const int *)key, y = ((const IommuGroup *)element)->id;
	return (x > y) - (x < y);
}

const IommuGroup *host_find_group(const HostModel *model, int id)
{
	if (model->n_groups == 0) /* bsearch's base must not be NULL, even for no elements */
		return NULL;
	return bsearch(&id, model->groups, model->n_groups, sizeof(IommuGroup), compare_group_id);
}

/* Cross-checks what the readers found separately; mismatches are damage. */
static int check_consistency(HostModel *model)
{
	for (size_t i = 0; i < model->n_functions; i++) {
		PciFunction *f = &model->functions[i];
		if (f->iommu_group >= 0 && !host_find_group(model, f->iommu_group) &&
		    strv_appendf(&f->warnings,
				 "its IOMMU group %d does not exist in sys/kernel/iommu_groups",
				 f->iommu_group) < 0)
			return -ENOMEM;
		if (f->is_vf && !host_find_function(model, &f->physfn) &&
		    strv_append(&f->warnings, "its physical function is not on the PCI bus") < 0)
			return -ENOMEM;
	}
	return 0;
}

typedef struct GpuReader {
	const SysfsRoot *root;
} GpuReader;

/* What only GPUs need: SR-IOV, mdev types, boot_vga. Partitions are made of GPUs. */
static int read_gpu(PciFunction *f, int dir, void *userdata)
{
	const GpuReader *reader = userdata;
	int64_t value;

	if (!pci_function_is_gpu(f))
		return 0;
	int r = sriov_read(dir, f);
	if (r >= 0 && !f->is_vf)
		r = mdev_read_types(reader->root, f);
	if (r >= 0 && (f->class_code >> 8) == PCI_CLASS_VGA &&
	    sysfs_read_int_at(dir, "boot_vga", &value) == 0)
		f->boot_vga = value == 1;
	return r;
}

int host_discover(const SysfsRoot *root, PciNames *names, HostModel **ret)
{
	GpuReader reader = { root };
	HostModel *model = calloc(1, sizeof(*model));
	if (!model)
		return -ENOMEM;

	int r = pci_read_functions(root, names, read_gpu, &reader, &model->functions,
				   &model->n_functions, &model->warnings);
	if (r >= 0)
		r = iommu_read_groups(root, model);
	if (r >= 0)
		r = numa_read_nodes(root, model);
	if (r >= 0)
		r = host_facts_read(root, &model->facts);
	if (r >= 0)
		r = check_consistency(model);
	if (r < 0) {
		host_model_free(model);
		return r;
	}
	*ret = model;
	return 0;
}
