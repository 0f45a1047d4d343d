/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Mediated device types of a parent device, as in
 * Documentation/driver-api/vfio-mediated-device.rst:
 * mdev_supported_types/TYPE/{name,description,device_api,available_instances}
 * and devices/, a link per existing instance named by its UUID.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "array.h"
#include "host/host_internal.h"
#include "host/mdev.h"
#include "macro.h"
#include "parse_util.h"
#include "strv.h"

#define MDEV_MAX_TYPES 256
#define MDEV_MAX_INSTANCES 4096
/* Descriptions are a few lines; a longer one is cut (and warned about). */
#define MDEV_MAX_TEXT SYSFS_PAGE_SIZE

/* Type ids end up in paths and command lines: only a plain set of characters. */
static bool type_id_is_plain(const char *id)
{
	if (!id[0] || strlen(id) > 128)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("_-.:", *p)))
			return false;
	return true;
}

#define MDEV_MAX_PARENTS 1024

typedef struct TypeScan {
	char ***warnings;
	char **ids;
} TypeScan;

static int collect_id(const char *name, void *userdata)
{
	TypeScan *scan = userdata;
	if (!type_id_is_plain(name))
		return strv_appendf(scan->warnings,
				    "an mdev type with an unusual name was skipped") < 0
			       ? -ENOMEM
			       : 0;
	return strv_append(&scan->ids, name);
}

static int collect_instance(const char *name, void *userdata)
{
	MdevType *type = userdata;
	return uuid_is_valid(name) ? strv_append(&type->instances, name) : 0;
}

/* Reads an optional text attribute of a type; damage becomes a warning. */
static int read_text(const SysfsRoot *root, char ***warnings, const char *dir, const char *name,
		     char **ret)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int r = sysfs_read_text(root, path, MDEV_MAX_TEXT, ret);
	if (r == -ENOMEM)
		return r;
	if (r < 0 && r != -ENOENT)
		return strv_appendf(warnings, "mdev type %s: its %s is unreadable (%s)",
				    strrchr(dir, '/') + 1, name, strerror(-r)) < 0
			       ? -ENOMEM
			       : 0;
	return 0;
}

/* One type below `types_dir` ("sys/class/mdev_bus/NAME/mdev_supported_types"). */
static int read_type(const SysfsRoot *root, char ***warnings, const char *types_dir, const char *id,
		     MdevType *type)
{
	char dir[512], path[600];
	int64_t available;

	*type = (MdevType){ .available_instances = -1 };
	type->id = strdup(id);
	if (!type->id)
		return -ENOMEM;
	snprintf(dir, sizeof(dir), "%s/%s", types_dir, id);

	int r = read_text(root, warnings, dir, "name", &type->name);
	if (r >= 0)
		r = read_text(root, warnings, dir, "description", &type->description);
	if (r >= 0)
		r = read_text(root, warnings, dir, "device_api", &type->device_api);
	if (r < 0)
		return r;

	snprintf(path, sizeof(path), "%s/available_instances", dir);
	r = sysfs_read_int(root, path, &available);
	if (r == 0 && available >= 0 && available <= MDEV_MAX_INSTANCES)
		type->available_instances = available;
	else if (strv_appendf(warnings, "mdev type %s: available_instances is unreadable", id) < 0)
		return -ENOMEM;

	snprintf(path, sizeof(path), "%s/devices", dir);
	r = sysfs_list_dir(root, path, MDEV_MAX_INSTANCES, collect_instance, type);
	return r == -ENOMEM ? r : 0;
}

void mdev_types_free(MdevType *types, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(types[i].id);
		free(types[i].name);
		free(types[i].description);
		free(types[i].device_api);
		strv_free(types[i].instances);
	}
	free(types);
}

/* The types of the parent sys/class/mdev_bus/NAME. Only -ENOMEM fails. */
static int read_types(const SysfsRoot *root, const char *name, char ***warnings,
		      MdevType **ret_types, size_t *ret_n)
{
	TypeScan scan = { .warnings = warnings };
	char path[256];

	snprintf(path, sizeof(path), "sys/class/mdev_bus/%s/mdev_supported_types", name);
	int r = sysfs_list_dir(root, path, MDEV_MAX_TYPES, collect_id, &scan);
	if (r == -ENOMEM) {
		strv_free(scan.ids);
		return r;
	}
	if (r < 0 && r != -ENOENT &&
	    strv_appendf(warnings, "cannot list its mdev types: %s", strerror(-r)) < 0) {
		strv_free(scan.ids);
		return -ENOMEM;
	}

	size_t n = strv_length(scan.ids);
	if (n > 0) {
		*ret_types = calloc(n, sizeof(MdevType));
		if (!*ret_types)
			r = -ENOMEM;
		for (size_t i = 0; *ret_types && i < n; i++) {
			r = read_type(root, warnings, path, scan.ids[i], &(*ret_types)[i]);
			*ret_n = i + 1;
			if (r < 0)
				break;
		}
	}
	strv_free(scan.ids);
	return r == -ENOMEM ? r : 0;
}

/*
 * A PCI function that is not a GPU by its class was not read for SR-IOV:
 * as an mdev parent it is one now (NVIDIA puts mdev types on VFs).
 */
static int read_pci_parent(const SysfsRoot *root, PciFunction *f)
{
	char path[64];
	int r = 0;

	if (!pci_function_is_gpu(f)) {
		snprintf(path, sizeof(path), "sys/bus/pci/devices/%s", f->address_text);
		_cleanup_close_ int dir = sysfs_open_dir(root, path);
		if (dir >= 0)
			r = sriov_read(dir, f);
	}
	f->mdev_parent = true;
	return r < 0 ? r
		     : read_types(root, f->address_text, &f->warnings, &f->mdev_types,
				  &f->n_mdev_types);
}

/* Where the device of sys/class/mdev_bus/NAME is, below sys/ ("devices/virtual/..."). */
static int read_parent_path(const SysfsRoot *root, const char *name, char **ret)
{
	char relative[256], path[4096], target[4096];

	snprintf(relative, sizeof(relative), "sys/class/mdev_bus/%s", name);
	if (sysfs_path(root, relative, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	const char *p = target;
	while (strncmp(p, "../", 3) == 0)
		p += 3;
	*ret = strdup(p);
	return *ret ? 0 : -ENOMEM;
}

typedef struct ParentScan {
	const SysfsRoot *root;
	HostModel *model;
	size_t allocated;
} ParentScan;

static int add_parent(const char *name, void *userdata)
{
	ParentScan *scan = userdata;
	HostModel *model = scan->model;
	PciAddress address;

	if (pci_address_parse(name, &address) == 0) {
		PciFunction *f = (PciFunction *)host_find_function(model, &address);
		if (f && f->readable)
			return read_pci_parent(scan->root, f);
		if (f)
			return 0; /* unreadable: warned already */
	}
	if (!sysfs_name_is_plain(name))
		return strv_appendf(&model->warnings,
				    "sys/class/mdev_bus holds an mdev parent with an unusual "
				    "name; it was skipped") < 0
			       ? -ENOMEM
			       : 0;
	if (ARRAY_RESERVE(model->mdev_parents, scan->allocated, model->n_mdev_parents + 1) < 0)
		return -ENOMEM;
	MdevParent *parent = &model->mdev_parents[model->n_mdev_parents++];
	*parent = (MdevParent){ .name = strdup(name) };
	if (!parent->name)
		return -ENOMEM;
	int r = read_parent_path(scan->root, name, &parent->path);
	if (r == -ENOMEM)
		return r;
	if (r < 0 &&
	    strv_appendf(&parent->warnings, "its sysfs link cannot be read: %s", strerror(-r)) < 0)
		return -ENOMEM;
	return read_types(scan->root, name, &parent->warnings, &parent->mdev_types,
			  &parent->n_mdev_types);
}

static int compare_parents(const void *a, const void *b)
{
	return strcmp(((const MdevParent *)a)->name, ((const MdevParent *)b)->name);
}

int mdev_read_parents(const SysfsRoot *root, HostModel *model)
{
	ParentScan scan = { .root = root, .model = model };

	int r = sysfs_list_dir(root, "sys/class/mdev_bus", MDEV_MAX_PARENTS, add_parent, &scan);
	if (r == -ENOMEM)
		return r;
	if (r < 0 && r != -ENOENT &&
	    strv_appendf(&model->warnings, "Cannot list sys/class/mdev_bus: %s", strerror(-r)) < 0)
		return -ENOMEM;
	if (model->n_mdev_parents > 0)
		qsort(model->mdev_parents, model->n_mdev_parents, sizeof(MdevParent),
		      compare_parents);
	return 0;
}

int mdev_create_plan(const char *parent, const MdevType *type, const char *uuid, SysfsPlan *ret)
{
	SysfsPlan plan = { 0 };
	PciAddress address;

	/* Type ids come from directory names; only plain ones are kept (type_id_is_plain). */
	bool pci = pci_address_parse(parent, &address) == 0;
	if (!uuid_is_valid(uuid) || !type_id_is_plain(type->id) ||
	    !(pci || sysfs_name_is_plain(parent)))
		return -EINVAL;
	/* A PCI parent by its bus link, as ever; any other by its mdev_bus class link. */
	int r = sysfs_plan_add(&plan, uuid, "sys/%s/%s/mdev_supported_types/%s/create",
			       pci ? "bus/pci/devices" : "class/mdev_bus", parent, type->id);
	if (r < 0)
		return r;
	*ret = plan;
	return 0;
}

int mdev_remove_plan(const char *uuid, SysfsPlan *ret)
{
	SysfsPlan plan = { 0 };

	if (!uuid_is_valid(uuid))
		return -EINVAL;
	int r = sysfs_plan_add(&plan, "1", "sys/bus/mdev/devices/%s/remove", uuid);
	if (r < 0)
		return r;
	*ret = plan;
	return 0;
}
