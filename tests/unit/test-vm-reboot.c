/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of daemon/vm/vm_reboot.c: after a Reboot, the guest's own power-off
 * is a reset and cont; a stop asked meanwhile, or QEMU's own quit, ends the
 * VM; a QEMU told to pause is never left paused in "shutdown".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vm/vm_reboot.h"

static void test_decisions(void **state)
{
	(void)state;
	/* reboot_pending, stop_requested, guest, qemu_pauses */
	assert_int_equal(vm_shutdown_action(true, false, true, true),
			 VM_SHUTDOWN_RESET_AND_CONTINUE);
	/* a stop asked after the reboot: the power-off is the stop's */
	assert_int_equal(vm_shutdown_action(true, true, true, true), VM_SHUTDOWN_QUIT);
	/* QEMU told to quit (not the guest): it exits */
	assert_int_equal(vm_shutdown_action(true, false, false, true), VM_SHUTDOWN_QUIT);
	/* no reboot asked: a guest power-off ends the VM as ever */
	assert_int_equal(vm_shutdown_action(false, false, true, false), VM_SHUTDOWN_LET_END);
	assert_int_equal(vm_shutdown_action(false, true, true, false), VM_SHUTDOWN_LET_END);
	/* QEMU still told to pause (the reset back failed): quit, never stay paused */
	assert_int_equal(vm_shutdown_action(false, false, true, true), VM_SHUTDOWN_QUIT);
	/* a reboot whose pause was never set: QEMU exits by itself */
	assert_int_equal(vm_shutdown_action(true, false, true, false), VM_SHUTDOWN_LET_END);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decisions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
