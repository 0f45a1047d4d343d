/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of common/utf8.c: RFC 3629's UTF-8 and nothing else is valid, and
 * utf8_printable() leaves nothing a JSON reader refuses or a terminal obeys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "utf8.h"

#define REPLACEMENT "\xef\xbf\xbd"

static void test_valid_and_invalid(void **state)
{
	(void)state;
	static const char *const valid[] = {
		"", "plain", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf"
	};
	static const char *const invalid[] = {
		"\x80", /* a lone continuation */
		"\xc0\xaf", /* overlong '/' */
		"\xe0\x80\xaf", /* overlong */
		"\xed\xa0\x80", /* a UTF-16 surrogate */
		"\xf4\x90\x80\x80", /* past U+10FFFF */
		"\xf5\x80\x80\x80",
		"\xe2\x82", /* cut short */
		"\xff",
	};
	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		assert_true(utf8_is_valid(valid[i], strlen(valid[i])));
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		assert_false(utf8_is_valid(invalid[i], strlen(invalid[i])));
	assert_int_equal(utf8_sequence_length("\xf0\x9f\x98\x80", 4), 4);
	assert_int_equal(utf8_sequence_length("\xf0\x9f\x98\x80", 3), 0);
	assert_int_equal(utf8_sequence_length("a", 0), 0);
}

static void expect_printable(const char *in, size_t length, size_t max, const char *expected)
{
	char *out = utf8_printable(in, length, max);
	assert_non_null(out);
	assert_string_equal(out, expected);
	assert_true(utf8_is_valid(out, strlen(out)));
	free(out);
}

static void test_printable(void **state)
{
	(void)state;
	expect_printable("SeaBIOS (version 1.16)", 22, 2048, "SeaBIOS (version 1.16)");
	expect_printable("tab\there", 8, 2048, "tab\there");
	/* A terminal escape (ESC [ 2 J: clear the screen), a bell, DEL, a NUL. */
	expect_printable("\x1b[2Jx\a\x7f", 7, 2048, REPLACEMENT "[2Jx" REPLACEMENT REPLACEMENT);
	expect_printable("a\0b", 3, 2048, "a" REPLACEMENT "b");
	/* C1's CSI (U+009B) as UTF-8, which some terminals obey; U+00A0 is fine. */
	expect_printable("\xc2\x9b"
			 "2J\xc2\xa0",
			 6, 2048, REPLACEMENT "2J\xc2\xa0");
	/* Bytes that are no UTF-8 each become U+FFFD; valid characters stay. */
	expect_printable("\xff\xfe caf\xc3\xa9 \xed\xa0\x80", 12, 2048,
			 REPLACEMENT REPLACEMENT
			 " caf\xc3\xa9 " REPLACEMENT REPLACEMENT REPLACEMENT);
	/* Cut at a character, never inside one. */
	expect_printable("\xe2\x82\xac\xe2\x82\xac", 6, 5, "\xe2\x82\xac");
	expect_printable("abcdef", 6, 4, "abcd");
	expect_printable("", 0, 16, "");
}

/*
 * utf8_is_valid() skips ASCII 8 bytes at a time: a bad or good sequence must
 * be judged the same at every offset in a long text, including where it
 * straddles two words or ends the text.
 */
static void test_long_text(void **state)
{
	(void)state;
	static const char *const valid[] = { "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80" };
	static const char *const invalid[] = { "\x80", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x82",
					       "\xff" };
	char text[64];

	for (size_t at = 0; at < 40; at++) {
		for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
			size_t n = strlen(valid[i]);
			memset(text, 'a', sizeof(text));
			memcpy(text + at, valid[i], n);
			assert_true(utf8_is_valid(text, sizeof(text)));
			/* Cut inside the sequence: the text ends in the middle of it. */
			assert_false(utf8_is_valid(text, at + n - 1));
			assert_true(utf8_is_valid(text, at + n));
		}
		for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
			memset(text, 'a', sizeof(text));
			memcpy(text + at, invalid[i], strlen(invalid[i]));
			assert_false(utf8_is_valid(text, sizeof(text)));
			assert_true(utf8_is_valid(text, at));
		}
	}
	/* A NUL is ASCII, as before: the caller decides whether it may be there. */
	memset(text, 'a', sizeof(text));
	text[9] = '\0';
	assert_true(utf8_is_valid(text, sizeof(text)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_and_invalid),
		cmocka_unit_test(test_printable),
		cmocka_unit_test(test_long_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
