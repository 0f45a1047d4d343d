/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of how a VF's nvidia/creatable_vgpu_types is read (nvidia_vgpu.c):
 * "ID : NAME" lines become types, everything else is skipped, and nothing a
 * hostile or damaged file holds gets into a name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "host/host_internal.h"
#include "host/nvidia_vgpu.h"

static void expect_types(const char *text, const char *const *expected)
{
	MdevType *types = NULL;
	size_t n = 0, want = 0;

	assert_int_equal(nvidia_vgpu_parse_types(text, &types, &n), 0);
	while (expected[want])
		want += 2;
	assert_int_equal(n, want / 2);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(types[i].id, expected[2 * i]);
		assert_string_equal(types[i].name, expected[2 * i + 1]);
		assert_string_equal(types[i].device_api, "vfio-pci");
		assert_int_equal(types[i].available_instances, 1);
	}
	mdev_types_free(types, n);
}

static void test_lines(void **state)
{
	expect_types("1150 : NVIDIA L4-1Q\n1155 : NVIDIA L4-8Q\n",
		     (const char *const[]){ "1150", "NVIDIA L4-1Q", "1155", "NVIDIA L4-8Q", NULL });
	/* A heading, blank lines, tabs and no final newline. */
	expect_types(
		"ID    : vGPU Name\n\n  1414\t:\tNVIDIA H200X-1-18C  \n1415 : NVIDIA H200X-2-35C",
		(const char *const[]){ "1414", "NVIDIA H200X-1-18C", "1415", "NVIDIA H200X-2-35C",
				       NULL });
	/* An empty list: the GPU is full. */
	expect_types("", (const char *const[]){ NULL });
}

static void test_what_is_no_type(void **state)
{
	/* No colon, no name, id 0 ("none"), an id too long, a negative one, text first. */
	expect_types("1150 NVIDIA L4-1Q\n1151 :\n0 : none\n1234567890 : too long\n-1 : minus\n"
		     "x1 : text\n",
		     (const char *const[]){ NULL });
	/* A control character ends the name: no escape sequence gets through. */
	expect_types("1152 : NVIDIA\x1b[31m L4\n", (const char *const[]){ "1152", "NVIDIA", NULL });
	/* A name too long is cut at 128 characters. */
	char text[400];
	memset(text, 'A', sizeof(text));
	memcpy(text, "7 : ", 4);
	text[sizeof(text) - 1] = '\0';
	MdevType *types = NULL;
	size_t n = 0;
	assert_int_equal(nvidia_vgpu_parse_types(text, &types, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(strlen(types[0].name), 128);
	mdev_types_free(types, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_what_is_no_type),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
