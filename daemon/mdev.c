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

#include "host_internal.h"
#include "macro.h"
#include "mdev.h"
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

typedef struct TypeScan {
	const SysfsRoot *root;
	PciFunction *function;
	char **ids;
} TypeScan;

static int collect_id(const char *name, void *userdata)
{
	TypeScan *scan = userdata;
	if (!type_id_is_plain(name))
		return strv_appendf(&scan->function->warnings,
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
static int read_text(const SysfsRoot *root, PciFunction *f, const char *dir, const char *name,
		     char **ret)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int r = sysfs_read_text(root, path, MDEV_MAX_TEXT, ret);
	if (r == -ENOMEM)
		return r;
	if (r < 0 && r != -ENOENT)
		return strv_appendf(&f->warnings, "mdev type %s: its %s is unreadable (%s)",
				    strrchr(dir, '/') + 1, name, strerror(-r)) < 0
			       ? -ENOMEM
			       : 0;
	return 0;
}

static int read_type(const SysfsRoot *root, PciFunction *f, const char *id, MdevType *type)
{
	char dir[512], path[600];
	int64_t available;

	*type = (MdevType){ .available_instances = -1 };
	type->id = strdup(id);
	if (!type->id)
		return -ENOMEM;
	snprintf(dir, sizeof(dir), "sys/bus/pci/devices/%s/mdev_supported_types/%s",
		 f->address_text, id);

	int r = read_text(root, f, dir, "name", &type->name);
	if (r >= 0)
		r = read_text(root, f, dir, "description", &type->description);
	if (r >= 0)
		r = read_text(root, f, dir, "device_api", &type->device_api);
	if (r < 0)
		return r;

	snprintf(path, sizeof(path), "%s/available_instances", dir);
	r = sysfs_read_int(root, path, &available);
	if (r == 0 && available >= 0 && available <= MDEV_MAX_INSTANCES)
		type->available_instances = available;
	else if (strv_appendf(&f->warnings, "mdev type %s: available_instances is unreadable", id) <
		 0)
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

int mdev_read_types(const SysfsRoot *root, PciFunction *f)
{
	TypeScan scan = { .root = root, .function = f };
	char path[256];

	snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/mdev_supported_types",
		 f->address_text);
	int r = sysfs_list_dir(root, path, MDEV_MAX_TYPES, collect_id, &scan);
	if (r == -ENOMEM) {
		strv_free(scan.ids);
		return r;
	}
	if (r < 0 && r != -ENOENT &&
	    strv_appendf(&f->warnings, "cannot list its mdev types: %s", strerror(-r)) < 0) {
		strv_free(scan.ids);
		return -ENOMEM;
	}

	size_t n = strv_length(scan.ids);
	if (n > 0) {
		f->mdev_types = calloc(n, sizeof(MdevType));
		if (!f->mdev_types)
			r = -ENOMEM;
		for (size_t i = 0; f->mdev_types && i < n; i++) {
			r = read_type(root, f, scan.ids[i], &f->mdev_types[i]);
			f->n_mdev_types = i + 1;
			if (r < 0)
				break;
		}
	}
	strv_free(scan.ids);
	return r == -ENOMEM ? r : 0;
}

int mdev_create_plan(const PciFunction *parent, const MdevType *type, const char *uuid,
		     SysfsPlan *ret)
{
	SysfsPlan plan = { 0 };

	/* Type ids come from directory names; only plain ones are kept (type_id_is_plain). */
	if (!uuid_is_valid(uuid) || !type_id_is_plain(type->id))
		return -EINVAL;
	int r = sysfs_plan_add(&plan, uuid, "sys/bus/pci/devices/%s/mdev_supported_types/%s/create",
			       parent->address_text, type->id);
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
