/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of daemon/vm/vm_last_end.c: how a VM last ended is written and read
 * back whole; a record that is not an end, names another VM, carries a
 * reason that is not text of a bounded size, or is not JSON, is not
 * believed; a removed record is gone.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "json_util.h"
#include "macro.h"
#include "strv.h"
#include "tmpdir.h"
#include "vm/vm_last_end.h"

static void test_round_trip(void **state)
{
	(void)state;
	char *dir = tmpdir_new();
	VmLastEnd failed = { .name = "gaming-vm",
			     .state = VM_STATE_FAILED,
			     .problem = (char *)"disk /x: No such file or directory",
			     .at_usec = 1234567 };
	VmLastEnd stopped = { .name = "desk", .state = VM_STATE_STOPPED };
	assert_int_equal(vm_last_end_save(dir, &failed), 0);
	assert_int_equal(vm_last_end_save(dir, &stopped), 0);
	VmLastEnd running = { .name = "x", .state = VM_STATE_RUNNING };
	assert_int_equal(vm_last_end_save(dir, &running), -EINVAL);
	VmLastEnd bad_name = { .name = "../x", .state = VM_STATE_STOPPED };
	assert_int_equal(vm_last_end_save(dir, &bad_name), -EINVAL);

	VmLastEnd *ends;
	size_t n;
	char **problems = NULL;
	assert_int_equal(vm_last_end_load_all(dir, &ends, &n, &problems), 0);
	assert_null(problems);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(ends[i].name, "gaming-vm") == 0) {
			assert_int_equal(ends[i].state, VM_STATE_FAILED);
			assert_string_equal(ends[i].problem, failed.problem);
			assert_int_equal(ends[i].at_usec, 1234567);
		} else {
			assert_string_equal(ends[i].name, "desk");
			assert_int_equal(ends[i].state, VM_STATE_STOPPED);
			assert_null(ends[i].problem);
		}
		vm_last_end_done(&ends[i]);
	}
	free(ends);

	assert_int_equal(vm_last_end_remove(dir, "desk"), 0);
	assert_int_equal(vm_last_end_remove(dir, "desk"), 0); /* gone is fine */
	assert_int_equal(vm_last_end_load_all(dir, &ends, &n, &problems), 0);
	assert_int_equal(n, 1);
	vm_last_end_done(&ends[0]);
	free(ends);
	tmpdir_remove(dir);
}

static void assert_refused(const char *json, const char *field)
{
	_cleanup_json_ json_object *o = json_tokener_parse(json);
	VmLastEnd end;
	const char *bad = NULL;
	assert_non_null(o);
	assert_int_equal(vm_last_end_from_json(o, &end, &bad), -EINVAL);
	assert_non_null(bad);
	assert_string_equal(bad, field);
}

static void test_damaged_records_are_not_believed(void **state)
{
	(void)state;
	assert_refused("{\"state\":\"failed\",\"atUsec\":0}", "name");
	assert_refused("{\"name\":\"../etc\",\"state\":\"failed\",\"atUsec\":0}", "name");
	assert_refused("{\"name\":\"a\",\"state\":\"running\",\"atUsec\":0}", "state");
	assert_refused("{\"name\":\"a\",\"state\":\"undefined\",\"atUsec\":0}", "state");
	assert_refused("{\"name\":\"a\",\"state\":7,\"atUsec\":0}", "state");
	assert_refused("{\"name\":\"a\",\"state\":\"failed\",\"atUsec\":-1}", "atUsec");
	assert_refused("{\"name\":\"a\",\"state\":\"failed\",\"atUsec\":0,\"problem\":[1]}",
		       "problem");
	assert_refused(
		"{\"name\":\"a\",\"state\":\"failed\",\"atUsec\":0,\"problem\":\"a\\u0000b\"}",
		"problem");

	/* A reason past its bound */
	static const char head[] =
		"{\"name\":\"a\",\"state\":\"failed\",\"atUsec\":0,\"problem\":\"";
	char big[sizeof(head) + VM_LAST_END_PROBLEM_MAX + 4];
	size_t k = sizeof(head) - 1;
	memcpy(big, head, k);
	memset(big + k, 'x', VM_LAST_END_PROBLEM_MAX + 1);
	memcpy(big + k + VM_LAST_END_PROBLEM_MAX + 1, "\"}", 3);
	assert_refused(big, "problem");

	/* On disk: damaged, not JSON, filed under another name; the good one is kept */
	char *dir = tmpdir_new();
	free(tmpdir_write_text(dir, "a.json",
			       "{\"name\":\"a\",\"state\":\"crashed\",\"atUsec\":5}"));
	free(tmpdir_write_text(dir, "b.json",
			       "{\"name\":\"a\",\"state\":\"crashed\",\"atUsec\":5}"));
	free(tmpdir_write_text(dir, "c.json", "not json"));
	free(tmpdir_write_text(dir, "d.json",
			       "{\"name\":\"d\",\"state\":\"paused\",\"atUsec\":5}"));
	free(tmpdir_write_text(dir, ".e.json.tmp", "half"));
	VmLastEnd *ends;
	size_t n;
	char **problems = NULL;
	assert_int_equal(vm_last_end_load_all(dir, &ends, &n, &problems), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ends[0].name, "a");
	assert_int_equal(ends[0].state, VM_STATE_CRASHED);
	assert_int_equal(strv_length(problems), 3);
	vm_last_end_done(&ends[0]);
	free(ends);
	strv_free(problems);
	tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_damaged_records_are_not_believed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
