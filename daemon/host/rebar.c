/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host/rebar.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_internal.h"
#include "macro.h"
#include "strv.h"

/* The bitmap's bits stop at 2^63 bytes: bit 43. */
#define REBAR_MAX_BIT 43

/* The size of BAR `bar` from the `resource` text: its line's end - start + 1; 0 when unset. */
static uint64_t resource_size(const char *text, unsigned bar)
{
	const char *line = text;
	for (unsigned i = 0; line && i < bar; i++) {
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	unsigned long long start, end, flags;
	if (!line || sscanf(line, "%llx %llx %llx", &start, &end, &flags) != 3 || end <= start)
		return 0;
	return (uint64_t)(end - start + 1);
}

int rebar_read(int dir, PciFunction *f)
{
	_cleanup_free_ char *resource = NULL;
	int r = sysfs_read_text_at(dir, "resource", SYSFS_PAGE_SIZE, &resource);
	if (r == -ENOMEM)
		return r;

	for (unsigned bar = 0; bar < PCI_STD_BARS; bar++) {
		_cleanup_free_ char *text = NULL;
		char name[32];
		snprintf(name, sizeof(name), "resource%u_resize", bar);
		r = sysfs_read_text_at(dir, name, 64, &text);
		if (r == -ENOENT)
			continue; /* not a resizable BAR, or a kernel before 6.1 */
		if (r == -ENOMEM)
			return r;
		char *end = NULL;
		unsigned long long sizes = r == 0 ? strtoull(text, &end, 16) : 0;
		if (r < 0 || !end || end == text || *end || sizes >> (REBAR_MAX_BIT + 1)) {
			if (strv_appendf(&f->warnings, "its %s is unreadable", name) < 0)
				return -ENOMEM;
			continue;
		}
		f->rebars[f->n_rebars++] = (PciRebar){
			.bar = (uint8_t)bar,
			.sizes = sizes,
			.current = resource ? resource_size(resource, bar) : 0,
		};
	}
	return 0;
}

uint64_t rebar_largest(const PciRebar *bar)
{
	for (int bit = REBAR_MAX_BIT; bit >= 0; bit--)
		if (bar->sizes & (UINT64_C(1) << bit))
			return UINT64_C(1) << (bit + 20);
	return 0;
}
