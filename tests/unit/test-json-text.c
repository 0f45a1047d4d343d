/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * JsonText writes what json-c writes: the same escapes for every byte a
 * string may hold, null for NULL, integers and arrays; the buffer is kept
 * across resets, and running out of room is never silent.
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_text.h"

/* What json-c writes for the string `value`, as the server sends it. */
static void assert_like_json_c(const char *value)
{
	JsonText t = { 0 };
	json_object *o = json_object_new_string(value);
	json_text_string(&t, value);
	assert_false(t.failed);
	assert_string_equal(t.data,
			    json_object_to_json_string_ext(
				    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	assert_int_equal(t.size, strlen(t.data));
	json_object_put(o);
	json_text_done(&t);
}

static void test_strings(void **state)
{
	char every[256];
	for (int i = 1; i < 256; i++)
		every[i - 1] = (char)i;
	every[255] = '\0';
	assert_like_json_c("");
	assert_like_json_c("gaming-vm");
	assert_like_json_c("a \"quoted\" \\ back/slash\n\t\r\b\f\x01\x1f\x7f é 🎮");
	assert_like_json_c(every);
}

static void test_values_and_reuse(void **state)
{
	JsonText t = { 0 };
	char a[] = "a", b[] = "b\"";
	char *const list[] = { a, b, NULL };
	json_text_literal(&t, "{\"x\":");
	json_text_int(&t, INT64_MIN);
	json_text_literal(&t, ",\"y\":");
	json_text_int_or_null(&t, -1);
	json_text_literal(&t, ",\"z\":");
	json_text_int_or_null(&t, 42);
	json_text_literal(&t, ",\"b\":");
	json_text_bool(&t, true);
	json_text_literal(&t, ",\"s\":");
	json_text_string(&t, NULL);
	json_text_literal(&t, ",\"l\":");
	json_text_strv(&t, list);
	json_text_literal(&t, ",\"e\":");
	json_text_strv(&t, NULL);
	json_text_literal(&t, "}");
	assert_false(t.failed);
	assert_string_equal(t.data, "{\"x\":-9223372036854775808,\"y\":null,\"z\":42,\"b\":true,"
				    "\"s\":null,\"l\":[\"a\",\"b\\\"\"],\"e\":[]}");
	json_object *parsed = json_tokener_parse(t.data);
	assert_non_null(parsed);
	json_object_put(parsed);

	/* Reset keeps the buffer: a steady caller allocates nothing more. */
	char *buffer = t.data;
	size_t allocated = t.allocated;
	json_text_reset(&t);
	assert_int_equal(t.size, 0);
	json_text_literal(&t, "[]");
	assert_ptr_equal(t.data, buffer);
	assert_int_equal(t.allocated, allocated);
	assert_string_equal(t.data, "[]");

	/* Large: grows as needed. */
	json_text_reset(&t);
	for (int i = 0; i < 100000; i++)
		json_text_literal(&t, "0123456789");
	assert_false(t.failed);
	assert_int_equal(t.size, 1000000);
	json_text_done(&t);
	assert_null(t.data);
}

static void test_out_of_memory_is_sticky(void **state)
{
	JsonText t = { 0 };
	assert_false(json_text_reserve(&t, SIZE_MAX / 2));
	assert_true(t.failed);
	json_text_literal(&t, "x"); /* skipped */
	assert_true(t.failed);
	assert_int_equal(t.size, 0);
	json_text_done(&t);
}

/* json_text_int() writes what json-c writes ("%" PRId64). */
static void test_ints(void **state)
{
	static const int64_t values[] = { 0,
					  1,
					  -1,
					  9,
					  10,
					  -10,
					  99,
					  100,
					  12345,
					  -987654321,
					  INT32_MAX,
					  INT32_MIN,
					  INT64_MAX,
					  INT64_MIN,
					  INT64_MAX - 1,
					  INT64_MIN + 1 };
	JsonText t = { 0 };

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		json_object *o = json_object_new_int64(values[i]);
		json_text_reset(&t);
		json_text_int(&t, values[i]);
		assert_false(t.failed);
		assert_string_equal(t.data,
				    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		assert_int_equal(t.size, strlen(t.data));
		json_object_put(o);
	}
	json_text_done(&t);
}

/* json_text_hex() writes what snprintf's "%0*x" writes, quoted. */
static void assert_hex(uint64_t value, unsigned digits)
{
	JsonText t = { 0 };
	char want[64];
	snprintf(want, sizeof(want), "\"%0*" PRIx64 "\"", (int)digits, value);
	json_text_hex(&t, value, digits);
	assert_false(t.failed);
	assert_string_equal(t.data, want);
	assert_int_equal(t.size, strlen(want));
	json_text_done(&t);
}

static void test_hex(void **state)
{
	assert_hex(0x8086, 4);
	assert_hex(0x10de, 4);
	assert_hex(0x0a, 4);
	assert_hex(0, 4);
	assert_hex(0, 0);
	assert_hex(0x030000, 6);
	assert_hex(0x1030000, 6); /* wider than asked: every digit */
	assert_hex(0xabcdef, 1);
	assert_hex(UINT64_MAX, 4);
	assert_hex(UINT64_MAX, 20);
	assert_hex(UINT64_C(1) << 63, 0);

	/* In a text, after what is there. */
	JsonText t = { 0 };
	json_text_literal(&t, "{\"vendorId\":");
	json_text_hex(&t, 0x1002, 4);
	json_text_literal(&t, "}");
	assert_string_equal(t.data, "{\"vendorId\":\"1002\"}");
	json_text_done(&t);
}

static void test_fail_is_sticky(void **state)
{
	JsonText t = { 0 };
	json_text_literal(&t, "[");
	json_text_fail(&t);
	assert_true(t.failed);
	json_text_hex(&t, 0x8086, 4); /* skipped */
	json_text_literal(&t, "]");
	assert_true(t.failed);
	assert_int_equal(t.size, 1);
	/* Reset makes it usable again. */
	json_text_reset(&t);
	assert_false(t.failed);
	json_text_hex(&t, 0xf, 2);
	assert_string_equal(t.data, "\"0f\"");
	json_text_done(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_values_and_reuse),
		cmocka_unit_test(test_out_of_memory_is_sticky),
		cmocka_unit_test(test_ints),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_fail_is_sticky),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
