/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host_builder.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host/host_internal.h"
#include "host/nvidia_vgpu.h"
#include "macro.h"
#include "pci_address.h"
#include "strv.h"

static char *copy(const char *text)
{
	char *c = NULL;

	if (text) {
		c = strdup(text);
		assert_non_null(c);
	}
	return c;
}

static PciAddress parse(const char *text)
{
	PciAddress address;

	if (pci_address_parse(text, &address) != 0)
		fail_msg("'%s' is no PCI address", text);
	return address;
}

/* The models of the running test, for models_teardown(). */
static HostModel *models[16];
static size_t n_models;

HostModel *model_new(void)
{
	HostModel *model = calloc(1, sizeof(*model));

	assert_non_null(model);
	assert_true(n_models < ELEMENTSOF(models));
	models[n_models++] = model;
	model->facts.irq_remapping = -1;
	model->facts.i915_enable_gvt = -1;
	model->facts.memlock_grantable = UINT64_MAX;
	model->facts.memlock_known = true;
	return model;
}

int models_teardown(void **state)
{
	for (size_t i = 0; i < n_models; i++)
		models[i] = host_model_free(models[i]);
	n_models = 0;
	return 0;
}

PciFunction *model_add_function(HostModel *model, const char *address, uint16_t vendor_id,
				uint32_t class_code, const char *driver)
{
	PciFunction *functions =
		reallocarray(model->functions, model->n_functions + 1, sizeof(PciFunction));
	PciFunction *f;

	assert_non_null(functions);
	model->functions = functions;
	/* Unsorted again until model_finish(): the index would be stale. */
	free(model->function_keys);
	model->function_keys = NULL;
	f = &functions[model->n_functions++];
	*f = (PciFunction){
		.address = parse(address),
		.vendor_id = vendor_id,
		.class_code = class_code,
		.driver = copy(driver),
		.iommu_group = -1,
		.numa_node = -1,
		.boot_vga = -1,
		.readable = true,
		.sriov_total_vfs = -1,
		.sriov_autoprobe = -1,
	};
	pci_address_format(&f->address, f->address_text);
	return f;
}

/* Before model_finish(): a linear search, the array is not sorted yet. */
static PciFunction *find(HostModel *model, const PciAddress *address)
{
	for (size_t i = 0; i < model->n_functions; i++)
		if (pci_address_compare(&model->functions[i].address, address) == 0)
			return &model->functions[i];
	return NULL;
}

PciFunction *model_add_vf(HostModel *model, const char *pf_address, const char *address,
			  uint16_t vendor_id, uint32_t class_code, const char *driver)
{
	PciAddress physfn = parse(pf_address), vf_address = parse(address);
	PciFunction *pf, *vf;
	PciAddress *vfs;

	(void)model_add_function(model, address, vendor_id, class_code, driver);
	pf = find(model, &physfn);
	assert_non_null(pf);
	vfs = reallocarray(pf->vfs, pf->n_vfs + 1, sizeof(PciAddress));
	assert_non_null(vfs);
	pf->vfs = vfs;
	pf->vfs[pf->n_vfs++] = vf_address;

	vf = find(model, &vf_address);
	vf->is_vf = true;
	vf->physfn = physfn;
	return vf;
}

void function_set_device_name(PciFunction *function, const char *name)
{
	free(function->device_name);
	function->device_name = copy(name);
}

MdevType *function_add_mdev_type(PciFunction *function, const char *id, int64_t available,
				 size_t n_instances)
{
	MdevType *types =
		reallocarray(function->mdev_types, function->n_mdev_types + 1, sizeof(MdevType));
	MdevType *t;

	assert_non_null(types);
	function->mdev_types = types;
	t = &types[function->n_mdev_types++];
	*t = (MdevType){
		.id = copy(id),
		.name = copy(id),
		.device_api = copy("vfio-pci"),
		.available_instances = available,
	};
	for (size_t i = 0; i < n_instances; i++)
		assert_int_equal(
			strv_appendf(&t->instances, "6f6d3ae1-2c1e-4c44-9d3a-%012zx", i + 1), 0);
	return t;
}

void mdev_type_set_text(MdevType *type, const char *name, const char *description)
{
	free(type->name);
	type->name = copy(name);
	free(type->description);
	type->description = copy(description);
}

void mdev_type_set_device_api(MdevType *type, const char *device_api)
{
	free(type->device_api);
	type->device_api = copy(device_api);
}

void function_set_nvidia_vgpu(PciFunction *vf, uint32_t current, const char *creatable)
{
	mdev_types_free(vf->nvidia_vgpu_types, vf->n_nvidia_vgpu_types);
	vf->nvidia_vgpu = true;
	vf->nvidia_vgpu_current = current;
	assert_int_equal(nvidia_vgpu_parse_types(creatable, &vf->nvidia_vgpu_types,
						 &vf->n_nvidia_vgpu_types),
			 0);
}

void function_set_sriov(PciFunction *function, int total_vfs, int num_vfs)
{
	function->sriov_total_vfs = total_vfs;
	function->sriov_num_vfs = num_vfs;
	function->sriov_autoprobe = 1;
}

void model_add_group(HostModel *model, int id, ...)
{
	IommuGroup *groups = reallocarray(model->groups, model->n_groups + 1, sizeof(IommuGroup));
	IommuGroup *group;
	va_list ap;

	assert_non_null(groups);
	model->groups = groups;
	group = &groups[model->n_groups++];
	*group = (IommuGroup){ .id = id };

	va_start(ap, id);
	for (const char *text = va_arg(ap, const char *); text; text = va_arg(ap, const char *)) {
		PciAddress *members =
			reallocarray(group->members, group->n_members + 1, sizeof(PciAddress));
		PciFunction *f;

		assert_non_null(members);
		group->members = members;
		members[group->n_members] = parse(text);
		f = find(model, &members[group->n_members]);
		if (f)
			f->iommu_group = id;
		group->n_members++;
	}
	va_end(ap);
}

void model_add_hugepages(HostModel *model, uint64_t size_kib, uint64_t total, uint64_t free)
{
	HostFacts *facts = &model->facts;
	HugepagePool *pools =
		reallocarray(facts->hugepages, facts->n_hugepages + 1, sizeof(HugepagePool));

	assert_non_null(pools);
	facts->hugepages = pools;
	pools[facts->n_hugepages++] = (HugepagePool){ size_kib, total, free };
}

static int compare_functions(const void *a, const void *b)
{
	return pci_address_compare(&((const PciFunction *)a)->address,
				   &((const PciFunction *)b)->address);
}

static int compare_groups(const void *a, const void *b)
{
	int x = ((const IommuGroup *)a)->id, y = ((const IommuGroup *)b)->id;

	return (x > y) - (x < y);
}

void model_finish(HostModel *model)
{
	if (model->n_functions > 0)
		qsort(model->functions, model->n_functions, sizeof(PciFunction), compare_functions);
	assert_int_equal(host_model_index(model), 0);
	if (model->n_groups > 0)
		qsort(model->groups, model->n_groups, sizeof(IommuGroup), compare_groups);
}

const PciFunction *model_function(const HostModel *model, const char *address)
{
	PciAddress a = parse(address);
	const PciFunction *f = host_find_function(model, &a);

	if (!f)
		fail_msg("no function %s in the model", address);
	return f;
}

void expect_plan(const SysfsPlan *plan, ...)
{
	va_list ap;
	size_t i = 0;

	va_start(ap, plan);
	for (const char *path; (path = va_arg(ap, const char *)); i++) {
		const char *value = va_arg(ap, const char *);
		if (i >= plan->n_writes)
			fail_msg("missing write %zu: %s <- %s", i, path, value);
		assert_string_equal(plan->writes[i].path, path);
		assert_string_equal(plan->writes[i].value, value);
	}
	va_end(ap);
	assert_int_equal(plan->n_writes, i);
}
