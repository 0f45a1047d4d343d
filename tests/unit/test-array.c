/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ARRAY_RESERVE: growth by doubling, no-ops, and sizes that cannot be had. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "array.h"

static void test_growth(void **state)
{
	int *items = NULL;
	size_t allocated = 0, n = 0;

	for (int i = 0; i < 1000; i++) {
		assert_int_equal(ARRAY_RESERVE(items, allocated, n + 1), 0);
		items[n++] = i;
	}
	assert_int_equal(allocated, 1024); /* 16, doubled six times */
	assert_int_equal(items[999], 999);

	int *before = items;
	assert_int_equal(ARRAY_RESERVE(items, allocated, 10), 0); /* already room */
	assert_ptr_equal(items, before);
	assert_int_equal(ARRAY_RESERVE(items, allocated, 5000), 0); /* several doublings at once */
	assert_int_equal(allocated, 8192);
	free(items);
}

static void test_impossible_sizes(void **state)
{
	int *items = NULL;
	size_t allocated = 0;

	assert_int_equal(ARRAY_RESERVE(items, allocated, SIZE_MAX), -ENOMEM);
	assert_int_equal(ARRAY_RESERVE(items, allocated, SIZE_MAX / 2), -ENOMEM);
	assert_null(items);
	assert_int_equal(allocated, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_impossible_sizes),
	};
	return cmocka_run_group_tests_name("array", tests, NULL, NULL);
}
