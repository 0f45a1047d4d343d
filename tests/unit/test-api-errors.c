/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one table of io.libvfio error names (api/errors.h): every name is
 * declared by the interface it belongs to, none is spelled twice, and each
 * domain outcome maps to the name it always had on the wire.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/errors.h"
#include "varlink_idl.h"

/* Fails unless `name` ("io.libvfio.VMs.NoSuchVM") is declared by its interface. */
static void assert_declared(const char *name)
{
	const char *dot = strrchr(name, '.');
	assert_non_null(dot);
	char interface[128], declaration[128];
	snprintf(interface, sizeof(interface), "%.*s", (int)(dot - name), name);
	const VarlinkIdl *idl = varlink_idl_find(libvfio_interfaces, interface);
	if (!idl)
		fail_msg("%s: no interface %s", name, interface);
	snprintf(declaration, sizeof(declaration), "\nerror %s (", dot + 1);
	if (!strstr(idl->description, declaration))
		fail_msg("%s is not declared in %s", name, interface);
}

static void test_every_name_declared_once(void **state)
{
	for (int e = 0; e < _API_ERROR_MAX; e++) {
		const char *name = api_error_to_string((ApiError)e);
		if (!name)
			fail_msg("error %d has no name", e);
		assert_declared(name);
		assert_int_equal(api_error_from_string(name), e);
		for (int other = 0; other < e; other++)
			if (strcmp(name, api_error_to_string((ApiError)other)) == 0)
				fail_msg("errors %d and %d are both %s", other, e, name);
	}
	assert_null(api_error_to_string(_API_ERROR_MAX));
	assert_null(api_error_to_string(_API_ERROR_INVALID));
	assert_int_equal(api_error_from_string("io.libvfio.VMs.NoSuchThing"), -EINVAL);
}

/*
 * Every refusal of the allocator has its own name, pinned here, and the
 * interface declares it; but a type unknown to the GPU asked for and one
 * unknown to the whole host are both UnknownType (the message and the address
 * tell them apart). Moved from test-alloc when the names left the allocator.
 */
static void test_alloc_error_names(void **state)
{
	static const char *const expected[_ALLOC_ERROR_MAX] = {
		[ALLOC_NO_SUCH_GPU] = "io.libvfio.Partitions.NoSuchGPU",
		[ALLOC_NOT_A_GPU] = "io.libvfio.Partitions.NotAGPU",
		[ALLOC_NO_MATCHING_GPU] = "io.libvfio.Partitions.NoMatchingGPU",
		[ALLOC_MODE_UNSUPPORTED] = "io.libvfio.Partitions.ModeUnsupported",
		[ALLOC_UNKNOWN_TYPE] = "io.libvfio.Partitions.UnknownType",
		[ALLOC_NO_SUCH_TYPE] = "io.libvfio.Partitions.UnknownType",
		[ALLOC_NONE_FREE] = "io.libvfio.Partitions.NoneFree",
		[ALLOC_BOOT_VGA] = "io.libvfio.Partitions.BootDisplay",
		[ALLOC_NOT_ISOLATED] = "io.libvfio.Partitions.GroupNotIsolated",
		[ALLOC_HELD] = "io.libvfio.Partitions.Busy",
		[ALLOC_DEVICE_IN_USE] = "io.libvfio.Partitions.DeviceInUse",
	};
	static const char prefix[] = "io.libvfio.Partitions.";

	for (int e = ALLOC_OK + 1; e < _ALLOC_ERROR_MAX; e++) {
		const char *name = api_error_to_string(api_error_from_alloc((AllocError)e));
		if (!name)
			fail_msg("error %d has no name", e);
		assert_non_null(expected[e]);
		assert_string_equal(name, expected[e]);
		assert_int_equal(strncmp(name, prefix, strlen(prefix)), 0);
		assert_declared(name);
		for (int other = ALLOC_OK + 1; other < e; other++)
			if (api_error_from_alloc((AllocError)other) ==
				    api_error_from_alloc((AllocError)e) &&
			    !(other == ALLOC_UNKNOWN_TYPE && e == ALLOC_NO_SUCH_TYPE))
				fail_msg("errors %d and %d are both %s", other, e, name);
	}
	assert_int_equal(api_error_from_alloc(ALLOC_OK), _API_ERROR_INVALID);
	assert_int_equal(api_error_from_alloc(_ALLOC_ERROR_MAX), _API_ERROR_INVALID);
	assert_int_equal(api_error_from_alloc((AllocError)(_ALLOC_ERROR_MAX + 1)),
			 _API_ERROR_INVALID);
	assert_int_equal(api_error_from_alloc((AllocError)-1), _API_ERROR_INVALID);
}

static void test_partition_failure_names(void **state)
{
	assert_string_equal(api_error_to_string(api_error_from_partition_result(-ENODEV)),
			    "io.libvfio.Partitions.DeviceVanished");
	assert_string_equal(api_error_to_string(api_error_from_partition_result(-EIO)),
			    "io.libvfio.Partitions.Failed");
	assert_string_equal(api_error_to_string(api_error_from_partition_result(-EBUSY)),
			    "io.libvfio.Partitions.Failed");
}

static void test_vm_failure_names(void **state)
{
	static const struct {
		VmFailure failure;
		const char *name;
	} cases[] = {
		{ VM_FAIL_NO_SUCH_VM, "io.libvfio.VMs.NoSuchVM" },
		{ VM_FAIL_INVALID_DEFINITION, "io.libvfio.VMs.InvalidDefinition" },
		{ VM_FAIL_EXISTS, "io.libvfio.VMs.VMExists" },
		{ VM_FAIL_WRONG_STATE, "io.libvfio.VMs.WrongState" },
		{ VM_FAIL_START, "io.libvfio.VMs.StartFailed" },
		{ VM_FAIL_INTERNAL, "io.libvfio.Manager.InternalError" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(
			api_error_to_string(api_error_from_vm_failure(cases[i].failure)),
			cases[i].name);
	/* Not errors of their own: success, and a partition's (see above). */
	assert_int_equal(api_error_from_vm_failure(VM_OK), _API_ERROR_INVALID);
	assert_int_equal(api_error_from_vm_failure(VM_FAIL_PARTITION), _API_ERROR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_name_declared_once),
		cmocka_unit_test(test_alloc_error_names),
		cmocka_unit_test(test_partition_failure_names),
		cmocka_unit_test(test_vm_failure_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
