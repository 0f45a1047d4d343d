/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of vm_machine_name(): the name machined knows a VM by is a host name
 * as systemd checks it (hostname_is_valid()), or there is none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vm/vm_machine.h"

static void assert_machine_name(const char *vm_name, const char *expected)
{
	char name[VM_NAME_MAX + 1];
	bool ok = vm_machine_name(vm_name, name);
	if (!expected) {
		if (ok)
			fail_msg("'%s' gave machine name '%s', expected none", vm_name, name);
		return;
	}
	if (!ok)
		fail_msg("'%s' gave no machine name, expected '%s'", vm_name, expected);
	assert_string_equal(name, expected);
}

static void test_host_names_are_kept(void **state)
{
	(void)state;
	assert_machine_name("gaming-vm", "gaming-vm");
	assert_machine_name("Win11", "Win11");
	assert_machine_name("lab.vm1", "lab.vm1");
	assert_machine_name("a", "a");
	assert_machine_name("0123456789012345678901234567890123456789012345678901234567890123",
			    "0123456789012345678901234567890123456789012345678901234567890123");
}

static void test_underscores_become_hyphens(void **state)
{
	(void)state;
	assert_machine_name("gaming_vm", "gaming-vm");
	assert_machine_name("a_b_c", "a-b-c");
}

static void test_names_that_are_no_host_name(void **state)
{
	(void)state;
	assert_machine_name("a..b", NULL);
	assert_machine_name("vm.", NULL);
	assert_machine_name("vm-", NULL);
	assert_machine_name("vm_", NULL);
	assert_machine_name("a.-b", NULL);
	assert_machine_name("a-.b", NULL);
	assert_machine_name("", NULL);
	assert_machine_name("a b", NULL);
	assert_machine_name("01234567890123456789012345678901234567890123456789012345678901234",
			    NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_names_are_kept),
		cmocka_unit_test(test_underscores_become_hyphens),
		cmocka_unit_test(test_names_that_are_no_host_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
