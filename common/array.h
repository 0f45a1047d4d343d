/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Growing arrays: ARRAY_RESERVE(items, allocated, n + 1) before items[n++].
 */
#pragma once

#include <stddef.h>

/*
 * Makes room for at least `needed` elements, doubling the allocation (16
 * elements at first). 0, or -ENOMEM with the array as it was.
 */
int array_reserve_internal(void **array, size_t *allocated, size_t needed, size_t element_size);
#define ARRAY_RESERVE(array, allocated, needed) \
	array_reserve_internal((void **)&(array), &(allocated), (needed), sizeof(*(array)))
