/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Enums to and from their names, from one table per enum:
 *
 *   static const char *const vm_state_table[_VM_STATE_MAX] = {
 *           [VM_STATE_DEFINED] = "defined", ...
 *   };
 *   DEFINE_STRING_TABLE_LOOKUP(vm_state, VmState)      (no semicolon: it defines functions)
 *
 * defines vm_state_to_string() (NULL for a value outside the table) and
 * vm_state_from_string() (the value, or -EINVAL); the header declares them
 * with DECLARE_STRING_TABLE_LOOKUP(vm_state, VmState).
 */
#pragma once

#include <stddef.h>

#include "macro.h"

/* The index of `text` in `table` (n entries, NULL ones skipped), or -EINVAL. */
int string_table_lookup(const char *const *table, size_t n, const char *text);

#define DECLARE_STRING_TABLE_LOOKUP(name, type)   \
	const char *name##_to_string(type value); \
	int name##_from_string(const char *text)

#define DEFINE_STRING_TABLE_LOOKUP(name, type)                                                \
	const char *name##_to_string(type value)                                              \
	{                                                                                     \
		return (size_t)value < ELEMENTSOF(name##_table) ? name##_table[value] : NULL; \
	}                                                                                     \
	int name##_from_string(const char *text)                                              \
	{                                                                                     \
		return string_table_lookup(name##_table, ELEMENTSOF(name##_table), text);     \
	}
