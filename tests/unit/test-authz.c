/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The authorization decision (api/authz.h) without a socket or polkit: root
 * may do everything; reading is for everyone unless access.read is group;
 * a VM's owner and the group control it, polkit decides for the others;
 * managing is root's or polkit's alone; every refusal names what was needed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/authz.h"

static const AuthzFacts root = { .root = true, .read_group_only = true };
static const AuthzFacts anyone = { 0 };
static const AuthzFacts owner = { .owner = true };
static const AuthzFacts member = { .in_group = true };

static void test_root_may_do_everything(void **state)
{
	for (int a = 0; a < _AUTHZ_ACTION_MAX; a++)
		assert_int_equal(authz_decide((AuthzAction)a, &root), AUTHZ_ALLOW);
}

static void test_reading(void **state)
{
	AuthzFacts restricted = { .read_group_only = true };
	assert_int_equal(authz_decide(AUTHZ_READ, &anyone), AUTHZ_ALLOW);
	assert_int_equal(authz_decide(AUTHZ_READ, &restricted), AUTHZ_DENY);
	restricted.in_group = true;
	assert_int_equal(authz_decide(AUTHZ_READ, &restricted), AUTHZ_ALLOW);
	restricted = (AuthzFacts){ .read_group_only = true, .owner = true };
	assert_int_equal(authz_decide(AUTHZ_READ, &restricted), AUTHZ_ALLOW);
}

static void test_control(void **state)
{
	assert_int_equal(authz_decide(AUTHZ_VM_CONTROL, &owner), AUTHZ_ALLOW);
	assert_int_equal(authz_decide(AUTHZ_VM_CONTROL, &member), AUTHZ_ALLOW);
	assert_int_equal(authz_decide(AUTHZ_VM_CONTROL, &anyone), AUTHZ_ASK_POLKIT);
	assert_string_equal(authz_polkit_action(AUTHZ_VM_CONTROL), "io.libvfio.vm.control");
}

static void test_manage_is_not_the_groups(void **state)
{
	const AuthzAction manage[] = { AUTHZ_VM_MANAGE, AUTHZ_PARTITION_CREATE,
				       AUTHZ_PARTITION_DESTROY, AUTHZ_VF_COUNT_SET };
	AuthzFacts both = { .owner = true, .in_group = true };
	for (size_t i = 0; i < sizeof(manage) / sizeof(manage[0]); i++) {
		assert_int_equal(authz_decide(manage[i], &both), AUTHZ_ASK_POLKIT);
		assert_string_equal(authz_polkit_action(manage[i]), "io.libvfio.manage");
	}
}

static void test_refusals_say_what_to_do(void **state)
{
	char buf[512];
	ApiError e = authz_refusal(AUTHZ_VM_CONTROL, "io.libvfio.VMs.Start", "x", "libvfio", buf,
				   sizeof(buf));
	assert_string_equal(api_error_to_string(e), "io.libvfio.VMs.PermissionDenied");
	assert_string_equal(buf, "Start of VM 'x' needs you to be its owner, in group 'libvfio', "
				 "or allowed polkit's io.libvfio.vm.control: ask an administrator, "
				 "run vfioctl with sudo, or with --ask-password.");
	e = authz_refusal(AUTHZ_VF_COUNT_SET, "io.libvfio.Partitions.SetVFCount", NULL, "libvfio",
			  buf, sizeof(buf));
	assert_string_equal(api_error_to_string(e), "io.libvfio.Partitions.PermissionDenied");
	assert_non_null(strstr(buf, "io.libvfio.manage"));
	e = authz_refusal(AUTHZ_READ, "io.libvfio.Host.ListGPUs", NULL, "gpu", buf, sizeof(buf));
	assert_string_equal(api_error_to_string(e), "io.libvfio.Manager.PermissionDenied");
	assert_non_null(strstr(buf, "'gpu'"));
}

static void test_unknown_action_refused(void **state)
{
	char buf[128];
	assert_int_equal(authz_decide(_AUTHZ_ACTION_MAX, &anyone), AUTHZ_DENY);
	assert_int_equal(authz_refusal(_AUTHZ_ACTION_MAX, NULL, NULL, "g", buf, sizeof(buf)),
			 API_ERROR_INTERNAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_may_do_everything),
		cmocka_unit_test(test_reading),
		cmocka_unit_test(test_control),
		cmocka_unit_test(test_manage_is_not_the_groups),
		cmocka_unit_test(test_refusals_say_what_to_do),
		cmocka_unit_test(test_unknown_action_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
