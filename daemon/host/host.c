/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host/host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_internal.h"
#include "host/rebar.h"
#include "host/xe_sriov.h"
#include "macro.h"
#include "strv.h"

static bool class_is_display(const PciFunction *function)
{
	return function->readable && (function->class_code >> 16) == PCI_CLASS_DISPLAY;
}

bool pci_function_is_gpu(const PciFunction *function)
{
	return class_is_display(function) ||
	       (function->readable && (function->mdev_parent || function->configured_gpu));
}

/* Does the configuration name this function as a GPU? */
static bool configured_as_gpu(const HostOptions *options, const PciFunction *f)
{
	for (char **e = options ? options->extra_gpus : NULL; e && *e; e++) {
		PciAddress address;
		uint16_t vendor, device;
		if (pci_address_parse(*e, &address) == 0
			    ? pci_address_compare(&address, &f->address) == 0
			    : pci_ids_parse(*e, &vendor, &device) == 0 && vendor == f->vendor_id &&
				      device == f->device_id)
			return true;
	}
	return false;
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
		free(f->reset_method);
		free(f->vfs);
		mdev_types_free(f->mdev_types, f->n_mdev_types);
		mdev_types_free(f->nvidia_vgpu_types, f->n_nvidia_vgpu_types);
		strv_free(f->warnings);
	}
	free(functions);
}

void mdev_parents_free(MdevParent *parents, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(parents[i].name);
		free(parents[i].path);
		mdev_types_free(parents[i].mdev_types, parents[i].n_mdev_types);
		strv_free(parents[i].warnings);
	}
	free(parents);
}

HostModel *host_model_free(HostModel *model)
{
	if (!model)
		return NULL;
	pci_functions_free(model->functions, model->n_functions);
	free(model->function_keys);
	for (size_t i = 0; i < model->n_groups; i++)
		free(model->groups[i].members);
	free(model->groups);
	for (size_t i = 0; i < model->n_nodes; i++) {
		free(model->nodes[i].cpus);
		free(model->nodes[i].hugepages);
	}
	free(model->nodes);
	mdev_parents_free(model->mdev_parents, model->n_mdev_parents);
	host_facts_done(&model->facts);
	strv_free(model->warnings);
	free(model);
	return NULL;
}

/* The address as one number that sorts as pci_address_compare() does. */
static uint64_t address_key(const PciAddress *a)
{
	return (uint64_t)a->domain << 24 | (uint64_t)a->bus << 16 | (uint64_t)a->device << 8 |
	       a->function;
}

int host_model_index(HostModel *model)
{
	uint64_t *keys = NULL;

	if (model->n_functions > 0) {
		keys = reallocarray(NULL, model->n_functions, sizeof(*keys));
		if (!keys)
			return -ENOMEM;
		for (size_t i = 0; i < model->n_functions; i++)
			keys[i] = address_key(&model->functions[i].address);
	}
	free(model->function_keys);
	model->function_keys = keys;
	return 0;
}

/* The key of the i-th function: from the index (17 KB for 2,000 functions, not 770 KB). */
static uint64_t key_at(const HostModel *model, size_t i)
{
	return model->function_keys ? model->function_keys[i]
				    : address_key(&model->functions[i].address);
}

/*
 * The index of the first function at `key` or after it (n_functions when
 * none). Written out rather than bsearch() over the functions: ListGPUs
 * looks up every VF of every GPU several times, and the comparisons through
 * a pointer, each on another cache line, were half of its cost on a host of
 * 2,000 functions.
 */
static size_t lower_bound(const HostModel *model, uint64_t key)
{
	size_t base = 0, n = model->n_functions;

	if (n == 0)
		return 0;
	/* The answer is in [base, base + n]; halved without a branch on the keys (a cmov). */
	while (n > 1) {
		size_t half = n / 2;
		base = key_at(model, base + half) < key ? base + half : base;
		n -= half;
	}
	return base + (key_at(model, base) < key);
}

const PciFunction *host_find_function(const HostModel *model, const PciAddress *address)
{
	uint64_t key = address_key(address);
	size_t i = lower_bound(model, key);

	return i < model->n_functions && key_at(model, i) == key ? &model->functions[i] : NULL;
}

const PciFunction *host_find_slot(const HostModel *model, const PciAddress *address, size_t *ret_n)
{
	const PciAddress first = { address->domain, address->bus, address->device, 0 };
	size_t i = lower_bound(model, address_key(&first)), n = 0;

	while (i + n < model->n_functions &&
	       pci_address_same_slot(&model->functions[i + n].address, address))
		n++;
	*ret_n = n;
	return n > 0 ? &model->functions[i] : NULL;
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

static int compare_parent_name(const void *key, const void *element)
{
	return strcmp(key, ((const MdevParent *)element)->name);
}

const MdevParent *host_find_mdev_parent(const HostModel *model, const char *name)
{
	if (model->n_mdev_parents == 0 || !name)
		return NULL;
	return bsearch(name, model->mdev_parents, model->n_mdev_parents, sizeof(MdevParent),
		       compare_parent_name);
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
	const HostOptions *options;
} GpuReader;

/* reset_method, its newline dropped; absent (an older kernel): NULL. 0 or -ENOMEM. */
static int read_reset_method(int dir, PciFunction *f)
{
	char *text = NULL;
	int r = sysfs_read_text_at(dir, "reset_method", 256, &text);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return 0;
	text[strcspn(text, "\n")] = '\0';
	f->reset_method = text;
	return 0;
}

/*
 * What only GPUs need: SR-IOV, boot_vga, a PF's reset_method. Partitions are made of GPUs. (mdev
 * types are read for every member of sys/class/mdev_bus afterwards.)
 */
static int read_gpu(PciFunction *f, int dir, void *userdata)
{
	const GpuReader *reader = userdata;
	int64_t value;

	if (!class_is_display(f) && !configured_as_gpu(reader->options, f))
		return 0;
	f->configured_gpu = !class_is_display(f);
	int r = sriov_read(dir, f);
	if (r >= 0 && (f->class_code >> 8) == PCI_CLASS_VGA &&
	    sysfs_read_int_at(dir, "boot_vga", &value) == 0)
		f->boot_vga = value == 1;
	/* A VF is reset by FLR, and only a PF's reset_method is ever looked at (vendor-reset). */
	if (r >= 0 && !f->is_vf)
		r = read_reset_method(dir, f);
	if (r >= 0 && !f->is_vf)
		r = rebar_read(dir, f);
	return r;
}

/*
 * The VFs of a function the configuration names are partitions of it, like a
 * GPU's: they learn their PF (and its NUMA node) from its virtfnN links.
 */
static void mark_configured_vfs(HostModel *model)
{
	for (size_t i = 0; i < model->n_functions; i++) {
		const PciFunction *pf = &model->functions[i];
		if (!pf->configured_gpu || pf->is_vf)
			continue;
		for (size_t k = 0; k < pf->n_vfs; k++) {
			PciFunction *vf = (PciFunction *)host_find_function(model, &pf->vfs[k]);
			if (!vf || !vf->readable || class_is_display(vf))
				continue;
			vf->configured_gpu = true;
			vf->is_vf = true;
			vf->physfn = pf->address;
			vf->numa_node = pf->numa_node;
		}
	}
}

int host_discover(const SysfsRoot *root, PciNames *names, const HostOptions *options,
		  HostModel **ret)
{
	GpuReader reader = { root, options };
	HostModel *model = calloc(1, sizeof(*model));
	if (!model)
		return -ENOMEM;

	int r = pci_read_functions(root, names, read_gpu, &reader, &model->functions,
				   &model->n_functions, &model->warnings);
	if (r >= 0)
		r = host_model_index(model);
	if (r >= 0)
		r = xe_sriov_read_vfs(root, model);
	if (r >= 0) {
		mark_configured_vfs(model);
		r = mdev_read_parents(root, model);
	}
	if (r >= 0)
		r = iommu_read_groups(root, model);
	if (r >= 0)
		r = numa_read_nodes(root, model);
	if (r >= 0)
		r = host_facts_read(root, &model->facts);
	/* The facts' damage is the host's: shown where the host's warnings are. */
	for (size_t i = 0; r >= 0 && model->facts.warnings && model->facts.warnings[i]; i++)
		r = strv_append(&model->warnings, model->facts.warnings[i]);
	if (r >= 0)
		r = check_consistency(model);
	if (r < 0) {
		host_model_free(model);
		return r;
	}
	*ret = model;
	return 0;
}
