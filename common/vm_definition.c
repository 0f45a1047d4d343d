/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm_definition.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "parse_util.h"
#include "yaml_doc.h"

#define MIN_MEMORY (UINT64_C(16) << 20)
#define MAX_MEMORY (UINT64_C(16) << 40)

static const char *const firmware_names[_VM_FIRMWARE_MAX] = {
	[VM_FIRMWARE_UEFI] = "uefi",
	[VM_FIRMWARE_BIOS] = "bios",
};

static const char *const bus_names[_VM_DISK_BUS_MAX] = {
	[VM_DISK_VIRTIO] = "virtio",
	[VM_DISK_SATA] = "sata",
	[VM_DISK_NVME] = "nvme",
};

static const char *const disk_formats[] = { "raw", "qcow2", NULL };
static const char *const cache_modes[] = { "none",       "writeback", "writethrough",
					   "directsync", "unsafe",    NULL };

const char *vm_firmware_to_string(VmFirmware firmware)
{
	return firmware >= 0 && firmware < _VM_FIRMWARE_MAX ? firmware_names[firmware] : NULL;
}

const char *vm_disk_bus_to_string(VmDiskBus bus)
{
	return bus >= 0 && bus < _VM_DISK_BUS_MAX ? bus_names[bus] : NULL;
}

static bool is_name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (!first && (c == '_' || c == '.' || c == '-'));
}

bool vm_name_is_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > VM_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_name_char(name[i], i == 0))
			return false;
	return true;
}

unsigned vm_definition_cpus(const VmDefinition *definition)
{
	return definition->sockets * definition->cores * definition->threads;
}

void vm_definition_done(VmDefinition *definition)
{
	free(definition->name);
	for (size_t i = 0; i < definition->n_disks; i++) {
		free(definition->disks[i].path);
		free(definition->disks[i].format);
		free(definition->disks[i].cache);
	}
	free(definition->disks);
	*definition = (VmDefinition){ 0 };
}

/* ---- walking the document ---- */

typedef struct Walk {
	yaml_document_t *doc;
	const char *origin;
	char **error;
} Walk;

/* Sets "ORIGIN:LINE:COLUMN: KEY: text" and returns -EINVAL. */
_printf_(4, 5) static int fail(Walk *w, const yaml_node_t *node, const char *key,
			       const char *format, ...)
{
	_cleanup_free_ char *text = NULL;
	va_list ap;

	va_start(ap, format);
	int r = vasprintf(&text, format, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	free(*w->error);
	if (asprintf(w->error, "%s:%u:%u: %s: %s", w->origin, yaml_doc_line(node),
		     (unsigned)node->start_mark.column + 1, key, text) < 0) {
		*w->error = NULL;
		return -ENOMEM;
	}
	return -EINVAL;
}

static yaml_node_t *node_at(Walk *w, int index)
{
	return yaml_document_get_node(w->doc, index);
}

/* A non-empty scalar. */
static int scalar(Walk *w, const yaml_node_t *node, const char *key, const char **ret)
{
	const char *text = yaml_doc_scalar(node);
	if (!text || !text[0])
		return fail(w, node, key, "needs a single value");
	*ret = text;
	return 0;
}

static int one_of(Walk *w, const yaml_node_t *node, const char *key, const char *const *names,
		  size_t n, int *ret)
{
	const char *text = NULL;
	int r = scalar(w, node, key, &text);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && names[i]; i++)
		if (strcmp(text, names[i]) == 0) {
			*ret = (int)i;
			return 0;
		}
	char list[256] = "";
	for (size_t i = 0; i < n && names[i]; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 names[i]);
	return fail(w, node, key, "'%s' is not one of: %s", text, list);
}

static int boolean(Walk *w, const yaml_node_t *node, const char *key, bool *ret)
{
	static const char *const names[] = { "false", "true" };
	int value, r = one_of(w, node, key, names, ELEMENTSOF(names), &value);
	if (r >= 0)
		*ret = value == 1;
	return r;
}

static int count(Walk *w, const yaml_node_t *node, const char *key, uint64_t max, unsigned *ret)
{
	const char *text = NULL;
	uint64_t value;
	int r = scalar(w, node, key, &text);
	if (r < 0)
		return r;
	if (parse_uint64(text, &value) < 0 || value < 1 || value > max)
		return fail(w, node, key, "'%s' is not a whole number from 1 to %" PRIu64, text,
			    max);
	*ret = (unsigned)value;
	return 0;
}

static int string_copy(Walk *w, const yaml_node_t *node, const char *key, char **ret)
{
	const char *text = NULL;
	int r = scalar(w, node, key, &text);
	if (r < 0)
		return r;
	char *copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	free(*ret);
	*ret = copy;
	return 0;
}

/*
 * Checks that `node` is a mapping whose keys are all in `keys` (NULL-ended),
 * each once. `what` names the mapping in errors.
 */
static int check_mapping(Walk *w, const yaml_node_t *node, const char *what,
			 const char *const *keys)
{
	if (node->type != YAML_MAPPING_NODE)
		return fail(w, node, what, "expected a mapping of key: value");
	for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
	     pair < node->data.mapping.pairs.top; pair++) {
		yaml_node_t *key_node = node_at(w, pair->key);
		const char *name = yaml_doc_scalar(key_node);
		bool known = false;

		if (!name || !name[0])
			return fail(w, key_node, what, "keys must be plain names");
		for (size_t i = 0; keys[i] && !known; i++)
			known = strcmp(keys[i], name) == 0;
		if (!known)
			return fail(w, key_node, name, "unknown key in %s", what);
		for (yaml_node_pair_t *earlier = node->data.mapping.pairs.start; earlier < pair;
		     earlier++) {
			const char *earlier_name = yaml_doc_scalar(node_at(w, earlier->key));
			if (earlier_name && strcmp(earlier_name, name) == 0)
				return fail(w, key_node, name, "given twice");
		}
	}
	return 0;
}

static int parse_memory(Walk *w, const yaml_node_t *node, VmDefinition *d)
{
	const char *text = NULL;
	int r = scalar(w, node, "memory", &text);
	if (r < 0)
		return r;
	if (parse_size(text, &d->memory) < 0)
		return fail(w, node, "memory", "'%s' is not a size (like 8G or 16384M)", text);
	if (d->memory < MIN_MEMORY || d->memory > MAX_MEMORY || d->memory % (1 << 20) != 0)
		return fail(w, node, "memory", "'%s' must be whole MiB from 16M to 16T", text);
	return 0;
}

static int parse_cpus(Walk *w, const yaml_node_t *node, VmDefinition *d)
{
	static const char *const keys[] = { "sockets", "cores", "threads", NULL };
	int r;

	d->sockets = d->cores = d->threads = 1;
	if (node->type == YAML_SCALAR_NODE)
		return count(w, node, "cpus", VM_MAX_CPUS, &d->cores);
	r = check_mapping(w, node, "cpus", keys);
	if (r < 0)
		return r;
	for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
	     pair < node->data.mapping.pairs.top; pair++) {
		const char *name = yaml_doc_scalar(node_at(w, pair->key));
		unsigned *slot = strcmp(name, "sockets") == 0 ? &d->sockets
				 : strcmp(name, "cores") == 0 ? &d->cores
							      : &d->threads;
		r = count(w, node_at(w, pair->value), name, VM_MAX_CPUS, slot);
		if (r < 0)
			return r;
	}
	if ((uint64_t)d->sockets * d->cores * d->threads > VM_MAX_CPUS)
		return fail(w, node, "cpus", "sockets × cores × threads is over %d", VM_MAX_CPUS);
	return 0;
}

static int parse_disk(Walk *w, const yaml_node_t *node, VmDisk *disk)
{
	static const char *const keys[] = { "path", "format", "bus", "readonly", "cache", NULL };
	int r = check_mapping(w, node, "disks entry", keys);
	const yaml_node_t *path_node = NULL;

	if (r < 0)
		return r;
	for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
	     r >= 0 && pair < node->data.mapping.pairs.top; pair++) {
		const char *name = yaml_doc_scalar(node_at(w, pair->key));
		yaml_node_t *value = node_at(w, pair->value);
		int choice;

		if (strcmp(name, "path") == 0) {
			path_node = value;
			r = string_copy(w, value, name, &disk->path);
			if (r >= 0 && disk->path[0] != '/')
				r = fail(w, value, name, "'%s' is not an absolute path",
					 disk->path);
		} else if (strcmp(name, "format") == 0) {
			r = one_of(w, value, name, disk_formats, ELEMENTSOF(disk_formats), &choice);
			if (r >= 0)
				r = string_copy(w, value, name, &disk->format);
		} else if (strcmp(name, "bus") == 0) {
			r = one_of(w, value, name, bus_names, ELEMENTSOF(bus_names), &choice);
			disk->bus = (VmDiskBus)choice;
		} else if (strcmp(name, "readonly") == 0)
			r = boolean(w, value, name, &disk->readonly);
		else {
			r = one_of(w, value, name, cache_modes, ELEMENTSOF(cache_modes), &choice);
			if (r >= 0)
				r = string_copy(w, value, name, &disk->cache);
		}
	}
	if (r < 0)
		return r;
	if (!path_node)
		return fail(w, node, "disks entry", "needs a path");
	if ((!disk->format && !(disk->format = strdup("raw"))) ||
	    (!disk->cache && !(disk->cache = strdup("none"))))
		return -ENOMEM;
	return 0;
}

static int parse_disks(Walk *w, const yaml_node_t *node, VmDefinition *d)
{
	if (node->type != YAML_SEQUENCE_NODE)
		return fail(w, node, "disks", "expected a list of disks");
	size_t n = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
	if (n > VM_MAX_DISKS)
		return fail(w, node, "disks", "at most %d disks", VM_MAX_DISKS);
	d->disks = calloc(n ? n : 1, sizeof(VmDisk));
	if (!d->disks)
		return -ENOMEM;
	for (yaml_node_item_t *item = node->data.sequence.items.start;
	     item < node->data.sequence.items.top; item++) {
		int r = parse_disk(w, node_at(w, *item), &d->disks[d->n_disks++]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_top(Walk *w, const yaml_node_t *root, VmDefinition *d)
{
	static const char *const keys[] = { "name",     "uuid",        "memory", "cpus",
					    "firmware", "secure-boot", "disks",  NULL };
	const yaml_node_t *secure_boot = NULL;
	int r = check_mapping(w, root, "the definition", keys);
	int choice;

	for (yaml_node_pair_t *pair = root->data.mapping.pairs.start;
	     r >= 0 && pair < root->data.mapping.pairs.top; pair++) {
		const char *name = yaml_doc_scalar(node_at(w, pair->key));
		yaml_node_t *value = node_at(w, pair->value);

		if (strcmp(name, "name") == 0) {
			r = string_copy(w, value, name, &d->name);
			if (r >= 0 && !vm_name_is_valid(d->name))
				r = fail(w, value, name,
					 "'%s' is not a VM name: up to 64 letters, digits, '_', "
					 "'.' and '-', starting with a letter or digit",
					 d->name);
		} else if (strcmp(name, "uuid") == 0) {
			const char *text = NULL;
			r = scalar(w, value, name, &text);
			if (r >= 0 && !uuid_is_valid(text))
				r = fail(w, value, name,
					 "'%s' is not a UUID (like "
					 "4b1e5a8c-2f0d-4c6e-9a7b-3d2c1e0f9a8b)",
					 text);
			if (r >= 0)
				memcpy(d->uuid, text, UUID_STRING_SIZE);
		} else if (strcmp(name, "memory") == 0)
			r = parse_memory(w, value, d);
		else if (strcmp(name, "cpus") == 0)
			r = parse_cpus(w, value, d);
		else if (strcmp(name, "firmware") == 0) {
			r = one_of(w, value, name, firmware_names, ELEMENTSOF(firmware_names),
				   &choice);
			d->firmware = (VmFirmware)choice;
		} else if (strcmp(name, "secure-boot") == 0) {
			secure_boot = value;
			r = boolean(w, value, name, &d->secure_boot);
		} else
			r = parse_disks(w, value, d);
	}
	if (r < 0)
		return r;
	if (!d->name)
		return fail(w, root, "name", "missing: every VM needs a name");
	if (!d->memory)
		return fail(w, root, "memory", "missing: say how much, like 'memory: 8G'");
	if (d->secure_boot && d->firmware != VM_FIRMWARE_UEFI)
		return fail(w, secure_boot, "secure-boot", "needs 'firmware: uefi'");
	return 0;
}

static int load(const char *origin, int r, YamlDocError *yaml_error, yaml_document_t *doc,
		VmDefinition *ret, char **ret_error)
{
	_cleanup_free_ char *text = r == -EINVAL ? yaml_error->text : NULL;
	VmDefinition d = { .sockets = 1, .cores = 1, .threads = 1 };
	Walk w = { doc, origin, ret_error };

	*ret_error = NULL;
	if (r < 0) {
		if (r == -EINVAL)
			return asprintf(ret_error, "%s:%u: %s", origin, yaml_error->line,
					text ? text : "malformed YAML") < 0
				       ? -ENOMEM
				       : -EINVAL;
		return asprintf(ret_error, "%s: cannot read: %s", origin, strerror(-r)) < 0
			       ? -ENOMEM
			       : r;
	}
	yaml_node_t *root = yaml_document_get_root_node(doc);
	if (!root)
		r = asprintf(ret_error, "%s: empty: a VM needs at least a name and memory",
			     origin) < 0
			    ? -ENOMEM
			    : -EINVAL;
	else
		r = parse_top(&w, root, &d);
	yaml_document_delete(doc);
	if (r < 0) {
		vm_definition_done(&d);
		return r;
	}
	*ret = d;
	return 0;
}

int vm_definition_load_string(const char *text, size_t size, const char *origin, VmDefinition *ret,
			      char **ret_error)
{
	YamlDocError yaml_error = { 0 };
	yaml_document_t doc;
	int r = size > VM_DEFINITION_MAX_FILE_SIZE
			? -EFBIG
			: yaml_doc_load_string(text, size, &doc, &yaml_error);
	return load(origin, r, &yaml_error, &doc, ret, ret_error);
}

int vm_definition_load_file(const char *path, VmDefinition *ret, char **ret_error)
{
	YamlDocError yaml_error = { 0 };
	yaml_document_t doc;
	int r = yaml_doc_load_file(path, VM_DEFINITION_MAX_FILE_SIZE, &doc, &yaml_error);
	return load(path, r, &yaml_error, &doc, ret, ret_error);
}
