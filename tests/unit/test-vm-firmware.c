/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of ovmf_choose() (daemon/vm/vm_firmware.c), a pure choice from what
 * the host facts found: a code build only with its own variables template,
 * secure boot only from a secure-boot build, and a sentence when none fits.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "macro.h"
#include "vm/vm_firmware.h"

static void test_code_only_with_its_template(void **state)
{
	(void)state;
	char *code[] = { (char *)"/usr/share/OVMF/OVMF_CODE_4M.fd",
			 (char *)"/usr/share/OVMF/OVMF_CODE.fd",
			 (char *)"/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", NULL };
	char *vars[] = { (char *)"/usr/share/OVMF/OVMF_VARS.fd",
			 (char *)"/usr/share/OVMF/OVMF_VARS_4M.ms.fd", NULL };
	HostFacts facts = { .ovmf_files = code, .ovmf_vars_files = vars };
	const char *chosen;
	char *template = NULL, *message = NULL;

	/* the 4M build has no template here: the 2M one with its own */
	assert_int_equal(ovmf_choose(&facts, false, &chosen, &template, &message), 0);
	assert_string_equal(chosen, "/usr/share/OVMF/OVMF_CODE.fd");
	assert_string_equal(template, "/usr/share/OVMF/OVMF_VARS.fd");
	free(template);
	assert_int_equal(ovmf_choose(&facts, true, &chosen, &template, &message), 0);
	assert_string_equal(chosen, "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd");
	assert_string_equal(template, "/usr/share/OVMF/OVMF_VARS_4M.ms.fd");
	free(template);
}

static void test_none_fits(void **state)
{
	(void)state;
	char *code[] = { (char *)"/usr/share/OVMF/OVMF_CODE_4M.fd", NULL };
	HostFacts facts = { .ovmf_files = code };
	const char *chosen;
	char *template = NULL;
	_cleanup_free_ char *message = NULL;

	assert_int_equal(ovmf_choose(&facts, false, &chosen, &template, &message), -ENOENT);
	assert_non_null(message);
	assert_null(template);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_code_only_with_its_template),
		cmocka_unit_test(test_none_fits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
