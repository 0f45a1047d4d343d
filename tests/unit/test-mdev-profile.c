/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What an mdev type offers, read from its name and description as vendors
 * write them: NVIDIA's "framebuffer=2048M, ... max_instance=8" and "GRID
 * T4-2Q", Intel GVT-g's "low_gm_size: 128MB". Whatever does not follow the
 * pattern, and every number too big to hold, says nothing (0).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "host/host.h"
#include "host/mdev_profile.h"

#define NVIDIA_T4_2Q                                                                \
	"num_heads=4, frl_config=60, framebuffer=2048M, max_resolution=7680x4320, " \
	"max_instance=8"
#define GVT_V5_4                                                                     \
	"low_gm_size: 128MB\nhigh_gm_size: 512MB\nfence: 4\nresolution: 1920x1200\n" \
	"weight: 4\n"

static uint64_t framebuffer(const char *name, const char *description)
{
	MdevType type = { .id = (char *)"test-type",
			  .name = (char *)name,
			  .description = (char *)description };

	return mdev_profile_framebuffer_mib(&type);
}

static uint64_t max_instances(const char *description)
{
	MdevType type = { .id = (char *)"test-type", .description = (char *)description };

	return mdev_profile_max_instances(&type);
}

static void test_nvidia_description(void **state)
{
	assert_int_equal(framebuffer(NULL, NVIDIA_T4_2Q), 2048);
	assert_int_equal(max_instances(NVIDIA_T4_2Q), 8);
	assert_int_equal(framebuffer("GRID T4-2Q", NVIDIA_T4_2Q), 2048);
	assert_int_equal(framebuffer(NULL, "num_heads=1, frl_config=60, framebuffer=16384M, "
					   "max_resolution=4096x2160, max_instance=1"),
			 16384);
	assert_int_equal(max_instances("num_heads=1, frl_config=60, framebuffer=16384M, "
				       "max_resolution=4096x2160, max_instance=1"),
			 1);
	/* The description wins over the name when both say. */
	assert_int_equal(framebuffer("GRID T4-2Q", "framebuffer=1024M, max_instance=16"), 1024);
	/* Other spellings of the separator. */
	assert_int_equal(framebuffer(NULL, "framebuffer: 512M"), 512);
	assert_int_equal(framebuffer(NULL, "framebuffer 768"), 768);
	assert_int_equal(max_instances("max_instance: 24"), 24);
	assert_int_equal(max_instances("max_instance 3"), 3);
}

static void test_nvidia_name(void **state)
{
	assert_int_equal(framebuffer("GRID T4-2Q", NULL), 2048);
	assert_int_equal(framebuffer("GRID A100-4C", NULL), 4096);
	assert_int_equal(framebuffer("GRID T4-16Q", NULL), 16384);
	assert_int_equal(framebuffer("GRID T4-1B", NULL), 1024);
	assert_int_equal(framebuffer("GRID RTX6000-24A", NULL), 24576);
	/* MIG-backed A100 types: "1 compute slice, 5 GiB". */
	assert_int_equal(framebuffer("GRID A100-1-5C", NULL), 5120);
	/* The biggest name the pattern allows: 1 TiB. */
	assert_int_equal(framebuffer("GRID X-1024Q", NULL), 1024 * 1024);
	/* A description without a size leaves the name to say it. */
	assert_int_equal(framebuffer("GRID T4-8Q", "num_heads=4, max_instance=2"), 8192);
	/* The name says nothing of instances. */
	assert_int_equal(max_instances(NULL), 0);
}

static void test_names_off_pattern(void **state)
{
	static const char *const names[] = {
		"",
		"GRID T4",
		"GRID T4-",
		"GRID T4-Q",
		"GRID T4-2",
		"GRID T4-2QB",
		"GRID T4-2Q ",
		"GRID T4-2.",
		"GRID T4-2_",
		"GRID T4-2\n",
		"GRID T4-2-",
		"GRID T4-2.5Q",
		"GRID T4-0Q",
		"GRID T4-1025Q",
		"GRID T4- 2Q",
		"GVTg_V5_4",
		"i915-GVTg_V5_4",
		"mtty-2",
		"mbochs-small",
		"-",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (framebuffer(names[i], NULL) != 0)
			fail_msg("'%s' gave %llu MiB, expected 0", names[i],
				 (unsigned long long)framebuffer(names[i], NULL));
}

static void test_gvt_description(void **state)
{
	assert_int_equal(framebuffer("GVTg_V5_4", GVT_V5_4), 640);
	assert_int_equal(framebuffer(NULL, "low_gm_size: 64MB\nhigh_gm_size: 384MB\n"), 448);
	assert_int_equal(framebuffer(NULL, "low_gm_size: 128MB\n"), 128);
	assert_int_equal(framebuffer(NULL, "high_gm_size: 1024MB\n"), 1024);
	/* GVT-g does not say how many instances fit. */
	assert_int_equal(max_instances(GVT_V5_4), 0);
}

static void test_units(void **state)
{
	assert_int_equal(framebuffer(NULL, "framebuffer=2G"), 2048);
	assert_int_equal(framebuffer(NULL, "framebuffer=2g"), 2048);
	assert_int_equal(framebuffer(NULL, "framebuffer=48GB"), 48 * 1024);
	assert_int_equal(framebuffer(NULL, "framebuffer=1048576K"), 1024);
	assert_int_equal(framebuffer(NULL, "framebuffer=4096k"), 4);
	assert_int_equal(framebuffer(NULL, "framebuffer=2048M"), 2048);
	assert_int_equal(framebuffer(NULL, "framebuffer=2048MB"), 2048);
	assert_int_equal(framebuffer(NULL, "framebuffer=2048"), 2048);
	/* Less than a MiB is nothing, and then the name may say. */
	assert_int_equal(framebuffer(NULL, "framebuffer=1023K"), 0);
	assert_int_equal(framebuffer("GRID T4-4Q", "framebuffer=512K"), 4096);
	assert_int_equal(framebuffer(NULL, "low_gm_size: 1G\nhigh_gm_size: 2048K\n"), 1026);
}

static void test_garbage(void **state)
{
	static const char *const descriptions[] = {
		"",
		"framebuffer",
		"framebuffer=",
		"framebuffer=M",
		"framebuffer=-2048M",
		"framebuffer=x2048M",
		"framebuffer==:",
		"frame buffer=2048M",
		"low_gm_size: MB\nhigh_gm_size: none\n",
		"\n\n\n",
	};

	assert_int_equal(framebuffer(NULL, NULL), 0);
	assert_int_equal(max_instances(NULL), 0);
	for (size_t i = 0; i < sizeof(descriptions) / sizeof(descriptions[0]); i++)
		if (framebuffer(NULL, descriptions[i]) != 0)
			fail_msg("'%s' gave %llu MiB, expected 0", descriptions[i],
				 (unsigned long long)framebuffer(NULL, descriptions[i]));
	assert_int_equal(max_instances(""), 0);
	assert_int_equal(max_instances("max_instance"), 0);
	assert_int_equal(max_instances("max_instance="), 0);
	assert_int_equal(max_instances("max_instance=eight"), 0);
	assert_int_equal(max_instances("max_instance=-8"), 0);
	assert_int_equal(max_instances("framebuffer=2048M"), 0);
}

/* A number that does not fit says nothing; it never wraps to a small one. */
static void test_huge_numbers(void **state)
{
	/* UINT64_MAX MiB fits. */
	assert_true(framebuffer(NULL, "framebuffer=18446744073709551615M") == UINT64_MAX);
	assert_int_equal(framebuffer(NULL, "framebuffer=99999999999999999999999999M"), 0);
	assert_int_equal(framebuffer(NULL, "framebuffer=99999999999999999999999999G"), 0);
	assert_int_equal(framebuffer("GRID T4-99999999999999999999999999Q", NULL), 0);

	/* A huge instance count stays huge (so no max_instances constraint accepts it). */
	uint64_t n = max_instances("max_instance=18446744073709551617");
	if (n != 0 && n < 1000000)
		fail_msg("max_instance=2^64+1 gave %llu", (unsigned long long)n);
	n = max_instances("max_instance=99999999999999999999999999999999");
	if (n != 0 && n < 1000000)
		fail_msg("max_instance=10^32-1 gave %llu", (unsigned long long)n);
}

/* The last digit of a 20-digit number can carry it past UINT64_MAX. */
static void test_huge_size_last_digit(void **state)
{
	assert_int_equal(framebuffer(NULL, "framebuffer=18446744073709551616M"), 0);
	assert_int_equal(framebuffer(NULL, "framebuffer=18446744073709551619M"), 0);
}

/* A size that fits in MiB can overflow once scaled from GiB. */
static void test_huge_size_in_gib(void **state)
{
	/* 2^54 + 1 GiB is 2^64 + 1024 MiB. */
	assert_int_equal(framebuffer(NULL, "framebuffer=18014398509481985G"), 0);
	assert_int_equal(framebuffer(NULL, "low_gm_size: 18014398509481985G\n"), 0);
}

/* The GiB in a name are checked against the limit only after the digits are read. */
static void test_huge_size_in_name(void **state)
{
	/* 2^64 + 1 GiB. */
	assert_int_equal(framebuffer("GRID T4-18446744073709551617Q", NULL), 0);
	/* 2^64 + 1024. */
	assert_int_equal(framebuffer("GRID T4-18446744073709552640Q", NULL), 0);
}

/* The two GVT-g sizes are added: their sum must not wrap either. */
static void test_huge_gvt_sum(void **state)
{
	assert_int_equal(framebuffer(NULL, "low_gm_size: 18446744073709551615MB\n"
					   "high_gm_size: 2MB\n"),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nvidia_description),
		cmocka_unit_test(test_nvidia_name),
		cmocka_unit_test(test_names_off_pattern),
		cmocka_unit_test(test_gvt_description),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_huge_numbers),
		cmocka_unit_test(test_huge_size_last_digit),
		cmocka_unit_test(test_huge_size_in_gib),
		cmocka_unit_test(test_huge_size_in_name),
		cmocka_unit_test(test_huge_gvt_sum),
	};

	return cmocka_run_group_tests_name("mdev_profile", tests, NULL, NULL);
}
