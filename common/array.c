/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "array.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int array_reserve_internal(void **array, size_t *allocated, size_t needed, size_t element_size)
{
	if (needed <= *allocated)
		return 0;
	size_t want = *allocated ? *allocated : 16;
	while (want < needed) {
		if (want > SIZE_MAX / 2)
			return -ENOMEM;
		want *= 2;
	}
	if (want > SIZE_MAX / element_size)
		return -ENOMEM;
	void *p = reallocarray(*array, want, element_size);
	if (!p)
		return -ENOMEM;
	*array = p;
	*allocated = want;
	return 0;
}
