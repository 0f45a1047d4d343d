/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of daemon/autoprobe_record.c: a PF's autoprobe before libvfio turned
 * it off survives the disk and a new load exactly, a second change keeps the
 * first value (the administrator's, not libvfio's own 0), removal is for
 * good, and a damaged or misnamed file is reported and never trusted.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "partitions/autoprobe_record.h"
#include "strv.h"
#include "tmpdir.h"

static PciAddress address(const char *text)
{
	PciAddress a;
	assert_int_equal(pci_address_parse(text, &a), 0);
	return a;
}

/* Loads `dir` afresh, as the next daemon would. */
static void reload(AutoprobeRecords *set, const char *dir, size_t n_problems)
{
	char **problems = NULL;
	autoprobe_records_done(set);
	assert_int_equal(autoprobe_records_load(set, dir, &problems), 0);
	assert_int_equal(strv_length(problems), n_problems);
	strv_free(problems);
}

static void test_recorded_until_removed(void **state)
{
	char *dir = tmpdir_new();
	AutoprobeRecords set = { 0 };
	PciAddress pf = address("0000:86:00.0"), other = address("0000:03:00.0");

	reload(&set, dir, 0);
	assert_int_equal(autoprobe_records_find(&set, &pf), -ENOENT);
	assert_int_equal(autoprobe_records_add(&set, &pf, true), 0);
	assert_int_equal(autoprobe_records_add(&set, &other, false), 0);
	/* Turned off again while off: the first value stays. */
	assert_int_equal(autoprobe_records_add(&set, &pf, false), 0);
	assert_int_equal(autoprobe_records_find(&set, &pf), 1);

	reload(&set, dir, 0);
	assert_int_equal(set.n_records, 2);
	assert_int_equal(autoprobe_records_find(&set, &pf), 1);
	assert_int_equal(autoprobe_records_find(&set, &other), 0);

	assert_int_equal(autoprobe_records_remove(&set, &pf), 0);
	assert_int_equal(autoprobe_records_remove(&set, &pf), 0); /* gone already: fine */
	reload(&set, dir, 0);
	assert_int_equal(autoprobe_records_find(&set, &pf), -ENOENT);
	assert_int_equal(autoprobe_records_find(&set, &other), 0);

	autoprobe_records_done(&set);
	tmpdir_remove(dir);
}

static void test_damaged_records_are_skipped(void **state)
{
	char *dir = tmpdir_new();
	AutoprobeRecords set = { 0 };
	static const char good[] = "{\"pf\":\"0000:86:00.0\",\"autoprobeBefore\":true}";
	static const char number[] = "{\"pf\":\"0000:03:00.0\",\"autoprobeBefore\":1}";
	static const char misnamed[] = "{\"pf\":\"0000:05:00.0\",\"autoprobeBefore\":true}";

	free(tmpdir_write(dir, "0000:86:00.0.json", good, strlen(good), 0600));
	free(tmpdir_write(dir, "0000:03:00.0.json", number, strlen(number), 0600));
	free(tmpdir_write(dir, "0000:04:00.0.json", misnamed, strlen(misnamed), 0600));
	free(tmpdir_write(dir, "garbage.json", "{", 1, 0600));
	reload(&set, dir, 3);
	assert_int_equal(set.n_records, 1);
	PciAddress pf = address("0000:86:00.0");
	assert_int_equal(autoprobe_records_find(&set, &pf), 1);

	autoprobe_records_done(&set);
	tmpdir_remove(dir);
}

static void test_nowhere_to_write(void **state)
{
	AutoprobeRecords set = { 0 };
	PciAddress pf = address("0000:86:00.0");

	/* Never loaded: no directory, so nothing may change that cannot be put back. */
	assert_int_equal(autoprobe_records_add(&set, &pf, true), -EINVAL);
	assert_int_equal(autoprobe_records_find(&set, &pf), -ENOENT);
	autoprobe_records_done(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recorded_until_removed),
		cmocka_unit_test(test_damaged_records_are_skipped),
		cmocka_unit_test(test_nowhere_to_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
