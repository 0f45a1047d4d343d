/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "string_table.h"

#include <errno.h>
#include <string.h>

int string_table_lookup(const char *const *table, size_t n, const char *text)
{
	for (size_t i = 0; text && i < n; i++)
		if (table[i] && strcmp(table[i], text) == 0)
			return (int)i;
	return -EINVAL;
}
