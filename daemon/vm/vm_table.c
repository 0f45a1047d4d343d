/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm/vm_table.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "array.h"

static const char *item_name(const VmTable *t, const void *item)
{
	return (const char *)item + t->name_offset;
}

/*
 * FNV-1a over the name, started from the table's random seed. Names come
 * from root's directory and from admins (Define), and a lookup never adds:
 * no unprivileged caller can fill a chain. The final mix spreads the bits
 * that the slot mask keeps.
 */
static uint64_t name_hash(const VmTable *t, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ t->seed;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

void vm_table_init(VmTable *t, size_t name_offset)
{
	*t = (VmTable){ .name_offset = name_offset };
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t ^ 0x9e3779b97f4a7c15ULL; /* no entropy yet */
}

void vm_table_done(VmTable *t)
{
	free(t->items);
	free(t->slots);
	*t = (VmTable){ .name_offset = t->name_offset, .seed = t->seed };
}

/* The slot holding `name`, or the empty slot where it would go. n_slots > 0. */
static size_t slot_of(const VmTable *t, const char *name)
{
	size_t mask = t->n_slots - 1;
	for (size_t i = name_hash(t, name) & mask;; i = (i + 1) & mask)
		if (!t->slots[i] || strcmp(item_name(t, t->slots[i]), name) == 0)
			return i;
}

void *vm_table_find(const VmTable *t, const char *name)
{
	return t->n_slots > 0 ? t->slots[slot_of(t, name)] : NULL;
}

/* Index in `items` where `name` is or would go (binary search). */
static size_t sorted_position(const VmTable *t, const char *name, bool *ret_found)
{
	size_t low = 0, high = t->n_items;
	*ret_found = false;
	while (low < high) {
		size_t middle = low + (high - low) / 2;
		int c = strcmp(item_name(t, t->items[middle]), name);
		if (c == 0) {
			*ret_found = true;
			return middle;
		}
		if (c < 0)
			low = middle + 1;
		else
			high = middle;
	}
	return low;
}

/* A hash of `n_slots` slots holding every item. */
static int rehash(VmTable *t, size_t n_slots)
{
	void **slots = calloc(n_slots, sizeof(void *));
	if (!slots)
		return -ENOMEM;
	free(t->slots);
	t->slots = slots;
	t->n_slots = n_slots;
	for (size_t i = 0; i < t->n_items; i++)
		t->slots[slot_of(t, item_name(t, t->items[i]))] = t->items[i];
	return 0;
}

int vm_table_add(VmTable *t, void *item)
{
	const char *name = item_name(t, item);
	bool found;

	if (vm_table_find(t, name))
		return -EEXIST;
	if (ARRAY_RESERVE(t->items, t->allocated_items, t->n_items + 1) < 0)
		return -ENOMEM;
	if ((t->n_items + 1) * 2 > t->n_slots) {
		/* Rehashed from `items`, which does not hold the new one yet. */
		int r = rehash(t, t->n_slots > 0 ? t->n_slots * 2 : 16);
		if (r < 0)
			return r;
	}
	size_t at = sorted_position(t, name, &found);
	memmove(&t->items[at + 1], &t->items[at], (t->n_items - at) * sizeof(void *));
	t->items[at] = item;
	t->n_items++;
	t->slots[slot_of(t, name)] = item;
	return 0;
}

void vm_table_remove(VmTable *t, void *item)
{
	const char *name = item_name(t, item);
	bool found;

	if (t->n_slots == 0)
		return;
	size_t i = slot_of(t, name);
	if (t->slots[i] != item)
		return;
	size_t at = sorted_position(t, name, &found);
	if (found) {
		memmove(&t->items[at], &t->items[at + 1], (t->n_items - at - 1) * sizeof(void *));
		t->n_items--;
	}
	/*
	 * Backward-shift deletion: the items after the hole that would not be
	 * found past it move into it, so that no tombstones pile up.
	 */
	size_t mask = t->n_slots - 1;
	t->slots[i] = NULL;
	for (size_t j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
		size_t home = name_hash(t, item_name(t, t->slots[j])) & mask;
		/* j's home is cyclically in (i, j]: it stays. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		t->slots[i] = t->slots[j];
		t->slots[j] = NULL;
		i = j;
	}
}
