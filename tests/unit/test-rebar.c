/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of how a GPU's resizable BARs are read (rebar.c): resourceN_resize's
 * bitmap and the BAR's size now from `resource`, and damage as a warning.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/rebar.h"
#include "macro.h"
#include "strv.h"
#include "tmpdir.h"

#define UNSET "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"

static void test_read(void **state)
{
	char *dir = tmpdir_new();
	free(tmpdir_write_text(dir, "resource",
			       UNSET
			       "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
			       "0x0000007800000000 0x000000780fffffff 0x000000000014220c\n" UNSET));
	free(tmpdir_write_text(dir, "resource2_resize", "0000000000007f00\n"));
	free(tmpdir_write_text(dir, "resource0_resize", "not hex\n"));
	free(tmpdir_write_text(dir, "resource3_resize", "00000000000001c0\n")); /* unset BAR */
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	PciFunction f = { 0 };

	assert_int_equal(rebar_read(fd, &f), 0);
	assert_int_equal(f.n_rebars, 2);
	assert_int_equal(f.rebars[0].bar, 2);
	assert_int_equal(f.rebars[0].sizes, 0x7f00);
	assert_int_equal(f.rebars[0].current, 256 << 20);
	assert_int_equal(rebar_largest(&f.rebars[0]), UINT64_C(16) << 30);
	assert_int_equal(f.rebars[1].bar, 3);
	assert_int_equal(f.rebars[1].current, 0); /* unknown */
	assert_int_equal(rebar_largest(&f.rebars[1]), 256 << 20);
	/* The damaged one: a warning, never a size. */
	assert_int_equal(strv_length(f.warnings), 1);
	assert_string_equal(f.warnings[0], "its resource0_resize is unreadable");
	strv_free(f.warnings);
	close(fd);
	tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
