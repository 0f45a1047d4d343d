/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sizes, durations and integers as people write them in the configuration,
 * their limits, and the formatting that reads back to the same value.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "parse_util.h"

#define KiB (UINT64_C(1) << 10)
#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define TiB (UINT64_C(1) << 40)
#define MINUTE (60 * USEC_PER_SEC)
#define HOUR (3600 * USEC_PER_SEC)

typedef int (*Parser)(const char *text, uint64_t *ret);

typedef struct Good {
	const char *text;
	uint64_t value;
} Good;

typedef struct Bad {
	const char *text;
	int error;
} Bad;

static void expect_good(Parser parse, const Good *cases, size_t n_cases)
{
	for (size_t i = 0; i < n_cases; i++) {
		uint64_t value = 0xdeadbeef;
		int r = parse(cases[i].text, &value);

		if (r != 0 || value != cases[i].value)
			fail_msg("'%s': got %d and %" PRIu64 ", expected 0 and %" PRIu64,
				 cases[i].text, r, value, cases[i].value);
	}
}

/* A refused text fails with its error and leaves *ret alone. */
static void expect_bad(Parser parse, const Bad *cases, size_t n_cases)
{
	for (size_t i = 0; i < n_cases; i++) {
		uint64_t value = 0xdeadbeef;
		int r = parse(cases[i].text, &value);

		if (r != cases[i].error || value != 0xdeadbeef)
			fail_msg("'%s': got %d and %" PRIu64 ", expected %d and nothing stored",
				 cases[i].text, r, value, cases[i].error);
	}
}

/* For each unit: the largest count that fits in 64 bits is taken, one more is -ERANGE. */
static void expect_unit_bounds(Parser parse, const char *unit, uint64_t factor)
{
	uint64_t count = UINT64_MAX / factor;
	char fits[32], too_big[32];

	snprintf(fits, sizeof(fits), "%" PRIu64 "%s", count, unit);
	expect_good(parse, &(Good){ fits, count * factor }, 1);
	if (factor > 1) { /* for bytes, count + 1 is not a uint64_t: see the tables */
		snprintf(too_big, sizeof(too_big), "%" PRIu64 "%s", count + 1, unit);
		expect_bad(parse, &(Bad){ too_big, -ERANGE }, 1);
	}
}

static void test_uint64(void **state)
{
	static const Good good[] = {
		{ "0", 0 },
		{ "7", 7 },
		{ "0042", 42 },
		{ "18446744073709551615", UINT64_MAX },
	};
	static const Bad bad[] = {
		{ "", -EINVAL },
		{ "-1", -EINVAL },
		{ "+1", -EINVAL },
		{ " 1", -EINVAL },
		{ "1 ", -EINVAL },
		{ "1a", -EINVAL },
		{ "0x10", -EINVAL },
		{ "1.0", -EINVAL },
		{ "18446744073709551616", -ERANGE },
		{ "99999999999999999999999", -ERANGE },
	};

	expect_good(parse_uint64, good, ELEMENTSOF(good));
	expect_bad(parse_uint64, bad, ELEMENTSOF(bad));
}

static void test_size(void **state)
{
	static const Good good[] = {
		{ "0", 0 },
		{ "512", 512 },
		{ "512B", 512 },
		{ "0K", 0 },
		{ "1K", KiB },
		{ "1KiB", KiB },
		{ "1KB", KiB },
		{ "1024K", MiB },
		{ "1M", MiB },
		{ "1MiB", MiB },
		{ "1MB", MiB },
		{ "256MiB", 256 * MiB },
		{ "8G", 8 * GiB },
		{ "8GiB", 8 * GiB },
		{ "8GB", 8 * GiB },
		{ "2T", 2 * TiB },
		{ "2TiB", 2 * TiB },
		{ "2TB", 2 * TiB },
		{ "18446744073709551615", UINT64_MAX },
		{ "18446744073709551615B", UINT64_MAX },
	};
	static const Bad bad[] = {
		{ "", -EINVAL },
		{ "B", -EINVAL },
		{ "MiB", -EINVAL },
		{ "-1", -EINVAL },
		{ "-1M", -EINVAL },
		{ "1.5M", -EINVAL },
		{ "1 M", -EINVAL },
		{ " 1M", -EINVAL },
		{ "1M ", -EINVAL },
		{ "1k", -EINVAL },
		{ "1m", -EINVAL },
		{ "1Ki", -EINVAL },
		{ "1iB", -EINVAL },
		{ "1MiBs", -EINVAL },
		{ "1PiB", -EINVAL },
		{ "1BB", -EINVAL },
		{ "lots", -EINVAL },
		{ "18446744073709551616", -ERANGE },
		{ "18446744073709551615K", -ERANGE },
	};

	expect_good(parse_size, good, ELEMENTSOF(good));
	expect_bad(parse_size, bad, ELEMENTSOF(bad));
}

static void test_size_bounds(void **state)
{
	expect_unit_bounds(parse_size, "B", 1);
	expect_unit_bounds(parse_size, "K", KiB);
	expect_unit_bounds(parse_size, "MiB", MiB);
	expect_unit_bounds(parse_size, "GB", GiB);
	expect_unit_bounds(parse_size, "T", TiB);
}

static void test_duration(void **state)
{
	static const Good good[] = {
		{ "0", 0 },
		{ "5", 5 * USEC_PER_SEC }, /* a bare number is seconds */
		{ "0s", 0 },
		{ "30s", 30 * USEC_PER_SEC },
		{ "500ms", 500 * USEC_PER_MSEC },
		{ "250us", 250 },
		{ "2min", 2 * MINUTE },
		{ "2m", 2 * MINUTE },
		{ "90m", 90 * MINUTE },
		{ "1h", HOUR },
		{ "48h", 48 * HOUR },
	};
	static const Bad bad[] = {
		{ "", -EINVAL },
		{ "s", -EINVAL },
		{ "ms", -EINVAL },
		{ "-5s", -EINVAL },
		{ "1.5s", -EINVAL },
		{ "5 s", -EINVAL },
		{ "5s ", -EINVAL },
		{ "5sec", -EINVAL },
		{ "5S", -EINVAL },
		{ "5M", -EINVAL },
		{ "5d", -EINVAL },
		{ "5mins", -EINVAL },
		{ "1h30m", -EINVAL },
		{ "30 seconds", -EINVAL },
		{ "18446744073709551616us", -ERANGE },
		{ "18446744073709551615s", -ERANGE },
	};

	expect_good(parse_duration, good, ELEMENTSOF(good));
	expect_bad(parse_duration, bad, ELEMENTSOF(bad));
}

static void test_duration_bounds(void **state)
{
	expect_unit_bounds(parse_duration, "us", 1);
	expect_unit_bounds(parse_duration, "ms", USEC_PER_MSEC);
	expect_unit_bounds(parse_duration, "s", USEC_PER_SEC);
	expect_unit_bounds(parse_duration, "", USEC_PER_SEC);
	expect_unit_bounds(parse_duration, "min", MINUTE);
	expect_unit_bounds(parse_duration, "h", HOUR);
}

static void expect_format_size(uint64_t bytes, const char *expected)
{
	char buf[64];

	assert_string_equal(format_size(buf, sizeof(buf), bytes), expected);
}

static void expect_format_duration(uint64_t usec, const char *expected)
{
	char buf[64];

	assert_string_equal(format_duration(buf, sizeof(buf), usec), expected);
}

/* Written as parse_size() reads it (and as libvfiod.yaml says it): "1MiB". */
static void test_format_size(void **state)
{
	char small[4];

	expect_format_size(0, "0B");
	expect_format_size(512, "512B");
	expect_format_size(1000, "1000B");
	expect_format_size(KiB, "1KiB");
	expect_format_size(1536, "1536B"); /* never rounded */
	expect_format_size(MiB, "1MiB");
	expect_format_size(MiB + KiB, "1025KiB");
	expect_format_size(8 * GiB, "8GiB");
	expect_format_size(3 * TiB, "3TiB");
	expect_format_size(1024 * TiB, "1024TiB"); /* TiB is the largest unit */
	expect_format_size(UINT64_MAX, "18446744073709551615B");

	/* Truncated to the buffer, always terminated. */
	assert_ptr_equal(format_size(small, sizeof(small), 8 * GiB), small);
	assert_string_equal(small, "8Gi");
}

static void test_format_duration(void **state)
{
	char small[3];

	expect_format_duration(0, "0s");
	expect_format_duration(1, "1us");
	expect_format_duration(1500, "1500us");
	expect_format_duration(500 * USEC_PER_MSEC, "500ms");
	expect_format_duration(1500 * USEC_PER_MSEC, "1500ms");
	expect_format_duration(30 * USEC_PER_SEC, "30s");
	expect_format_duration(90 * USEC_PER_SEC, "90s");
	expect_format_duration(2 * MINUTE, "2min");
	expect_format_duration(61 * MINUTE, "61min");
	expect_format_duration(HOUR, "1h");
	expect_format_duration(36 * HOUR, "36h");
	expect_format_duration(UINT64_MAX, "18446744073709551615us");

	assert_ptr_equal(format_duration(small, sizeof(small), 30 * USEC_PER_SEC), small);
	assert_string_equal(small, "30");
}

static const uint64_t round_trip_sizes[] = {
	0, 1, 512, 1023, KiB, 1536, MiB, MiB + KiB, 8 * GiB, 3 * TiB, 1024 * TiB, UINT64_MAX,
};

static const uint64_t round_trip_durations[] = {
	0,
	1,
	999,
	USEC_PER_MSEC,
	1500,
	250 * USEC_PER_MSEC,
	USEC_PER_SEC,
	90 * USEC_PER_SEC,
	MINUTE,
	61 * MINUTE,
	HOUR,
	36 * HOUR,
	UINT64_MAX,
};

static void test_size_round_trip(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(round_trip_sizes); i++) {
		char buf[64];
		uint64_t value = 0;
		const char *text = format_size(buf, sizeof(buf), round_trip_sizes[i]);
		int r = parse_size(text, &value);

		if (r != 0 || value != round_trip_sizes[i])
			fail_msg("%" PRIu64 " formats as '%s', which parses as %d, %" PRIu64,
				 round_trip_sizes[i], text, r, value);
	}
}

static void test_duration_round_trip(void **state)
{
	for (size_t i = 0; i < ELEMENTSOF(round_trip_durations); i++) {
		char buf[64];
		uint64_t value = 0;
		const char *text = format_duration(buf, sizeof(buf), round_trip_durations[i]);
		int r = parse_duration(text, &value);

		if (r != 0 || value != round_trip_durations[i])
			fail_msg("%" PRIu64 " formats as '%s', which parses as %d, %" PRIu64,
				 round_trip_durations[i], text, r, value);
	}
}

static void test_uuid(void **state)
{
	assert_true(uuid_is_valid("4b1e5a8c-2f0d-4c6e-9a7b-3d2c1e0f9a8B"));
	assert_false(uuid_is_valid("4b1e5a8c-2f0d-4c6e-9a7b-3d2c1e0f9a8"));
	assert_false(uuid_is_valid("4b1e5a8c2f0d-4c6e-9a7b-3d2c1e0f9a8b0"));
	assert_false(uuid_is_valid("4b1e5a8c-2f0d-4c6e-9a7b-3d2c1e0f9a8g"));
	assert_false(uuid_is_valid("4b1e5a8c-2f0d-4c6e-9a7b-3d2c1e0f9a8b\n"));
	assert_false(uuid_is_valid("../../../../../../../../../../remove"));
	assert_false(uuid_is_valid(""));
	assert_false(uuid_is_valid(NULL));
}

/* One rule for every user name libvfio takes (vms.qemu-user and a VM's owner alike). */
static void test_user_names(void **state)
{
	static const char *const good[] = { "alice",     "libvfio-qemu", "_apt",  "Debian-exim",
					    "user.name", "a1",           "nobody" };
	static const char *const bad[] = { "",        "-rf",
					   ".hidden", "1000",
					   "al ice",  "a:b",
					   "a/b",     "abcdefghijklmnopqrstuvwxyz0123456" };
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(good); i++)
		assert_true(user_name_is_valid(good[i]));
	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		assert_false(user_name_is_valid(bad[i]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uint64),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_size_bounds),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_duration_bounds),
		cmocka_unit_test(test_format_size),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_size_round_trip),
		cmocka_unit_test(test_duration_round_trip),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_user_names),
	};

	return cmocka_run_group_tests_name("parse_util", tests, NULL, NULL);
}
