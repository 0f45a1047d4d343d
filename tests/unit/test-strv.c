/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NULL-terminated string lists: an absent list (NULL) is the empty list for
 * every function, appends copy, and the list stays terminated.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "strv.h"

static void test_null_is_empty(void **state)
{
	assert_int_equal(strv_length(NULL), 0);
	assert_false(strv_contains(NULL, "vfio"));
	assert_false(strv_contains(NULL, ""));
	assert_null(strv_free(NULL));
}

static void test_empty_list(void **state)
{
	char **list = calloc(1, sizeof(char *));

	assert_non_null(list);
	assert_int_equal(strv_length(list), 0);
	assert_false(strv_contains(list, ""));
	assert_null(strv_free(list));
}

static void test_append_to_null(void **state)
{
	_cleanup_strv_ char **list = NULL;
	char text[] = "vfio-pci";

	assert_int_equal(strv_append(&list, text), 0);
	assert_non_null(list);
	assert_int_equal(strv_length(list), 1);
	assert_string_equal(list[0], "vfio-pci");
	assert_null(list[1]);

	/* A copy: changing the original does not change the list. */
	assert_ptr_not_equal(list[0], text);
	text[0] = 'X';
	assert_string_equal(list[0], "vfio-pci");
}

static void test_append_keeps_order(void **state)
{
	_cleanup_strv_ char **list = NULL;
	static const char *const modules[] = { "vfio", "vfio_pci", "vfio_iommu_type1", "mdev", "" };

	for (size_t i = 0; i < ELEMENTSOF(modules); i++) {
		assert_int_equal(strv_append(&list, modules[i]), 0);
		assert_int_equal(strv_length(list), i + 1);
		assert_null(list[i + 1]);
	}
	for (size_t i = 0; i < ELEMENTSOF(modules); i++)
		assert_string_equal(list[i], modules[i]);
}

static void test_append_many(void **state)
{
	_cleanup_strv_ char **list = NULL;
	char expected[32];

	for (int i = 0; i < 1000; i++)
		assert_int_equal(strv_appendf(&list, "%d", i), 0);
	assert_int_equal(strv_length(list), 1000);
	assert_null(list[1000]);
	for (int i = 0; i < 1000; i++) {
		snprintf(expected, sizeof(expected), "%d", i);
		assert_string_equal(list[i], expected);
	}
}

static void test_appendf(void **state)
{
	_cleanup_strv_ char **list = NULL;
	_cleanup_free_ char *long_text = malloc(10001);

	assert_int_equal(strv_appendf(&list, "its IOMMU group %d does not exist", 7), 0);
	assert_int_equal(strv_appendf(&list, "%s/%s", "usr/share", "OVMF"), 0);
	assert_int_equal(strv_appendf(&list, "plain"), 0);
	assert_int_equal(strv_appendf(&list, "%s", ""), 0);

	/* Longer than any buffer a formatter might start with. */
	assert_non_null(long_text);
	memset(long_text, 'a', 10000);
	long_text[10000] = '\0';
	assert_int_equal(strv_appendf(&list, "<%s>", long_text), 0);

	assert_int_equal(strv_length(list), 5);
	assert_string_equal(list[0], "its IOMMU group 7 does not exist");
	assert_string_equal(list[1], "usr/share/OVMF");
	assert_string_equal(list[2], "plain");
	assert_string_equal(list[3], "");
	assert_int_equal(strlen(list[4]), 10002);
	assert_int_equal(list[4][0], '<');
	assert_int_equal(list[4][10001], '>');
	assert_null(list[5]);
}

static void test_contains(void **state)
{
	_cleanup_strv_ char **list = NULL;

	assert_int_equal(strv_append(&list, "vfio"), 0);
	assert_int_equal(strv_append(&list, "vfio_pci"), 0);
	assert_int_equal(strv_append(&list, "kvm"), 0);

	assert_true(strv_contains(list, "vfio"));
	assert_true(strv_contains(list, "vfio_pci"));
	assert_true(strv_contains(list, "kvm"));
	/* Whole entries only: no prefixes, no suffixes, case matters. */
	assert_false(strv_contains(list, "vfi"));
	assert_false(strv_contains(list, "vfio_"));
	assert_false(strv_contains(list, "pci"));
	assert_false(strv_contains(list, "KVM"));
	assert_false(strv_contains(list, "kvm_intel"));
	assert_false(strv_contains(list, ""));

	assert_int_equal(strv_append(&list, ""), 0);
	assert_true(strv_contains(list, ""));
}

static void test_free_returns_null(void **state)
{
	char **list = NULL;

	assert_int_equal(strv_append(&list, "a"), 0);
	assert_int_equal(strv_append(&list, "b"), 0);
	list = strv_free(list);
	assert_null(list);

	/* The cleanup accepts an absent list. */
	{
		_cleanup_strv_ char **never = NULL;

		assert_null(never);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_null_is_empty),  cmocka_unit_test(test_empty_list),
		cmocka_unit_test(test_append_to_null), cmocka_unit_test(test_append_keeps_order),
		cmocka_unit_test(test_append_many),    cmocka_unit_test(test_appendf),
		cmocka_unit_test(test_contains),       cmocka_unit_test(test_free_returns_null),
	};

	return cmocka_run_group_tests_name("strv", tests, NULL, NULL);
}
