/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm_definition.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "looking_glass_size.h"
#include "macro.h"
#include "parse_util.h"
#include "pci_address.h"
#include "string_table.h"
#include "strv.h"
#include "yaml_doc.h"

#define MIN_MEMORY (UINT64_C(16) << 20)
#define MAX_MEMORY (UINT64_C(16) << 40)

static const char *const vm_firmware_table[_VM_FIRMWARE_MAX] = {
	[VM_FIRMWARE_UEFI] = "uefi",
	[VM_FIRMWARE_BIOS] = "bios",
};

static const char *const vm_disk_bus_table[_VM_DISK_BUS_MAX] = {
	[VM_DISK_VIRTIO] = "virtio",
	[VM_DISK_SATA] = "sata",
	[VM_DISK_NVME] = "nvme",
};

static const char *const vm_boot_table[_VM_BOOT_MAX] = {
	[VM_BOOT_DISK] = "disk",
	[VM_BOOT_CDROM] = "cdrom",
};

static const char *const vm_network_mode_table[_VM_NETWORK_MODE_MAX] = {
	[VM_NETWORK_USER] = "user",
	[VM_NETWORK_BRIDGE] = "bridge",
	[VM_NETWORK_NONE] = "none",
};

static const char *const vm_hugepages_table[_VM_HUGEPAGES_MAX] = {
	[VM_HUGEPAGES_OFF] = "off",
	[VM_HUGEPAGES_2M] = "2M",
	[VM_HUGEPAGES_1G] = "1G",
};

static const char *const vm_audio_table[_VM_AUDIO_MAX] = {
	[VM_AUDIO_NONE] = "none",
	[VM_AUDIO_PIPEWIRE] = "pipewire",
	[VM_AUDIO_PULSEAUDIO] = "pulseaudio",
};

static const char *const vm_gpu_mode_table[_VM_GPU_MODE_MAX] = {
	[VM_GPU_AUTO] = "auto",   [VM_GPU_MDEV] = "mdev",
	[VM_GPU_SRIOV] = "sriov", [VM_GPU_PASSTHROUGH] = "passthrough",
	[VM_GPU_NONE] = "none",
};

/* What the guest sees: QEMU device names people know from the Windows driver list. */
static const char *const nic_models[] = { "virtio-net-pci", "e1000e", "rtl8139", NULL };

static const char *const disk_formats[] = { "raw", "qcow2", NULL };
static const char *const cache_modes[] = { "none",       "writeback", "writethrough",
					   "directsync", "unsafe",    NULL };

DEFINE_STRING_TABLE_LOOKUP(vm_firmware, VmFirmware)
DEFINE_STRING_TABLE_LOOKUP(vm_disk_bus, VmDiskBus)
DEFINE_STRING_TABLE_LOOKUP(vm_boot, VmBoot)
DEFINE_STRING_TABLE_LOOKUP(vm_network_mode, VmNetworkMode)
DEFINE_STRING_TABLE_LOOKUP(vm_hugepages, VmHugepages)
DEFINE_STRING_TABLE_LOOKUP(vm_audio, VmAudio)
DEFINE_STRING_TABLE_LOOKUP(vm_gpu_mode, VmGpuMode)

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
	for (size_t i = 0; i < definition->n_gpus; i++) {
		free(definition->gpus[i].type);
		free(definition->gpus[i].parent);
		free(definition->gpus[i].rom);
	}
	free(definition->gpus);
	strv_free(definition->cdroms);
	free(definition->bridge);
	free(definition->nic_model);
	free(definition->mac);
	free(definition->usb);
	free(definition->pinned);
	free(definition->owner);
	strv_free(definition->qemu_args);
	*definition = (VmDefinition){ 0 };
}

/* ---- walking the document ---- */

typedef struct Walk {
	yaml_document_t *doc;
	const char *origin;
	char **error;
} Walk;

/* Errors quote what the file says: at most this much of it, and no control characters. */
#define MAX_ERROR_LENGTH 400

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
	char *e = *w->error;
	if (strlen(e) > MAX_ERROR_LENGTH)
		strcpy(e + MAX_ERROR_LENGTH - 3, "...");
	for (; *e; e++)
		if ((unsigned char)*e < 0x20 || *e == 0x7f)
			*e = '?';
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

static int absolute_path(Walk *w, const yaml_node_t *value, const char *key, char **ret)
{
	int r = string_copy(w, value, key, ret);
	if (r >= 0 && (*ret)[0] != '/')
		r = fail(w, value, key, "'%s' is not an absolute path", *ret);
	return r;
}

static int parse_memory(Walk *w, const yaml_node_t *node, const char *key, VmDefinition *d)
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

static int parse_cpus(Walk *w, const yaml_node_t *node, const char *key, VmDefinition *d)
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
			r = absolute_path(w, value, name, &disk->path);
		} else if (strcmp(name, "format") == 0) {
			r = one_of(w, value, name, disk_formats, ELEMENTSOF(disk_formats), &choice);
			if (r >= 0)
				r = string_copy(w, value, name, &disk->format);
		} else if (strcmp(name, "bus") == 0) {
			r = one_of(w, value, name, vm_disk_bus_table, ELEMENTSOF(vm_disk_bus_table),
				   &choice);
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

static int parse_disks(Walk *w, const yaml_node_t *node, const char *key, VmDefinition *d)
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

static int parse_name(Walk *w, const yaml_node_t *value, const char *key, VmDefinition *d)
{
	int r = string_copy(w, value, key, &d->name);
	if (r >= 0 && !vm_name_is_valid(d->name))
		r = fail(w, value, key,
			 "'%s' is not a VM name: up to 64 letters, digits, '_', '.' and '-', "
			 "starting with a letter or digit",
			 d->name);
	return r;
}

static int parse_uuid(Walk *w, const yaml_node_t *value, const char *key, VmDefinition *d)
{
	const char *text = NULL;
	int r = scalar(w, value, key, &text);
	if (r >= 0 && !uuid_is_valid(text))
		r = fail(w, value, key,
			 "'%s' is not a UUID (like 4b1e5a8c-2f0d-4c6e-9a7b-3d2c1e0f9a8b)", text);
	if (r >= 0)
		memcpy(d->uuid, text, UUID_STRING_SIZE);
	return r;
}

static int parse_firmware(Walk *w, const yaml_node_t *value, const char *key, VmDefinition *d)
{
	int choice = 0,
	    r = one_of(w, value, key, vm_firmware_table, ELEMENTSOF(vm_firmware_table), &choice);
	d->firmware = (VmFirmware)choice;
	return r;
}

static int parse_secure_boot(Walk *w, const yaml_node_t *value, const char *key, VmDefinition *d)
{
	return boolean(w, value, key, &d->secure_boot);
}

static int parse_tpm(Walk *w, const yaml_node_t *value, const char *key, VmDefinition *d)
{
	return boolean(w, value, key, &d->tpm);
}

/* One ISO's absolute path, appended to d->cdroms; the same ISO twice is a mistake. */
static int add_cdrom(Walk *w, const yaml_node_t *node, const char *key, VmDefinition *d)
{
	_cleanup_free_ char *path = NULL;
	int r = absolute_path(w, node, key, &path);
	if (r < 0)
		return r;
	for (size_t i = 0; d->cdroms && d->cdroms[i]; i++)
		if (strcmp(d->cdroms[i], path) == 0)
			return fail(w, node, key, "'%s' is listed twice", path);
	return strv_append(&d->cdroms, path);
}

/* cdrom: /one.iso, or a list of them (an installer and a drivers disc). */
static int parse_cdrom(Walk *w, const yaml_node_t *value, const char *key, VmDefinition *d)
{
	if (value->type != YAML_SEQUENCE_NODE)
		return add_cdrom(w, value, key, d);
	size_t n = (size_t)(value->data.sequence.items.top - value->data.sequence.items.start);
	if (n == 0 || n > VM_MAX_CDROMS)
		return fail(w, value, key, "a list of 1 to %d ISO paths", VM_MAX_CDROMS);
	for (yaml_node_item_t *item = value->data.sequence.items.start;
	     item < value->data.sequence.items.top; item++) {
		int r = add_cdrom(w, node_at(w, *item), key, d);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_boot(Walk *w, const yaml_node_t *value, const char *key, VmDefinition *d)
{
	int choice = 0,
	    r = one_of(w, value, key, vm_boot_table, ELEMENTSOF(vm_boot_table), &choice);
	d->boot = (VmBoot)choice;
	return r;
}

/* A Linux network interface name: 1-15 characters, no '/', no blanks. */
static bool interface_name_is_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 15 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_name_char(name[i], false))
			return false;
	return true;
}

/* "52:54:00:12:34:56": six hex pairs, a unicast address. */
static bool mac_is_valid(const char *mac)
{
	if (strlen(mac) != 17)
		return false;
	for (size_t i = 0; i < 17; i++)
		if (i % 3 == 2 ? mac[i] != ':' : !isxdigit((unsigned char)mac[i]))
			return false;
	/* The low bit of the first byte set is a group address, not a NIC's. */
	int low = isdigit((unsigned char)mac[1]) ? mac[1] - '0' : (tolower(mac[1]) - 'a' + 10);
	return (low & 1) == 0;
}

static int parse_network(Walk *w, const yaml_node_t *value, const char *key, VmDefinition *d)
{
	static const char *const keys[] = { "mode", "bridge", "model", "mac", NULL };
	const yaml_node_t *bridge_node = NULL;
	int choice = 0, r;

	if (value->type == YAML_SCALAR_NODE) { /* "network: user" */
		r = one_of(w, value, key, vm_network_mode_table, ELEMENTSOF(vm_network_mode_table),
			   &choice);
		d->network = (VmNetworkMode)choice;
		if (r >= 0 && d->network == VM_NETWORK_BRIDGE)
			r = fail(w, value, key,
				 "a bridge needs its name: {mode: bridge, bridge: br0}");
		return r;
	}
	r = check_mapping(w, value, key, keys);
	for (yaml_node_pair_t *pair = value->data.mapping.pairs.start;
	     r >= 0 && pair < value->data.mapping.pairs.top; pair++) {
		const char *name = yaml_doc_scalar(node_at(w, pair->key));
		yaml_node_t *v = node_at(w, pair->value);
		if (strcmp(name, "mode") == 0) {
			r = one_of(w, v, name, vm_network_mode_table,
				   ELEMENTSOF(vm_network_mode_table), &choice);
			d->network = (VmNetworkMode)choice;
		} else if (strcmp(name, "bridge") == 0) {
			bridge_node = v;
			r = string_copy(w, v, name, &d->bridge);
			if (r >= 0 && !interface_name_is_valid(d->bridge))
				r = fail(w, v, name, "'%s' is not a network interface name",
					 d->bridge);
		} else if (strcmp(name, "model") == 0) {
			r = one_of(w, v, name, nic_models, ELEMENTSOF(nic_models), &choice);
			if (r >= 0)
				r = string_copy(w, v, name, &d->nic_model);
		} else {
			r = string_copy(w, v, name, &d->mac);
			if (r >= 0 && !mac_is_valid(d->mac))
				r = fail(w, v, name,
					 "'%s' is not a unicast MAC address (like "
					 "52:54:00:12:34:56)",
					 d->mac);
		}
	}
	if (r < 0)
		return r;
	if (d->network == VM_NETWORK_BRIDGE && !d->bridge)
		return fail(w, value, key, "mode bridge needs 'bridge: NAME' (an existing bridge)");
	if (d->network != VM_NETWORK_BRIDGE && bridge_node)
		return fail(w, bridge_node, "bridge", "only with 'mode: bridge'");
	return 0;
}

static int parse_numa(Walk *w, const yaml_node_t *value, const char *key, VmDefinition *d)
{
	const char *text = NULL;
	uint64_t node;
	int r = scalar(w, value, key, &text);
	if (r < 0)
		return r;
	if (strcmp(text, "auto") == 0)
		d->numa = VM_NUMA_AUTO;
	else if (strcmp(text, "off") == 0)
		d->numa = VM_NUMA_OFF;
	else if (parse_uint64(text, &node) >= 0 && node < 1024)
		d->numa = (int)node;
	else
		return fail(w, value, key, "'%s' is not auto, off or a node number (0 to 1023)",
			    text);
	return 0;
}

static int parse_hugepages(Walk *w, const yaml_node_t *value, const char *key, VmDefinition *d)
{
	int choice = 0,
	    r = one_of(w, value, key, vm_hugepages_table, ELEMENTSOF(vm_hugepages_table), &choice);
	d->hugepages = (VmHugepages)choice;
	return r;
}

static int parse_audio(Walk *w, const yaml_node_t *value, const char *key, VmDefinition *d)
{
	int choice = 0,
	    r = one_of(w, value, key, vm_audio_table, ELEMENTSOF(vm_audio_table), &choice);
	d->audio = (VmAudio)choice;
	return r;
}

static int parse_usb(Walk *w, const yaml_node_t *value, const char *key, VmDefinition *d)
{
	if (value->type != YAML_SEQUENCE_NODE)
		return fail(w, value, key, "expected a list of VENDOR:PRODUCT ids (046d:c52b)");
	size_t n = (size_t)(value->data.sequence.items.top - value->data.sequence.items.start);
	if (n > VM_MAX_USB)
		return fail(w, value, key, "at most %d USB devices", VM_MAX_USB);
	d->usb = calloc(n ? n : 1, sizeof(VmUsbDevice));
	if (!d->usb)
		return -ENOMEM;
	for (yaml_node_item_t *item = value->data.sequence.items.start;
	     item < value->data.sequence.items.top; item++) {
		yaml_node_t *node = node_at(w, *item);
		const char *text = NULL;
		char vendor_text[5] = "";
		uint16_t vendor, product;
		int r = scalar(w, node, key, &text);
		if (r < 0)
			return r;
		bool ok = strlen(text) == 9 && text[4] == ':';
		if (ok) {
			memcpy(vendor_text, text, 4);
			ok = pci_id_parse(vendor_text, &vendor) >= 0 &&
			     pci_id_parse(text + 5, &product) >= 0;
		}
		if (!ok)
			return fail(w, node, key, "'%s' is not VENDOR:PRODUCT in hex (046d:c52b)",
				    text);
		d->usb[d->n_usb++] = (VmUsbDevice){ vendor, product };
	}
	return 0;
}

static int parse_windows(Walk *w, const yaml_node_t *value, const char *key, VmDefinition *d)
{
	static const char *const keys[] = { "hyperv", "hide-hypervisor", NULL };
	int r = check_mapping(w, value, key, keys);
	d->windows = true;
	for (yaml_node_pair_t *pair = value->data.mapping.pairs.start;
	     r >= 0 && pair < value->data.mapping.pairs.top; pair++) {
		const char *name = yaml_doc_scalar(node_at(w, pair->key));
		r = boolean(w, node_at(w, pair->value), name,
			    strcmp(name, "hyperv") == 0 ? &d->hyperv : &d->hide_hypervisor);
	}
	return r;
}

static int parse_autostart(Walk *w, const yaml_node_t *value, const char *key, VmDefinition *d)
{
	return boolean(w, value, key, &d->autostart);
}

/* A user name as useradd accepts it: [a-z_][a-z0-9_-]*, at most 32. */
static int parse_owner(Walk *w, const yaml_node_t *value, const char *key, VmDefinition *d)
{
	int r = string_copy(w, value, key, &d->owner);
	if (r >= 0 && !user_name_is_valid(d->owner))
		r = fail(w, value, key, "'%s' is not a user name", d->owner);
	return r;
}

static int parse_qemu_args(Walk *w, const yaml_node_t *value, const char *key, VmDefinition *d)
{
	if (value->type != YAML_SEQUENCE_NODE)
		return fail(w, value, key,
			    "expected a list of arguments, one item each (never a shell line)");
	size_t n = (size_t)(value->data.sequence.items.top - value->data.sequence.items.start);
	if (n > VM_MAX_QEMU_ARGS)
		return fail(w, value, key, "at most %d arguments", VM_MAX_QEMU_ARGS);
	for (yaml_node_item_t *item = value->data.sequence.items.start;
	     item < value->data.sequence.items.top; item++) {
		yaml_node_t *node = node_at(w, *item);
		const char *text = NULL;
		int r = scalar(w, node, key, &text);
		if (r < 0)
			return r;
		if (strlen(text) > 4096)
			return fail(w, node, key, "an argument of over 4096 characters");
		if (strv_append(&d->qemu_args, text) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int hex_id(Walk *w, const yaml_node_t *value, const char *key, uint16_t *ret)
{
	const char *text = NULL;
	int r = scalar(w, value, key, &text);
	if (r >= 0 && (pci_id_parse(text, ret) < 0 || *ret == 0 || *ret == 0xffff))
		r = fail(w, value, key, "'%s' is not a PCI id (four hex digits, like 10de)", text);
	return r;
}

static int parse_guest_ids(Walk *w, const yaml_node_t *value, const char *key, VmGpu *gpu)
{
	static const char *const keys[] = { "vendor", "device", "subsystem-vendor", "subsystem",
					    NULL };
	int r = check_mapping(w, value, key, keys);
	for (yaml_node_pair_t *pair = value->data.mapping.pairs.start;
	     r >= 0 && pair < value->data.mapping.pairs.top; pair++) {
		const char *name = yaml_doc_scalar(node_at(w, pair->key));
		uint16_t *slot = strcmp(name, "vendor") == 0   ? &gpu->guest_vendor_id
				 : strcmp(name, "device") == 0 ? &gpu->guest_device_id
				 : strcmp(name, "subsystem-vendor") == 0
					 ? &gpu->guest_subsystem_vendor_id
					 : &gpu->guest_subsystem_id;
		r = hex_id(w, node_at(w, pair->value), name, slot);
	}
	return r;
}

/* A u32 of the kernel's, 0 included. */
static int u32_value(Walk *w, const yaml_node_t *node, const char *key, uint32_t *ret)
{
	const char *text = NULL;
	uint64_t value;
	int r = scalar(w, node, key, &text);
	if (r >= 0 && (parse_uint64(text, &value) < 0 || value > UINT32_MAX))
		r = fail(w, node, key, "'%s' is not a whole number from 0 to %" PRIu32, text,
			 UINT32_MAX);
	if (r >= 0)
		*ret = (uint32_t)value;
	return r;
}

/*
 * profile: the VF's share of GPU time on xe (exec-quantum-ms, preempt-timeout-us)
 * and its VRAM on a discrete GPU (vram-quota): 0 there is the kernel's
 * "unprovisioned", which no VM can run on, and past 1 TiB is no GPU's.
 */
static int parse_profile(Walk *w, const yaml_node_t *value, const char *key, VmGpu *gpu)
{
	static const char *const keys[] = { "exec-quantum-ms", "preempt-timeout-us", "vram-quota",
					    NULL };
	int r = check_mapping(w, value, key, keys);
	for (yaml_node_pair_t *pair = value->data.mapping.pairs.start;
	     r >= 0 && pair < value->data.mapping.pairs.top; pair++) {
		const char *name = yaml_doc_scalar(node_at(w, pair->key));
		const yaml_node_t *node = node_at(w, pair->value);
		const char *text = NULL;
		if (strcmp(name, "vram-quota") == 0) {
			r = scalar(w, node, name, &text);
			if (r >= 0 && (parse_size(text, &gpu->vram_quota) < 0 ||
				       gpu->vram_quota > (UINT64_C(1) << 40)))
				r = fail(w, node, name, "'%s' is not a size (like 4G or 512M)",
					 text);
			else if (r >= 0 && gpu->vram_quota == 0)
				r = fail(w, node, name,
					 "0 leaves the VF without VRAM (the kernel's "
					 "\"unprovisioned\"); give it a size, like 4G");
			gpu->has_vram_quota = true;
		} else if (strcmp(name, "exec-quantum-ms") == 0) {
			r = u32_value(w, node, name, &gpu->exec_quantum_ms);
			gpu->has_exec_quantum = true;
		} else {
			r = u32_value(w, node, name, &gpu->preempt_timeout_us);
			gpu->has_preempt_timeout = true;
		}
	}
	return r;
}

static int parse_gpu(Walk *w, const yaml_node_t *node, VmGpu *gpu)
{
	static const char *const keys[] = { "mode",
					    "address",
					    "vendor",
					    "type",
					    "min-framebuffer",
					    "max-instances",
					    "display",
					    "rom",
					    "guest-ids",
					    "profile",
					    NULL };
	const yaml_node_t *profile = NULL;
	const yaml_node_t *address = NULL, *vendor = NULL, *mdev_only = NULL, *type_only = NULL;
	const char *mdev_only_key = NULL, *type_only_key = NULL;
	int r = check_mapping(w, node, "gpu entry", keys);

	for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
	     r >= 0 && pair < node->data.mapping.pairs.top; pair++) {
		const char *name = yaml_doc_scalar(node_at(w, pair->key));
		yaml_node_t *value = node_at(w, pair->value);
		const char *text = NULL;
		int choice = 0;

		if (strcmp(name, "mode") == 0) {
			r = one_of(w, value, name, vm_gpu_mode_table, ELEMENTSOF(vm_gpu_mode_table),
				   &choice);
			gpu->mode = (VmGpuMode)choice;
		} else if (strcmp(name, "address") == 0) {
			address = value;
			r = scalar(w, value, name, &text);
			/* A PCI address, or the name of an mdev parent outside PCI ("mbochs"). */
			if (r >= 0 && pci_address_parse(text, &gpu->address) == 0)
				gpu->has_address = true;
			else if (r >= 0 && sysfs_name_is_plain(text))
				r = string_copy(w, value, name, &gpu->parent);
			else if (r >= 0)
				r = fail(w, value, name,
					 "'%s' is neither a PCI address (like 0000:01:00.0) nor an "
					 "mdev parent's name (like mbochs)",
					 text);
		} else if (strcmp(name, "vendor") == 0) {
			vendor = value;
			r = scalar(w, value, name, &text);
			if (r >= 0 &&
			    pci_vendor_selector_parse(text, &gpu->vendor_id, &gpu->device_id) < 0)
				r = fail(w, value, name,
					 "'%s' is not intel, nvidia, amd, a vendor id (10de) or "
					 "vendor:device (10de:1eb8)",
					 text);
		} else if (strcmp(name, "type") == 0) {
			type_only = value;
			type_only_key = name;
			r = string_copy(w, value, name, &gpu->type);
			if (r >= 0 && strlen(gpu->type) > 128)
				r = fail(w, value, name, "a type of over 128 characters");
		} else if (strcmp(name, "min-framebuffer") == 0) {
			type_only = value;
			type_only_key = name;
			r = scalar(w, value, name, &text);
			if (r >= 0 && (parse_size(text, &gpu->min_framebuffer) < 0 ||
				       gpu->min_framebuffer == 0 ||
				       gpu->min_framebuffer > (UINT64_C(1) << 40)))
				r = fail(w, value, name, "'%s' is not a size (like 2G or 512M)",
					 text);
		} else if (strcmp(name, "max-instances") == 0) {
			type_only = value;
			type_only_key = name;
			r = count(w, value, name, 4096, &gpu->max_instances);
		} else if (strcmp(name, "display") == 0) {
			mdev_only = value;
			mdev_only_key = name;
			r = boolean(w, value, name, &gpu->display);
		} else if (strcmp(name, "rom") == 0)
			r = absolute_path(w, value, name, &gpu->rom);
		else if (strcmp(name, "profile") == 0) {
			profile = value;
			r = parse_profile(w, value, name, gpu);
		} else
			r = parse_guest_ids(w, value, name, gpu);
	}
	if (r < 0)
		return r;
	if (address && vendor)
		return fail(w, vendor, "vendor", "give the GPU's address or its vendor, not both");
	if (gpu->mode == VM_GPU_NONE &&
	    node->data.mapping.pairs.top - node->data.mapping.pairs.start > 1)
		return fail(w, node, "gpu entry", "mode none takes no other keys");
	if (mdev_only && gpu->mode != VM_GPU_MDEV && gpu->mode != VM_GPU_AUTO)
		return fail(w, mdev_only, mdev_only_key, "only for mode mdev (or auto)");
	/* A type: of an mdev, or of NVIDIA's vGPU on a VF (sriov). */
	if (type_only && gpu->mode == VM_GPU_PASSTHROUGH)
		return fail(w, type_only, type_only_key,
			    "only for mode mdev or sriov (or auto): a whole GPU has no type");
	if (profile && gpu->mode != VM_GPU_SRIOV && gpu->mode != VM_GPU_AUTO)
		return fail(w, profile, "profile", "only for mode sriov (or auto): a VF's share");
	return 0;
}

static int parse_gpus(Walk *w, const yaml_node_t *value, const char *key, VmDefinition *d)
{
	if (value->type != YAML_SEQUENCE_NODE)
		return fail(w, value, key, "expected a list of GPUs (- mode: auto)");
	size_t n = (size_t)(value->data.sequence.items.top - value->data.sequence.items.start);
	if (n > VM_MAX_GPUS)
		return fail(w, value, key, "at most %d GPUs", VM_MAX_GPUS);
	d->gpus = calloc(n ? n : 1, sizeof(VmGpu));
	if (!d->gpus)
		return -ENOMEM;
	for (yaml_node_item_t *item = value->data.sequence.items.start;
	     item < value->data.sequence.items.top; item++) {
		int r = parse_gpu(w, node_at(w, *item), &d->gpus[d->n_gpus++]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_cpu_pinning(Walk *w, const yaml_node_t *value, const char *key, VmDefinition *d)
{
	const char *text = yaml_doc_scalar(value);

	if (text && (strcmp(text, "auto") == 0 || strcmp(text, "off") == 0)) {
		d->pin_cpus = strcmp(text, "auto") == 0;
		return 0;
	}
	if (value->type != YAML_SEQUENCE_NODE)
		return fail(w, value, key,
			    "expected auto, off, or a list of host CPUs, one per vCPU");
	size_t n = (size_t)(value->data.sequence.items.top - value->data.sequence.items.start);
	if (n == 0 || n > VM_MAX_CPUS)
		return fail(w, value, key, "a list of 1 to %d host CPUs", VM_MAX_CPUS);
	d->pinned = calloc(n, sizeof(unsigned));
	if (!d->pinned)
		return -ENOMEM;
	d->pin_cpus = true;
	for (yaml_node_item_t *item = value->data.sequence.items.start;
	     item < value->data.sequence.items.top; item++) {
		yaml_node_t *node = node_at(w, *item);
		uint64_t cpu;
		text = NULL;
		int r = scalar(w, node, key, &text);
		if (r < 0)
			return r;
		if (parse_uint64(text, &cpu) < 0 || cpu > VM_MAX_HOST_CPU)
			return fail(w, node, key, "'%s' is not a host CPU number", text);
		for (size_t i = 0; i < d->n_pinned; i++)
			if (d->pinned[i] == cpu)
				return fail(w, node, key, "CPU %s is listed twice", text);
		d->pinned[d->n_pinned++] = (unsigned)cpu;
	}
	return 0;
}

static int parse_looking_glass(Walk *w, const yaml_node_t *value, const char *key, VmDefinition *d)
{
	const char *text = NULL;
	unsigned width, height;
	uint64_t size;
	int r = scalar(w, value, key, &text);
	if (r < 0 || strcmp(text, "off") == 0 || strcmp(text, "false") == 0)
		return r;
	if (strcmp(text, "on") == 0 || strcmp(text, "true") == 0) {
		d->looking_glass = looking_glass_size(LOOKING_GLASS_DEFAULT_WIDTH,
						      LOOKING_GLASS_DEFAULT_HEIGHT);
		return 0;
	}
	/* The guest's largest resolution, sized by Looking Glass's formula. */
	r = looking_glass_parse_resolution(text, &width, &height);
	if (r == -ERANGE)
		return fail(w, value, key,
			    "'%s': each side must be %u to %u pixels, at most 7680x4320 in all; "
			    "give the guest's largest resolution",
			    text, LOOKING_GLASS_MIN_SIDE, LOOKING_GLASS_MAX_SIDE);
	if (r >= 0) {
		d->looking_glass = looking_glass_size(width, height);
		return 0;
	}
	/* IVSHMEM sizes are powers of two; 32M carries 1080p, 128M 4K. */
	if (parse_size(text, &size) < 0 || size < (UINT64_C(2) << 20) ||
	    size > (UINT64_C(1) << 30) || (size & (size - 1)) != 0)
		return fail(w, value, key,
			    "'%s' is not on, off, a resolution (2560x1440) or a power-of-two size "
			    "from 2M to 1G",
			    text);
	d->looking_glass = size;
	return 0;
}

typedef int (*FieldParser)(Walk *w, const yaml_node_t *value, const char *key, VmDefinition *d);

static const struct {
	const char *name;
	FieldParser parse;
} fields[] = {
	/* clang-format off: one key a line reads best */
	{ "name", parse_name },
	{ "uuid", parse_uuid },
	{ "memory", parse_memory },
	{ "cpus", parse_cpus },
	{ "firmware", parse_firmware },
	{ "secure-boot", parse_secure_boot },
	{ "tpm", parse_tpm },
	{ "gpu", parse_gpus },
	{ "disks", parse_disks },
	{ "cdrom", parse_cdrom },
	{ "boot", parse_boot },
	{ "network", parse_network },
	{ "numa", parse_numa },
	{ "cpu-pinning", parse_cpu_pinning },
	{ "hugepages", parse_hugepages },
	{ "audio", parse_audio },
	{ "usb", parse_usb },
	{ "looking-glass", parse_looking_glass },
	{ "windows", parse_windows },
	{ "autostart", parse_autostart },
	{ "owner", parse_owner },
	{ "qemu-args", parse_qemu_args },
	/* clang-format on */
};

/* The node given for a top-level key, after parse_top() filled `given`; NULL when absent. */
static const yaml_node_t *given_node(const yaml_node_t *const *given, const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(fields); i++)
		if (strcmp(fields[i].name, name) == 0)
			return given[i];
	return NULL;
}

static int parse_top(Walk *w, const yaml_node_t *root, VmDefinition *d)
{
	const char *keys[ELEMENTSOF(fields) + 1] = { NULL };
	const yaml_node_t *given[ELEMENTSOF(fields)] = { NULL };

	for (size_t i = 0; i < ELEMENTSOF(fields); i++)
		keys[i] = fields[i].name;
	int r = check_mapping(w, root, "the definition", keys);
	for (yaml_node_pair_t *pair = root->data.mapping.pairs.start;
	     r >= 0 && pair < root->data.mapping.pairs.top; pair++) {
		const char *name = yaml_doc_scalar(node_at(w, pair->key));
		for (size_t i = 0; i < ELEMENTSOF(fields); i++)
			if (strcmp(name, fields[i].name) == 0) {
				given[i] = node_at(w, pair->value);
				r = fields[i].parse(w, given[i], name, d);
				break;
			}
	}
	if (r < 0)
		return r;
	if (!d->name)
		return fail(w, root, "name", "missing: every VM needs a name");
	if (!d->memory)
		return fail(w, root, "memory", "missing: say how much, like 'memory: 8G'");
	if (d->secure_boot && d->firmware != VM_FIRMWARE_UEFI)
		return fail(w, given_node(given, "secure-boot"), "secure-boot",
			    "needs 'firmware: uefi'");
	/* QEMU backs guest RAM with whole pages: memory must be a whole number of them. */
	uint64_t page = d->hugepages == VM_HUGEPAGES_1G   ? UINT64_C(1) << 30
			: d->hugepages == VM_HUGEPAGES_2M ? UINT64_C(2) << 20
							  : 0;
	if (page && d->memory % page != 0)
		return fail(w, given_node(given, "hugepages"), "hugepages",
			    "%s pages need memory in whole %s (like 'memory: 8G'); this VM has "
			    "%" PRIu64 "M",
			    page >> 30 ? "1G" : "2M", page >> 30 ? "GiB" : "2 MiB steps",
			    d->memory >> 20);
	size_t ahci = strv_length(d->cdroms);
	for (size_t i = 0; i < d->n_disks; i++)
		ahci += d->disks[i].bus == VM_DISK_SATA;
	if (ahci > VM_MAX_CDROMS)
		return fail(w, given_node(given, d->cdroms ? "cdrom" : "disks"),
			    d->cdroms ? "cdrom" : "disks",
			    "%zu CD-ROMs and SATA disks, and the AHCI controller has %d ports: "
			    "use bus virtio or nvme for the disks",
			    ahci, VM_MAX_CDROMS);
	if (d->boot == VM_BOOT_CDROM && !d->cdroms)
		return fail(w, given_node(given, "boot"), "boot",
			    "cdrom needs a CD-ROM ('cdrom: /path/to/installer.iso')");
	if (d->pinned && d->n_pinned != vm_definition_cpus(d))
		return fail(w, given_node(given, "cpu-pinning"), "cpu-pinning",
			    "lists %zu host CPUs for %u vCPUs; give one per vCPU", d->n_pinned,
			    vm_definition_cpus(d));
	if (!d->nic_model && !(d->nic_model = strdup(nic_models[0])))
		return -ENOMEM;
	return 0;
}

static int load(const char *origin, int r, YamlDocError *yaml_error, yaml_document_t *doc,
		VmDefinition *ret, char **ret_message)
{
	_cleanup_free_ char *text = r == -EINVAL ? yaml_error->text : NULL;
	VmDefinition d = {
		.sockets = 1, .cores = 1, .threads = 1, .numa = VM_NUMA_AUTO, .pin_cpus = true
	};
	Walk w = { doc, origin, ret_message };

	*ret_message = NULL;
	if (r < 0) {
		if (r == -EINVAL)
			return asprintf(ret_message, "%s:%u: %s", origin, yaml_error->line,
					text ? text : "malformed YAML") < 0
				       ? -ENOMEM
				       : -EINVAL;
		if (r == -EFBIG)
			return asprintf(ret_message,
					"%s: larger than the %u KiB a definition may have", origin,
					VM_DEFINITION_MAX_FILE_SIZE >> 10) < 0
				       ? -ENOMEM
				       : r;
		return asprintf(ret_message, "%s: cannot read: %s", origin, strerror(-r)) < 0
			       ? -ENOMEM
			       : r;
	}
	yaml_node_t *root = yaml_document_get_root_node(doc);
	if (!root)
		r = asprintf(ret_message, "%s: empty: a VM needs at least a name and memory",
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
			      char **ret_message)
{
	YamlDocError yaml_error = { 0 };
	yaml_document_t doc;
	int r = size > VM_DEFINITION_MAX_FILE_SIZE
			? -EFBIG
			: yaml_doc_load_string(text, size, &doc, &yaml_error);
	return load(origin, r, &yaml_error, &doc, ret, ret_message);
}

int vm_definition_load_file(const char *path, VmDefinition *ret, char **ret_message)
{
	YamlDocError yaml_error = { 0 };
	yaml_document_t doc;
	int r = yaml_doc_load_file(path, VM_DEFINITION_MAX_FILE_SIZE, &doc, &yaml_error);
	return load(path, r, &yaml_error, &doc, ret, ret_message);
}

int vm_definition_load_fd(int fd, const char *origin, VmDefinition *ret, char **ret_message)
{
	YamlDocError yaml_error = { 0 };
	yaml_document_t doc;
	int r = yaml_doc_load_fd(fd, VM_DEFINITION_MAX_FILE_SIZE, &doc, &yaml_error);
	return load(origin, r, &yaml_error, &doc, ret, ret_message);
}
