/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm_text.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_util.h"
#include "macro.h"

const char *format_uptime(char *buf, size_t size, int64_t seconds)
{
	static const struct {
		const char *suffix;
		int64_t seconds;
	} units[] = {
		{ "d", 86400 },
		{ "h", 3600 },
		{ "m", 60 },
		{ "s", 1 },
	};

	if (seconds < 0) {
		snprintf(buf, size, "-");
		return buf;
	}
	for (size_t i = 0; i < ELEMENTSOF(units); i++) {
		int64_t whole = seconds / units[i].seconds;
		if (whole == 0 && units[i].seconds > 1)
			continue;
		if (i + 1 == ELEMENTSOF(units))
			snprintf(buf, size, "%" PRId64 "%s", whole, units[i].suffix);
		else
			/* The smaller unit is cut, not rounded: "1h 59m" until it is "2h 0m". */
			snprintf(buf, size, "%" PRId64 "%s %" PRId64 "%s", whole, units[i].suffix,
				 seconds % units[i].seconds / units[i + 1].seconds,
				 units[i + 1].suffix);
		break;
	}
	return buf;
}

static const struct {
	const char *phase;
	const char *description;
} start_phases[VM_START_PHASES] = {
	{ "allocating", "allocating the GPU partitions" },
	{ "hugepages", "preparing its memory" },
	{ "spawning", "starting QEMU" },
	{ "connecting", "connecting to QEMU" },
	{ "pinning", "placing the vCPUs" },
	{ "running", "starting the guest" },
};

const char *vm_start_phase_description(const char *phase, unsigned *ret_step)
{
	for (size_t i = 0; phase && i < ELEMENTSOF(start_phases); i++)
		if (strcmp(phase, start_phases[i].phase) == 0) {
			*ret_step = (unsigned)i + 1;
			return start_phases[i].description;
		}
	*ret_step = 0;
	return NULL;
}

/* A phase from a newer daemon is shown as it is only when it cannot upset the terminal. */
static bool is_plain_word(const char *text)
{
	size_t n = text ? strlen(text) : 0;

	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((text[i] >= 'a' && text[i] <= 'z') || text[i] == '-'))
			return false;
	return true;
}

const char *vm_start_progress_text(char *buf, size_t size, const char *name, const char *phase)
{
	unsigned step;
	const char *description = vm_start_phase_description(phase, &step);

	if (description)
		snprintf(buf, size, "Starting %s: %s (%u/%u)...", name, description, step,
			 VM_START_PHASES);
	else if (is_plain_word(phase))
		snprintf(buf, size, "Starting %s: %s...", name, phase);
	else
		snprintf(buf, size, "Starting %s...", name);
	return buf;
}

const char *vm_state_text(char *buf, size_t size, json_object *vm)
{
	const char *name = json_get_string(vm, "name");
	const char *state = json_get_string(vm, "state");
	const char *problem = json_get_string(vm, "problem");
	bool ended = state && vm_state_has_reason(state);
	int64_t pid;

	name = name ? name : "?";
	state = state ? state : "in an unknown state";
	if (strcmp(state, "crashed") == 0)
		snprintf(buf, size, "%s crashed", name);
	else if (strcmp(state, "failed") == 0)
		snprintf(buf, size, "%s failed to start", name);
	else if (json_get_int(vm, "pid", &pid) >= 0)
		snprintf(buf, size, "%s is %s (pid %" PRId64 ")", name, state, pid);
	else
		snprintf(buf, size, "%s is %s", name, state);
	/* While it runs, a problem is the last start's, no longer news. */
	if (ended && problem && problem[0]) {
		size_t length = strlen(buf);
		if (length < size)
			snprintf(buf + length, size - length, ": %s", problem);
	}
	return buf;
}

/* The partition id of a VM's "partitions" element, or NULL when it is none (not a string, or "").
 */
static const char *partition_id(json_object *partitions, size_t i)
{
	json_object *item = json_object_array_get_idx(partitions, i);
	const char *id =
		json_object_is_type(item, json_type_string) ? json_object_get_string(item) : NULL;
	return id && id[0] ? id : NULL;
}

char *vm_partitions_text(json_object *vm)
{
	json_object *partitions = json_get_array(vm, "partitions");
	size_t n = json_array_size(partitions), size = 0;
	char *text, *p;

	/* Measured, then written: one allocation, for a row of `vfioctl list` each. */
	for (size_t i = 0; i < n; i++) {
		const char *id = partition_id(partitions, i);
		if (id)
			size += (size > 0 ? 2 : 0) + strlen(id);
	}
	if (size == 0)
		return strdup("-");
	p = text = malloc(size + 1);
	if (!text)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *id = partition_id(partitions, i);
		if (!id)
			continue;
		if (p > text)
			p = stpcpy(p, ", ");
		p = stpcpy(p, id);
	}
	return text;
}

const char *vm_hugepages_text(char *buf, size_t size, json_object *vm)
{
	json_object *pages = json_get_object(vm, "hugepages");
	int64_t size_kib, added, node = -1;
	char page[32], pool[48];

	if (!pages || json_get_int(pages, "sizeKiB", &size_kib) < 0 || size_kib <= 0 ||
	    json_get_int(pages, "pagesAdded", &added) < 0 || added <= 0)
		return NULL;
	if (json_get_int(pages, "node", &node) >= 0 && node >= 0)
		snprintf(pool, sizeof(pool), "node %" PRId64 "'s pool", node);
	else
		snprintf(pool, sizeof(pool), "the system's pool");
	if (size_kib % 1048576 == 0)
		snprintf(page, sizeof(page), "%" PRId64 " GiB", size_kib / 1048576);
	else if (size_kib % 1024 == 0)
		snprintf(page, sizeof(page), "%" PRId64 " MiB", size_kib / 1024);
	else
		snprintf(page, sizeof(page), "%" PRId64 " KiB", size_kib);
	snprintf(buf, size, "%" PRId64 " %s pages added to %s (given back when it ends)", added,
		 page, pool);
	return buf;
}

Colour vm_state_colour(const char *state)
{
	static const struct {
		const char *state;
		Colour colour;
	} colours[] = {
		{ "running", COLOUR_GREEN }, { "starting", COLOUR_YELLOW },
		{ "paused", COLOUR_YELLOW }, { "stopping", COLOUR_YELLOW },
		{ "crashed", COLOUR_RED },   { "failed", COLOUR_RED },
	};
	for (size_t i = 0; state && i < ELEMENTSOF(colours); i++)
		if (strcmp(state, colours[i].state) == 0)
			return colours[i].colour;
	return _COLOUR_MAX;
}

bool vm_state_is_ended(const char *state)
{
	return strcmp(state, "defined") == 0 || vm_state_has_reason(state);
}

bool vm_state_has_reason(const char *state)
{
	return strcmp(state, "stopped") == 0 || strcmp(state, "crashed") == 0 ||
	       strcmp(state, "failed") == 0;
}
