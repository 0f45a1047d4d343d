/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfioctl autostart's rewrite of a definition: only the value's bytes change
 * (comments, quoting and order stay), an absent key is added, a flow mapping
 * gets it inside its braces, and text the change cannot be made in is refused.
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
#include "vm_definition_edit.h"

static void expect(const char *before, bool autostart, const char *after)
{
	_cleanup_free_ char *text = NULL;
	size_t size = 0;

	int r = vm_definition_set_autostart(before, strlen(before), autostart, &text, &size);
	if (r < 0)
		fail_msg("refused (%d):\n%s", r, before);
	assert_int_equal(size, strlen(after));
	assert_string_equal(text, after);
}

static void expect_refused(const char *before)
{
	char *text = NULL;
	size_t size = 0;

	assert_int_equal(vm_definition_set_autostart(before, strlen(before), true, &text, &size),
			 -EINVAL);
	assert_null(text);
}

static void test_present(void **state)
{
	expect("name: a\nautostart: false\nmemory: 1G\n", true,
	       "name: a\nautostart: true\nmemory: 1G\n");
	expect("name: a\nautostart: true\nmemory: 1G\n", false,
	       "name: a\nautostart: false\nmemory: 1G\n");
	/* The same value again changes nothing. */
	expect("name: a\nautostart: true\n", true, "name: a\nautostart: true\n");
	/* Spelled otherwise, quoted, at the end without a newline. */
	expect("name: a\nautostart:   \"no\"", true, "name: a\nautostart:   true");
}

static void test_comment_after_value(void **state)
{
	expect("# My VM\nname: a   # its name\nautostart: false   # not yet\n\nmemory: 1G\n", true,
	       "# My VM\nname: a   # its name\nautostart: true   # not yet\n\nmemory: 1G\n");
}

static void test_multibyte_before(void **state)
{
	/* libyaml counts characters; the offset must still land on the value's bytes. */
	expect("# Überraschung: ümlaut\nname: a # é\nautostart: false\n", true,
	       "# Überraschung: ümlaut\nname: a # é\nautostart: true\n");
	expect("name: a\nowner: bob # ☃ autostart: false\nautostart: false # ☃\n", true,
	       "name: a\nowner: bob # ☃ autostart: false\nautostart: true # ☃\n");
}

static void test_absent(void **state)
{
	expect("name: a\nmemory: 1G\n", true, "name: a\nmemory: 1G\nautostart: true\n");
	expect("name: a\nmemory: 1G # last", false,
	       "name: a\nmemory: 1G # last\nautostart: false\n");
	/* A nested autostart is not the top-level one. */
	expect("name: a\nwindows: {hyperv: true}\n", true,
	       "name: a\nwindows: {hyperv: true}\nautostart: true\n");
}

static void test_flow_style(void **state)
{
	expect("{name: a, autostart: false, memory: 1G}\n", true,
	       "{name: a, autostart: true, memory: 1G}\n");
	expect("{name: a, memory: 1G}\n", true, "{name: a, memory: 1G, autostart: true}\n");
	expect("{name: a,\n memory: 1G\n}", false, "{name: a,\n memory: 1G\n, autostart: false}");
}

static void test_refused(void **state)
{
	expect_refused("- name: a\n");
	expect_refused("name: a\nautostart: {x: 1}\n");
	expect_refused("name: [a\n");
	/* An explicit end of the document: appending would start another. */
	expect_refused("name: a\n...\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_present),          cmocka_unit_test(test_comment_after_value),
		cmocka_unit_test(test_multibyte_before), cmocka_unit_test(test_absent),
		cmocka_unit_test(test_flow_style),       cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests_name("vm-definition-edit", tests, NULL, NULL);
}
