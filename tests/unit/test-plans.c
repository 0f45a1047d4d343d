/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of the partition plans (vfio_bind.c, mdev.c, sriov.c): the exact
 * sysfs writes, in the order the kernel needs them, and every refusal.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host/mdev.h"
#include "host/sriov.h"
#include "host/vfio_bind.h"
#include "host_builder.h"
#include "parse_util.h"

#define UUID "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"

static void test_bind_a_bound_device(void **state)
{
	HostModel *model = model_new();
	PciFunction *gpu =
		model_add_function(model, "0000:01:00.0", VENDOR_NVIDIA, CLASS_VGA, "nvidia");
	SysfsPlan plan;

	assert_int_equal(vfio_bind_plan(gpu, &plan), 0);
	expect_plan(&plan, "sys/bus/pci/devices/0000:01:00.0/driver_override", "vfio-pci",
		    "sys/bus/pci/drivers/nvidia/unbind", "0000:01:00.0",
		    "sys/bus/pci/drivers_probe", "0000:01:00.0", NULL);
}

static void test_bind_an_unbound_device_and_an_already_bound_one(void **state)
{
	HostModel *model = model_new();
	PciFunction *vf = model_add_function(model, "0000:03:02.2", VENDOR_AMD, CLASS_VGA, NULL);
	SysfsPlan plan;

	assert_int_equal(vfio_bind_plan(vf, &plan), 0);
	expect_plan(&plan, "sys/bus/pci/devices/0000:03:02.2/driver_override", "vfio-pci",
		    "sys/bus/pci/drivers_probe", "0000:03:02.2", NULL);

	PciFunction *bound =
		model_add_function(model, "0000:03:02.0", VENDOR_AMD, CLASS_VGA, "vfio-pci");
	assert_int_equal(vfio_bind_plan(bound, &plan), -EALREADY);
}

static void test_driver_names_that_would_escape_a_path(void **state)
{
	HostModel *model = model_new();
	PciFunction *gpu =
		model_add_function(model, "0000:01:00.0", VENDOR_NVIDIA, CLASS_VGA, "..");
	SysfsPlan plan;

	assert_int_equal(vfio_bind_plan(gpu, &plan), -EINVAL);
	assert_false(sysfs_name_is_plain("."));
	assert_false(sysfs_name_is_plain(".hidden"));
	assert_false(sysfs_name_is_plain(""));
	assert_false(sysfs_name_is_plain("a/b"));
	assert_false(sysfs_name_is_plain("a b"));
	assert_true(sysfs_name_is_plain("snd_hda_intel"));
	assert_true(sysfs_name_is_plain("vfio-pci"));
}

static void test_restore(void **state)
{
	HostModel *model = model_new();
	PciFunction *gpu =
		model_add_function(model, "0000:01:00.0", VENDOR_NVIDIA, CLASS_VGA, "vfio-pci");
	SysfsPlan plan;

	/* No override before: cleared by an empty write, then its own driver probes it. */
	assert_int_equal(vfio_restore_plan(gpu, NULL, true, &plan), 0);
	expect_plan(&plan, "sys/bus/pci/devices/0000:01:00.0/driver_override", "\n",
		    "sys/bus/pci/drivers/vfio-pci/unbind", "0000:01:00.0",
		    "sys/bus/pci/drivers_probe", "0000:01:00.0", NULL);

	/* An override someone had set is put back as it was. */
	assert_int_equal(vfio_restore_plan(gpu, "snd_hda_intel", true, &plan), 0);
	assert_string_equal(plan.writes[0].value, "snd_hda_intel");
	assert_int_equal(vfio_restore_plan(gpu, "../x", true, &plan), -EINVAL);

	/* A device that had no driver (a VF made for the partition) is left without one. */
	assert_int_equal(vfio_restore_plan(gpu, NULL, false, &plan), 0);
	expect_plan(&plan, "sys/bus/pci/devices/0000:01:00.0/driver_override", "\n",
		    "sys/bus/pci/drivers/vfio-pci/unbind", "0000:01:00.0", NULL);
}

static void test_mdev_plans(void **state)
{
	HostModel *model = model_new();
	PciFunction *gpu =
		model_add_function(model, "0000:00:02.0", VENDOR_INTEL, CLASS_VGA, "i915");
	MdevType type = { .id = (char *)"i915-GVTg_V5_4" };
	MdevType odd = { .id = (char *)"../../x" };
	SysfsPlan plan;

	assert_int_equal(mdev_create_plan(gpu->address_text, &type, UUID, &plan), 0);
	expect_plan(&plan,
		    "sys/bus/pci/devices/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_4/create",
		    UUID, NULL);
	assert_int_equal(mdev_create_plan(gpu->address_text, &type, "not-a-uuid", &plan), -EINVAL);
	assert_int_equal(mdev_create_plan(gpu->address_text, &odd, UUID, &plan), -EINVAL);
	/* A parent outside PCI is written to through its mdev_bus class link. */
	assert_int_equal(mdev_create_plan("mbochs", &type, UUID, &plan), 0);
	expect_plan(&plan, "sys/class/mdev_bus/mbochs/mdev_supported_types/i915-GVTg_V5_4/create",
		    UUID, NULL);
	assert_int_equal(mdev_create_plan("../x", &type, UUID, &plan), -EINVAL);

	assert_int_equal(mdev_remove_plan(UUID, &plan), 0);
	expect_plan(&plan, "sys/bus/mdev/devices/" UUID "/remove", "1", NULL);
	assert_int_equal(mdev_remove_plan("../../../remove", &plan), -EINVAL);
}

static PciFunction *sriov_pf(HostModel *model, const char *driver, int total, int num,
			     int autoprobe)
{
	PciFunction *pf = model_add_function(model, "0000:03:00.0", VENDOR_AMD, CLASS_VGA, driver);
	function_set_sriov(pf, total, num);
	pf->sriov_autoprobe = autoprobe;
	return pf;
}

static void test_enable_vfs(void **state)
{
	HostModel *model = model_new();
	PciFunction *pf = sriov_pf(model, "gim", 16, 0, 1);
	SysfsPlan plan;
	int off;

	/* Autoprobe off first, and the value it had said, for the caller to record. */
	assert_int_equal(sriov_set_count_plan(pf, 4, 0, -1, &plan, &off), SRIOV_OK);
	expect_plan(&plan, "sys/bus/pci/devices/0000:03:00.0/sriov_drivers_autoprobe", "0",
		    "sys/bus/pci/devices/0000:03:00.0/sriov_numvfs", "4", NULL);
	assert_int_equal(off, 1);

	/* Autoprobe already off: only the count, and nothing to record. */
	pf->sriov_autoprobe = 0;
	assert_int_equal(sriov_set_count_plan(pf, 4, 0, -1, &plan, &off), SRIOV_OK);
	expect_plan(&plan, "sys/bus/pci/devices/0000:03:00.0/sriov_numvfs", "4", NULL);
	assert_int_equal(off, -1);

	/* Unreadable: turned off all the same, but there is no value to record. */
	pf->sriov_autoprobe = -1;
	assert_int_equal(sriov_set_count_plan(pf, 4, 0, -1, &plan, &off), SRIOV_OK);
	expect_plan(&plan, "sys/bus/pci/devices/0000:03:00.0/sriov_drivers_autoprobe", "0",
		    "sys/bus/pci/devices/0000:03:00.0/sriov_numvfs", "4", NULL);
	assert_int_equal(off, -1);
}

static void test_change_count_goes_through_zero(void **state)
{
	HostModel *model = model_new();
	PciFunction *pf = sriov_pf(model, "gim", 16, 4, 0);
	SysfsPlan plan;
	int off;

	assert_int_equal(sriov_set_count_plan(pf, 8, 0, -1, &plan, &off), SRIOV_OK);
	expect_plan(&plan, "sys/bus/pci/devices/0000:03:00.0/sriov_numvfs", "0",
		    "sys/bus/pci/devices/0000:03:00.0/sriov_numvfs", "8", NULL);
	assert_int_equal(off, -1);
	assert_int_equal(sriov_set_count_plan(pf, 0, 0, -1, &plan, &off), SRIOV_OK);
	expect_plan(&plan, "sys/bus/pci/devices/0000:03:00.0/sriov_numvfs", "0", NULL);
	assert_int_equal(sriov_set_count_plan(pf, 4, 0, -1, &plan, &off), SRIOV_OK);
	assert_int_equal(plan.n_writes, 0); /* already so */
}

/* The VFs go, and with them the reason autoprobe was off: the recorded value comes back. */
static void test_no_vfs_puts_autoprobe_back(void **state)
{
	HostModel *model = model_new();
	PciFunction *pf = sriov_pf(model, "gim", 16, 4, 0);
	SysfsPlan plan;
	int off;

	assert_int_equal(sriov_set_count_plan(pf, 0, 0, 1, &plan, &off), SRIOV_OK);
	expect_plan(&plan, "sys/bus/pci/devices/0000:03:00.0/sriov_numvfs", "0",
		    "sys/bus/pci/devices/0000:03:00.0/sriov_drivers_autoprobe", "1", NULL);
	assert_int_equal(off, -1);

	/* Recorded 0 (the administrator's own): nothing to put back. */
	assert_int_equal(sriov_set_count_plan(pf, 0, 0, 0, &plan, &off), SRIOV_OK);
	expect_plan(&plan, "sys/bus/pci/devices/0000:03:00.0/sriov_numvfs", "0", NULL);

	/* Another count keeps autoprobe off: new VFs come up without a host driver. */
	assert_int_equal(sriov_set_count_plan(pf, 2, 0, 1, &plan, &off), SRIOV_OK);
	expect_plan(&plan, "sys/bus/pci/devices/0000:03:00.0/sriov_numvfs", "0",
		    "sys/bus/pci/devices/0000:03:00.0/sriov_numvfs", "2", NULL);

	/* No VFs already (a daemon died after the count), even without a PF driver. */
	pf->sriov_num_vfs = 0;
	free(pf->driver);
	pf->driver = NULL;
	assert_int_equal(sriov_set_count_plan(pf, 0, 0, 1, &plan, &off), SRIOV_OK);
	expect_plan(&plan, "sys/bus/pci/devices/0000:03:00.0/sriov_drivers_autoprobe", "1", NULL);
	pf->sriov_autoprobe = 1;
	assert_int_equal(sriov_set_count_plan(pf, 0, 0, 1, &plan, &off), SRIOV_OK);
	assert_int_equal(plan.n_writes, 0);
}

static void test_sriov_refusals(void **state)
{
	HostModel *model = model_new();
	PciFunction *busy = sriov_pf(model, "gim", 16, 4, 0);
	SysfsPlan plan;
	int off;

	assert_int_equal(sriov_set_count_plan(busy, 8, 1, -1, &plan, &off), SRIOV_VFS_IN_USE);
	assert_int_equal(sriov_set_count_plan(busy, 0, 2, -1, &plan, &off), SRIOV_VFS_IN_USE);
	assert_int_equal(sriov_set_count_plan(busy, 17, 0, -1, &plan, &off), SRIOV_TOO_MANY);

	HostModel *other = model_new();
	PciFunction *driverless = sriov_pf(other, NULL, 16, 0, 1);
	assert_int_equal(sriov_set_count_plan(driverless, 4, 0, -1, &plan, &off),
			 SRIOV_NO_PF_DRIVER);

	HostModel *third = model_new();
	PciFunction *plain =
		model_add_function(third, "0000:01:00.0", VENDOR_NVIDIA, CLASS_VGA, "nvidia");
	assert_int_equal(sriov_set_count_plan(plain, 1, 0, -1, &plan, &off), SRIOV_NOT_CAPABLE);
}

static void test_sriov_restore(void **state)
{
	HostModel *model = model_new();
	PciFunction *pf = sriov_pf(model, "gim", 16, 4, 0);
	SysfsPlan plan;

	/* Back to no VFs and autoprobe on. */
	assert_int_equal(sriov_restore_plan(pf, 0, 1, &plan), 0);
	expect_plan(&plan, "sys/bus/pci/devices/0000:03:00.0/sriov_numvfs", "0",
		    "sys/bus/pci/devices/0000:03:00.0/sriov_drivers_autoprobe", "1", NULL);

	/* Back to 2 VFs: autoprobe first, so the VFs come back with their driver. */
	assert_int_equal(sriov_restore_plan(pf, 2, 1, &plan), 0);
	expect_plan(&plan, "sys/bus/pci/devices/0000:03:00.0/sriov_numvfs", "0",
		    "sys/bus/pci/devices/0000:03:00.0/sriov_drivers_autoprobe", "1",
		    "sys/bus/pci/devices/0000:03:00.0/sriov_numvfs", "2", NULL);

	/* Already as before: nothing. */
	assert_int_equal(sriov_restore_plan(pf, 4, 0, &plan), 0);
	assert_int_equal(plan.n_writes, 0);
}

static void test_plan_limits(void **state)
{
	SysfsPlan plan = { 0 };
	char long_value[80];

	memset(long_value, 'x', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';
	assert_int_equal(sysfs_plan_add(&plan, long_value, "a"), -ENAMETOOLONG);
	for (int i = 0; i < SYSFS_PLAN_MAX; i++)
		assert_int_equal(sysfs_plan_add(&plan, "1", "path/%d", i), 0);
	assert_int_equal(sysfs_plan_add(&plan, "1", "one/too/many"), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_bind_a_bound_device, models_teardown),
		cmocka_unit_test_teardown(test_bind_an_unbound_device_and_an_already_bound_one,
					  models_teardown),
		cmocka_unit_test_teardown(test_driver_names_that_would_escape_a_path,
					  models_teardown),
		cmocka_unit_test_teardown(test_restore, models_teardown),
		cmocka_unit_test_teardown(test_mdev_plans, models_teardown),
		cmocka_unit_test_teardown(test_enable_vfs, models_teardown),
		cmocka_unit_test_teardown(test_change_count_goes_through_zero, models_teardown),
		cmocka_unit_test_teardown(test_no_vfs_puts_autoprobe_back, models_teardown),
		cmocka_unit_test_teardown(test_sriov_refusals, models_teardown),
		cmocka_unit_test_teardown(test_sriov_restore, models_teardown),
		cmocka_unit_test(test_plan_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
