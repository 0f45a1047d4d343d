/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The authorization decision (api/authz.h) without a socket: root may do
 * everything, everyone may read, and every refusal has its error and the
 * sentence clients have always been shown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "api/authz.h"

static const struct ucred root = { .pid = 1, .uid = 0, .gid = 0 };
static const struct ucred alice = { .pid = 2, .uid = 1000, .gid = 1000 };

static void test_root_may_do_everything(void **state)
{
	for (int a = 0; a < _AUTHZ_ACTION_MAX; a++) {
		AuthzRefusal refusal = { .message = "untouched" };
		assert_true(authz_decide(&root, (AuthzAction)a, "gaming-vm", &refusal));
		assert_string_equal(refusal.message, "untouched");
	}
}

static void test_everyone_may_read(void **state)
{
	AuthzRefusal refusal;
	assert_true(authz_decide(&alice, AUTHZ_READ, "gaming-vm", &refusal));
	assert_true(authz_decide(&alice, AUTHZ_READ, NULL, &refusal));
}

static void test_others_are_refused_with_the_sentence(void **state)
{
	static const struct {
		AuthzAction action;
		const char *error, *message;
	} cases[] = {
		{ AUTHZ_VM_MANAGE, "io.libvfio.VMs.PermissionDenied",
		  "Only root may change VMs for now (run vfioctl with sudo)." },
		{ AUTHZ_VM_CONTROL, "io.libvfio.VMs.PermissionDenied",
		  "Only root may change VMs for now (run vfioctl with sudo)." },
		{ AUTHZ_PARTITION_CREATE, "io.libvfio.Partitions.PermissionDenied",
		  "Only root may create partitions for now (run vfioctl with sudo)." },
		{ AUTHZ_PARTITION_DESTROY, "io.libvfio.Partitions.PermissionDenied",
		  "Only root may destroy partitions for now (run vfioctl with sudo)." },
		{ AUTHZ_VF_COUNT_SET, "io.libvfio.Partitions.PermissionDenied",
		  "Only root may change VF counts for now (run vfioctl with sudo)." },
	};
	/* every action but reading is here */
	assert_int_equal(sizeof(cases) / sizeof(cases[0]), _AUTHZ_ACTION_MAX - 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		AuthzRefusal refusal = { 0 };
		assert_false(authz_decide(&alice, cases[i].action, "gaming-vm", &refusal));
		assert_string_equal(api_error_to_string(refusal.error), cases[i].error);
		assert_string_equal(refusal.message, cases[i].message);
	}
}

static void test_unknown_action_refused(void **state)
{
	AuthzRefusal refusal = { 0 };
	assert_false(authz_decide(&alice, _AUTHZ_ACTION_MAX, NULL, &refusal));
	assert_non_null(refusal.message);
	assert_non_null(api_error_to_string(refusal.error));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_may_do_everything),
		cmocka_unit_test(test_everyone_may_read),
		cmocka_unit_test(test_others_are_refused_with_the_sentence),
		cmocka_unit_test(test_unknown_action_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
