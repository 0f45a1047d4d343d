/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VmTable: the VMs by name. A hash of the names answers a lookup in constant
 * time whatever the count; the same items, kept in an array sorted by name as
 * they come and go, are what List walks (never sorted per call). The table
 * knows nothing of a VM but its name: an item is any object holding a
 * NUL-terminated name at a fixed offset, unchanged while it is in the table.
 * It does not own its items. No I/O, no logging.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct VmTable {
	size_t name_offset; /* where an item's name is */
	void **items; /* sorted by name */
	size_t n_items, allocated_items;
	void **slots; /* open addressing with linear probing; NULL is empty */
	size_t n_slots; /* 0 or a power of two, at least twice n_items */
	uint64_t seed; /* random per table: names collide differently in each daemon */
} VmTable;

/* An empty table of items whose name is at `name_offset` (offsetof(Vm, name)). */
void vm_table_init(VmTable *table, size_t name_offset);
/* Frees the table's memory, not its items. */
void vm_table_done(VmTable *table);

/* The item named `name`, or NULL. */
void *vm_table_find(const VmTable *table, const char *name);
/* Adds an item: 0, -EEXIST when one of its name is there, -ENOMEM (the table unchanged). */
int vm_table_add(VmTable *table, void *item);
/* Removes that item (nothing when it is not in the table). */
void vm_table_remove(VmTable *table, void *item);

/* The items sorted by name, valid until the next add or remove. */
static inline void *const *vm_table_items(const VmTable *table, size_t *ret_n)
{
	*ret_n = table->n_items;
	return table->items;
}
