/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VarlinkReader and varlink_frame_encode(): messages split anywhere, many per
 * read, the size and depth limits, and everything a hostile peer can send
 * that is not one JSON object followed by a NUL.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_util.h"
#include "macro.h"
#include "varlink_frame.h"

#define LIMIT 4096

DEFINE_TRIVIAL_CLEANUP_FUNC(VarlinkReader *, varlink_reader_free)
#define _cleanup_json_ _cleanup_(json_object_putp)
#define _cleanup_reader_ _cleanup_(varlink_reader_freep)

/* A call with multi-byte UTF-8, every kind of escape, and nested values. */
static const char sample[] = "{\"method\":\"io.libvfio.Manager.Create\",\"parameters\":{"
			     "\"name\":\"vm-\xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80\","
			     "\"escaped\":\"q\\\"b\\\\s\\/t\\tn\\n\\u0001\\u00e9\\ud83d\\ude00\","
			     "\"list\":[1,-2,2.5e3,true,false,null,{},[]],\"empty\":\"\"}}";

static VarlinkReader *reader_new(size_t limit)
{
	VarlinkReader *reader = varlink_reader_new(limit);
	assert_non_null(reader);
	return reader;
}

static json_object *json_parse(const char *text)
{
	json_object *object = json_tokener_parse(text);
	assert_non_null(object);
	return object;
}

static void feed(VarlinkReader *reader, const void *data, size_t size)
{
	assert_int_equal(varlink_reader_feed(reader, data, size), 0);
}

/* The next message must be there and equal `expected`. */
static void expect_message(VarlinkReader *reader, json_object *expected)
{
	_cleanup_json_ json_object *message = NULL;

	assert_int_equal(varlink_reader_next(reader, &message), 1);
	assert_non_null(message);
	assert_true(json_object_equal(message, expected));
}

/* Nothing whole is buffered. */
static void expect_nothing(VarlinkReader *reader)
{
	json_object *message = NULL;

	assert_false(varlink_reader_has_message(reader));
	assert_int_equal(varlink_reader_next(reader, &message), 0);
	assert_null(message);
}

/* What a fresh reader makes of `text` followed by its NUL, all in one read. */
static int decode(const char *text, size_t limit)
{
	_cleanup_reader_ VarlinkReader *reader = reader_new(limit);
	_cleanup_json_ json_object *message = NULL;

	feed(reader, text, strlen(text) + 1);
	return varlink_reader_next(reader, &message);
}

/* `text` with bytes outside printable ASCII as \xNN, for failure messages. */
static const char *printable(const char *text)
{
	static char buf[256];
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)text; *p && n + 5 < sizeof(buf); p++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				      *p >= 0x20 && *p < 0x7f ? "%c" : "\\x%02x", *p);
	buf[n] = '\0';
	return buf;
}

/* Every one of `cases` decodes to `expected`; a failure names the case. */
static void expect_decode_all(const char *const *cases, size_t n_cases, int expected)
{
	for (size_t i = 0; i < n_cases; i++) {
		int r = decode(cases[i], LIMIT);
		if (r != expected)
			fail_msg("'%s': got %d, expected %d", printable(cases[i]), r, expected);
	}
}

/*
 * A message nested `depth` levels deep (depth >= 2), counting the innermost
 * empty value: {"a":{"a":{}}} or {"a":[[]]} are three.
 */
static char *nested(unsigned depth, bool arrays)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	assert_non_null(f);
	assert_true(depth >= 2);
	fputs("{\"a\":", f); /* only an object is a message */
	for (unsigned i = 2; i < depth; i++)
		fputs(arrays ? "[" : "{\"a\":", f);
	fputs(arrays ? "[]" : "{}", f);
	for (unsigned i = 2; i < depth; i++)
		fputs(arrays ? "]" : "}", f);
	fputs("}", f);
	assert_int_equal(fclose(f), 0);
	return text;
}

/* {"p":"xxx…"}: a message of exactly `length` bytes. */
static char *message_of_length(size_t length)
{
	static const char head[] = "{\"p\":\"", tail[] = "\"}";
	size_t i = 0;

	assert_true(length >= strlen(head) + strlen(tail));
	char *text = malloc(length + 1);
	assert_non_null(text);
	for (const char *p = head; *p; p++)
		text[i++] = *p;
	while (i < length - strlen(tail))
		text[i++] = 'x';
	for (const char *p = tail; *p; p++)
		text[i++] = *p;
	text[i] = '\0';
	assert_int_equal(strlen(text), length);
	return text;
}

static void test_byte_by_byte(void **state)
{
	_cleanup_reader_ VarlinkReader *reader = reader_new(LIMIT);
	_cleanup_json_ json_object *expected = json_parse(sample);
	size_t length = strlen(sample);

	for (size_t i = 0; i < length; i++) {
		feed(reader, sample + i, 1);
		expect_nothing(reader);
		assert_true(varlink_reader_has_partial(reader));
		assert_int_equal(varlink_reader_buffered(reader), i + 1);
	}
	feed(reader, "", 1);
	assert_true(varlink_reader_has_message(reader));
	expect_message(reader, expected);
	expect_nothing(reader);
	assert_false(varlink_reader_has_partial(reader));
	assert_int_equal(varlink_reader_buffered(reader), 0);
}

static void test_every_split_in_two(void **state)
{
	_cleanup_json_ json_object *expected = json_parse(sample);
	size_t size = strlen(sample) + 1; /* with the NUL */

	for (size_t split = 0; split <= size; split++) {
		_cleanup_reader_ VarlinkReader *reader = reader_new(LIMIT);

		feed(reader, sample, split);
		if (split < size)
			expect_nothing(reader);
		feed(reader, sample + split, size - split);
		expect_message(reader, expected);
		expect_nothing(reader);
		assert_int_equal(varlink_reader_buffered(reader), 0);
	}
}

/* 100 messages {"seq":i}, back to back. */
static char *many_messages(size_t count, size_t *ret_size)
{
	char *stream = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&stream, &size);

	assert_non_null(f);
	for (size_t i = 0; i < count; i++) {
		fprintf(f, "{\"seq\":%zu,\"text\":\"message %zu\"}", i, i);
		fputc('\0', f);
	}
	assert_int_equal(fclose(f), 0);
	*ret_size = size;
	return stream;
}

static void expect_sequence(VarlinkReader *reader, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		_cleanup_json_ json_object *message = NULL;
		json_object *seq;

		assert_int_equal(varlink_reader_next(reader, &message), 1);
		assert_true(json_object_object_get_ex(message, "seq", &seq));
		assert_int_equal(json_object_get_int64(seq), i);
	}
	expect_nothing(reader);
	assert_false(varlink_reader_has_partial(reader));
}

static void test_many_in_one_feed(void **state)
{
	_cleanup_reader_ VarlinkReader *reader = reader_new(LIMIT);
	size_t size;
	_cleanup_free_ char *stream = many_messages(100, &size);

	feed(reader, stream, size);
	assert_true(varlink_reader_has_message(reader));
	expect_sequence(reader, 100);
}

/* Reads of 7 bytes: message boundaries fall everywhere inside a read. */
static void test_many_in_odd_chunks(void **state)
{
	_cleanup_reader_ VarlinkReader *reader = reader_new(LIMIT);
	size_t size;
	_cleanup_free_ char *stream = many_messages(100, &size);

	for (size_t done = 0; done < size; done += 7)
		feed(reader, stream + done, MIN((size_t)7, size - done));
	expect_sequence(reader, 100);
}

static void test_partial_tail_is_kept(void **state)
{
	static const char first[] = "{\"a\":1}\0{\"b\"";
	_cleanup_reader_ VarlinkReader *reader = reader_new(LIMIT);
	_cleanup_json_ json_object *a = json_parse("{\"a\":1}");
	_cleanup_json_ json_object *b = json_parse("{\"b\":2}");

	feed(reader, first, sizeof(first) - 1);
	expect_message(reader, a);
	expect_nothing(reader);
	assert_true(varlink_reader_has_partial(reader));
	assert_int_equal(varlink_reader_buffered(reader), strlen("{\"b\""));
	feed(reader, ":2}", 4);
	expect_message(reader, b);
}

static void test_missing_nul(void **state)
{
	_cleanup_reader_ VarlinkReader *reader = reader_new(LIMIT);

	feed(reader, "{\"a\":1}", 7);
	expect_nothing(reader);
	assert_true(varlink_reader_has_partial(reader));
	assert_int_equal(varlink_reader_buffered(reader), 7);
}

static void test_empty_reader(void **state)
{
	_cleanup_reader_ VarlinkReader *reader = reader_new(LIMIT);

	feed(reader, "", 0);
	expect_nothing(reader);
	assert_false(varlink_reader_has_partial(reader));
	assert_int_equal(varlink_reader_buffered(reader), 0);
}

static void test_exactly_the_limit(void **state)
{
	_cleanup_free_ char *text = message_of_length(LIMIT);
	_cleanup_json_ json_object *expected = json_parse(text);
	_cleanup_reader_ VarlinkReader *whole = reader_new(LIMIT);
	_cleanup_reader_ VarlinkReader *bytewise = reader_new(LIMIT);

	feed(whole, text, LIMIT + 1);
	expect_message(whole, expected);

	for (size_t i = 0; i <= LIMIT; i++)
		feed(bytewise, text + i, 1);
	expect_message(bytewise, expected);
}

static void test_oversize_in_one_chunk(void **state)
{
	_cleanup_free_ char *text = message_of_length(LIMIT + 1);
	_cleanup_reader_ VarlinkReader *terminated = reader_new(LIMIT);
	_cleanup_reader_ VarlinkReader *unterminated = reader_new(LIMIT);
	json_object *message = NULL;

	/* The NUL came with it: the reader buffers it, next() refuses it. */
	feed(terminated, text, LIMIT + 2);
	assert_int_equal(varlink_reader_next(terminated, &message), -EMSGSIZE);
	assert_null(message);

	/* No NUL: refused as soon as it is fed. */
	assert_int_equal(varlink_reader_feed(unterminated, text, LIMIT + 1), -EMSGSIZE);
	assert_int_equal(varlink_reader_next(unterminated, &message), -EMSGSIZE);
	assert_null(message);
}

/*
 * Read in place (what varlink_client does): pieces written into reserved
 * room, some messages taken between reads so that the buffer's head moves,
 * and every message comes out whole and in order.
 */
static void test_read_in_place(void **state)
{
	size_t size, done = 0, taken = 0;
	_cleanup_free_ char *stream = many_messages(100, &size);
	_cleanup_reader_ VarlinkReader *reader = reader_new(LIMIT);

	for (size_t piece = 1; done < size; piece = piece % 97 + 13) {
		size_t n = MIN(piece, size - done), room = 0;
		char *p = varlink_reader_reserve(reader, n, &room);

		assert_non_null(p);
		assert_true(room >= n);
		memcpy(p, stream + done, n);
		assert_int_equal(varlink_reader_commit(reader, n), 0);
		done += n;
		if (piece % 2 == 0)
			continue;
		_cleanup_json_ json_object *message = NULL;
		if (varlink_reader_next(reader, &message) == 1) {
			json_object *seq;
			assert_true(json_object_object_get_ex(message, "seq", &seq));
			assert_int_equal(json_object_get_int64(seq), taken++);
		}
	}
	for (;;) {
		_cleanup_json_ json_object *message = NULL;
		json_object *seq;
		if (varlink_reader_next(reader, &message) != 1)
			break;
		assert_true(json_object_object_get_ex(message, "seq", &seq));
		assert_int_equal(json_object_get_int64(seq), taken++);
	}
	assert_int_equal(taken, 100);
	assert_false(varlink_reader_has_partial(reader));
}

/* Committed bytes are held to the limit as fed ones are. */
static void test_oversize_in_place(void **state)
{
	_cleanup_free_ char *text = message_of_length(LIMIT + 1);
	_cleanup_reader_ VarlinkReader *reader = reader_new(LIMIT);
	json_object *message = NULL;
	size_t room;
	char *p = varlink_reader_reserve(reader, LIMIT + 1, &room);

	assert_non_null(p);
	memcpy(p, text, LIMIT);
	assert_int_equal(varlink_reader_commit(reader, LIMIT), 0);
	p = varlink_reader_reserve(reader, 1, &room);
	assert_non_null(p);
	*p = text[LIMIT];
	assert_int_equal(varlink_reader_commit(reader, 1), -EMSGSIZE);
	assert_int_equal(varlink_reader_next(reader, &message), -EMSGSIZE);
	assert_null(message);
}

static void test_oversize_incrementally(void **state)
{
	_cleanup_free_ char *text = message_of_length(LIMIT + 1);
	_cleanup_reader_ VarlinkReader *reader = reader_new(LIMIT);
	json_object *message = NULL;

	for (size_t i = 0; i < LIMIT; i++)
		feed(reader, text + i, 1);
	assert_int_equal(varlink_reader_next(reader, &message), 0);
	/* Byte LIMIT + 1, still no NUL in sight: refused before the peer finishes. */
	assert_int_equal(varlink_reader_feed(reader, text + LIMIT, 1), -EMSGSIZE);
	assert_int_equal(varlink_reader_next(reader, &message), -EMSGSIZE);
	assert_null(message);
}

/* A whole small message first must not hide a huge unterminated one behind it. */
static void test_oversize_after_a_message(void **state)
{
	_cleanup_free_ char *text = message_of_length(LIMIT + 1);
	_cleanup_reader_ VarlinkReader *reader = reader_new(LIMIT);
	_cleanup_json_ json_object *small = json_parse("{}");
	json_object *message = NULL;

	feed(reader, "{}", 3);
	feed(reader, text, LIMIT + 1);
	expect_message(reader, small);
	assert_int_equal(varlink_reader_next(reader, &message), -EMSGSIZE);
	assert_null(message);
}

static void test_lowering_the_limit_applies_to_partial(void **state)
{
	_cleanup_free_ char *text = message_of_length(100);
	_cleanup_reader_ VarlinkReader *reader = reader_new(LIMIT);
	json_object *message = NULL;

	feed(reader, text, 100);
	varlink_reader_set_max_message_size(reader, 50);
	assert_int_equal(varlink_reader_next(reader, &message), -EMSGSIZE);
}

/*
 * json-c also accepts {'a':1}, 1. and raw control characters in strings, even
 * with JSON_TOKENER_STRICT; what they parse to is harmless, so they are not
 * listed here. Non-finite numbers are not harmless: see below.
 */
static void test_invalid_json(void **state)
{
	static const char *const cases[] = {
		"{",
		"{\"a\":1",
		"{\"a\":}",
		"{\"a\" 1}",
		"{a:1}",
		"{\"a\":1,}",
		"{\"a\":01}",
		"{\"a\":[1,2}",
		"{\"a\":\"unterminated}",
		"{\"a\":\"\\x41\"}",
		"}",
	};

	expect_decode_all(cases, ELEMENTSOF(cases), -EBADMSG);
}

/* NaN slips through range checks (every comparison is false): it must not get in. */
static void test_non_finite_numbers(void **state)
{
	static const char *const cases[] = {
		"{\"a\":NaN}",
		"{\"a\":Infinity}",
		"{\"a\":-Infinity}",
		"{\"a\":[1,{\"b\":NaN}]}",
	};

	expect_decode_all(cases, ELEMENTSOF(cases), -EBADMSG);
}

static void test_empty_message(void **state)
{
	assert_int_equal(decode("", LIMIT), -EBADMSG);
	assert_int_equal(decode("  ", LIMIT), -EBADMSG);
}

static void test_trailing_bytes(void **state)
{
	static const char *const cases[] = {
		"{}x", "{}}", "{} {}", "{\"a\":1}garbage", "{}[]", "{}1",
	};

	expect_decode_all(cases, ELEMENTSOF(cases), -EBADMSG);
	/* Whitespace around the object is part of JSON text. */
	assert_int_equal(decode(" {} \n", LIMIT), 1);
}

static void test_not_an_object(void **state)
{
	static const char *const cases[] = {
		"[]", "[1,2]", "\"text\"", "42", "-1.5", "null", "true", "false",
	};

	expect_decode_all(cases, ELEMENTSOF(cases), -EPROTO);
}

static void test_depth(void **state)
{
	for (int arrays = 0; arrays <= 1; arrays++) {
		_cleanup_free_ char *sixty = nested(60, arrays);
		_cleanup_free_ char *limit = nested(VARLINK_MAX_DEPTH, arrays);
		_cleanup_free_ char *beyond = nested(VARLINK_MAX_DEPTH + 1, arrays);
		_cleanup_free_ char *far_beyond = nested(10000, arrays);

		assert_int_equal(decode(sixty, LIMIT), 1);
		assert_int_equal(decode(limit, LIMIT), 1);
		assert_int_equal(decode(beyond, LIMIT), -ELOOP);
		assert_int_equal(decode(far_beyond, 100000), -ELOOP);
	}
}

static void test_invalid_utf8(void **state)
{
	static const char *const cases[] = {
		"{\"a\":\"\xff\"}", /* never in UTF-8 */
		"{\"a\":\"\x80\"}", /* continuation byte alone */
		"{\"a\":\"\xe2\x82\"}", /* truncated sequence */
		"{\"a\":\"\xc3\x28\"}", /* bad continuation */
		"{\"\xfe\":1}", /* in a key */
		"{\"a\":\"ok\",\"b\":\"\xf8\x88\x80\x80\x80\"}", /* five-byte form */
	};

	expect_decode_all(cases, ELEMENTSOF(cases), -EBADMSG);
}

/* Well-formed byte patterns that RFC 3629 still forbids. */
static void test_invalid_utf8_strict(void **state)
{
	static const char *const cases[] = {
		"{\"a\":\"\xc0\xaf\"}", /* overlong '/' */
		"{\"a\":\"\xe0\x80\xaf\"}", /* overlong '/', three bytes */
		"{\"a\":\"\xed\xa0\x80\"}", /* UTF-16 surrogate D800 */
		"{\"a\":\"\xf4\x90\x80\x80\"}", /* beyond U+10FFFF */
	};

	expect_decode_all(cases, ELEMENTSOF(cases), -EBADMSG);
}

static void test_error_stops_nothing_before_it(void **state)
{
	static const char stream[] = "{\"a\":1}\0[]\0";
	_cleanup_reader_ VarlinkReader *reader = reader_new(LIMIT);
	_cleanup_json_ json_object *a = json_parse("{\"a\":1}");
	json_object *message = NULL;

	feed(reader, stream, sizeof(stream) - 1);
	expect_message(reader, a);
	assert_int_equal(varlink_reader_next(reader, &message), -EPROTO);
	assert_null(message);
}

/* Strings whose encoding is easy to get wrong. */
static json_object *tricky_object(void)
{
	static const char *const strings[] = {
		"plain",
		"quote \" backslash \\ slash /",
		"controls \b\f\n\r\t \x01\x1f",
		"latin \xc3\xa9\xc3\xbc",
		"euro \xe2\x82\xac, line separator \xe2\x80\xa8",
		"emoji \xf0\x9f\x98\x80",
		"",
	};
	json_object *object = json_object_new_object();
	json_object *array = json_object_new_array();

	assert_non_null(object);
	assert_non_null(array);
	for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
		char key[16];
		snprintf(key, sizeof(key), "s%zu", i);
		assert_int_equal(
			json_object_object_add(object, key, json_object_new_string(strings[i])), 0);
		assert_int_equal(json_object_array_add(array, json_object_new_string(strings[i])),
				 0);
	}
	assert_int_equal(json_object_object_add(object, "\xc3\xa4-key \"q\"", array), 0);
	assert_int_equal(json_object_object_add(object, "int", json_object_new_int64(INT64_MIN)),
			 0);
	assert_int_equal(json_object_object_add(object, "null", NULL), 0);
	return object;
}

static void test_encode_round_trip(void **state)
{
	_cleanup_json_ json_object *original = tricky_object();
	_cleanup_reader_ VarlinkReader *reader = reader_new(LIMIT);
	_cleanup_free_ char *frame = NULL;
	size_t size = 0;

	assert_int_equal(varlink_frame_encode(original, &frame, &size), 0);
	assert_non_null(frame);
	/* One NUL, at the end, counted in size. */
	assert_true(size > 1);
	assert_int_equal(frame[size - 1], '\0');
	assert_int_equal(strlen(frame), size - 1);
	/* Compact, and '/' is not escaped. */
	assert_null(strstr(frame, "\\/"));
	assert_null(strchr(frame, '\n'));

	feed(reader, frame, size);
	expect_message(reader, original);
}

/* Line-delimited JSON (QMP): "\n" or "\r\n" ends a message, a NUL inside one is bad. */
static void test_line_terminator(void **state)
{
	static const char text[] = "{\"QMP\":{\"version\":{}}}\r\n{\"return\": {}}\n{\"event\":";
	_cleanup_reader_ VarlinkReader *reader = reader_new(LIMIT);
	_cleanup_json_ json_object *first = NULL, *second = NULL, *bad = NULL;

	varlink_reader_set_terminator(reader, '\n');
	feed(reader, text, sizeof(text) - 1);
	assert_int_equal(varlink_reader_next(reader, &first), 1);
	assert_true(json_object_object_get_ex(first, "QMP", NULL));
	assert_int_equal(varlink_reader_next(reader, &second), 1);
	assert_true(json_object_object_get_ex(second, "return", NULL));
	assert_int_equal(varlink_reader_next(reader, &bad), 0); /* an unfinished line */
	assert_true(varlink_reader_has_partial(reader));
	feed(reader, "\"STOP\"}\n", 9);
	assert_int_equal(varlink_reader_next(reader, &bad), 1);
	assert_string_equal(json_get_string(bad, "event"), "STOP");
	json_object_put(TAKE_PTR(bad));
	/* A lone "\r" is not whitespace the framing forgives in the middle. */
	feed(reader, "{\"a\":1}\r\r\n", 10);
	assert_int_equal(varlink_reader_next(reader, &bad), -EBADMSG);
}

/* \u escapes, including a surrogate pair, decode to the UTF-8 they stand for. */
static void test_unicode_escapes_decode(void **state)
{
	static const char text[] = "{\"s\":\"\\u00e9\\u20ac\\ud83d\\ude00\\u0000x\"}";
	static const char expected[] = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\0x";
	_cleanup_reader_ VarlinkReader *reader = reader_new(LIMIT);
	_cleanup_json_ json_object *message = NULL;
	json_object *s;

	feed(reader, text, sizeof(text));
	assert_int_equal(varlink_reader_next(reader, &message), 1);
	assert_true(json_object_object_get_ex(message, "s", &s));
	assert_int_equal(json_object_get_string_len(s), sizeof(expected) - 1);
	assert_memory_equal(json_object_get_string(s), expected, sizeof(expected) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_every_split_in_two),
		cmocka_unit_test(test_many_in_one_feed),
		cmocka_unit_test(test_many_in_odd_chunks),
		cmocka_unit_test(test_partial_tail_is_kept),
		cmocka_unit_test(test_missing_nul),
		cmocka_unit_test(test_empty_reader),
		cmocka_unit_test(test_exactly_the_limit),
		cmocka_unit_test(test_oversize_in_one_chunk),
		cmocka_unit_test(test_oversize_incrementally),
		cmocka_unit_test(test_read_in_place),
		cmocka_unit_test(test_oversize_in_place),
		cmocka_unit_test(test_oversize_after_a_message),
		cmocka_unit_test(test_lowering_the_limit_applies_to_partial),
		cmocka_unit_test(test_invalid_json),
		cmocka_unit_test(test_non_finite_numbers),
		cmocka_unit_test(test_empty_message),
		cmocka_unit_test(test_trailing_bytes),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_invalid_utf8_strict),
		cmocka_unit_test(test_error_stops_nothing_before_it),
		cmocka_unit_test(test_encode_round_trip),
		cmocka_unit_test(test_line_terminator),
		cmocka_unit_test(test_unicode_escapes_decode),
	};

	return cmocka_run_group_tests_name("varlink_frame", tests, NULL, NULL);
}
