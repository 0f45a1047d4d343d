/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host/nvidia_vgpu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_internal.h"
#include "macro.h"
#include "strv.h"

/* NVIDIA's type ids are four digits today; anything longer is not one. */
#define TYPE_ID_MAX_DIGITS 9
/* A name longer than this is damage, not a type. */
#define TYPE_NAME_MAX 128
/* One VF lists a few dozen types; a file listing more is not walked past this. */
#define TYPES_MAX 256

/* "1155 : NVIDIA L40S-4Q": the id's digits and the name; false for any other line. */
static bool parse_line(const char *line, size_t length, char id[static TYPE_ID_MAX_DIGITS + 1],
		       const char **ret_name, size_t *ret_name_length)
{
	size_t i = 0, digits = 0;

	while (i < length && line[i] == ' ')
		i++;
	while (i < length && line[i] >= '0' && line[i] <= '9' && digits < TYPE_ID_MAX_DIGITS)
		id[digits++] = line[i++];
	id[digits] = '\0';
	while (i < length && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (digits == 0 || i >= length || line[i] != ':')
		return false;
	for (i++; i < length && (line[i] == ' ' || line[i] == '\t');)
		i++;
	size_t end = i;
	while (end < length && (unsigned char)line[end] >= 0x20 && line[end] != 0x7f &&
	       end - i < TYPE_NAME_MAX)
		end++;
	while (end > i && line[end - 1] == ' ')
		end--;
	if (end == i || strtoull(id, NULL, 10) == 0)
		return false; /* no name, or the id 0 ("none") */
	*ret_name = line + i;
	*ret_name_length = end - i;
	return true;
}

int nvidia_vgpu_parse_types(const char *text, MdevType **ret, size_t *ret_n)
{
	MdevType *types = NULL;
	size_t n = 0;

	for (const char *line = text; line && *line && n < TYPES_MAX;) {
		const char *newline = strchr(line, '\n');
		size_t length = newline ? (size_t)(newline - line) : strlen(line);
		char id[TYPE_ID_MAX_DIGITS + 1];
		const char *name;
		size_t name_length;

		if (parse_line(line, length, id, &name, &name_length)) {
			MdevType *grown = realloc(types, (n + 1) * sizeof(MdevType));
			if (!grown)
				goto oom;
			types = grown;
			types[n] = (MdevType){ .id = strdup(id),
					       .name = strndup(name, name_length),
					       .device_api = strdup("vfio-pci"),
					       .available_instances = 1 };
			n++;
			if (!types[n - 1].id || !types[n - 1].name || !types[n - 1].device_api)
				goto oom;
		}
		line = newline ? newline + 1 : NULL;
	}
	*ret = types;
	*ret_n = n;
	return 0;
oom:
	mdev_types_free(types, n);
	return -ENOMEM;
}

int nvidia_vgpu_read_vf(int dir, PciFunction *f)
{
	_cleanup_free_ char *text = NULL;
	int64_t current;

	int r = sysfs_read_int_at(dir, "nvidia/current_vgpu_type", &current);
	if (r == -ENOENT)
		return 0; /* not a VF of NVIDIA's vGPU host driver */
	f->nvidia_vgpu = true;
	if (r < 0 || current < 0 || current > UINT32_MAX) {
		f->nvidia_vgpu_current = UINT32_MAX; /* unknown: never handed out */
		return strv_append(&f->warnings,
				   "its nvidia/current_vgpu_type is unreadable or no type id") < 0
			       ? -ENOMEM
			       : 0;
	}
	f->nvidia_vgpu_current = (uint32_t)current;
	r = sysfs_read_text_at(dir, "nvidia/creatable_vgpu_types", SYSFS_PAGE_SIZE, &text);
	if (r < 0)
		return strv_append(&f->warnings, "its nvidia/creatable_vgpu_types is unreadable") <
				       0
			       ? -ENOMEM
			       : 0;
	return nvidia_vgpu_parse_types(text, &f->nvidia_vgpu_types, &f->n_nvidia_vgpu_types);
}

const MdevType *nvidia_vgpu_find_type(const PciFunction *vf, const char *id)
{
	for (size_t i = 0; id && i < vf->n_nvidia_vgpu_types; i++)
		if (strcmp(vf->nvidia_vgpu_types[i].id, id) == 0)
			return &vf->nvidia_vgpu_types[i];
	return NULL;
}

int nvidia_vgpu_write_plan(const PciFunction *vf, uint32_t id, SysfsPlan *plan)
{
	char text[16];
	if (!vf->is_vf || !vf->nvidia_vgpu)
		return -EINVAL;
	snprintf(text, sizeof(text), "%u", id);
	return sysfs_plan_add(plan, text, "sys/bus/pci/devices/%s/nvidia/current_vgpu_type",
			      vf->address_text);
}
