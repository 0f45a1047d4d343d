/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The definitions `vfioctl create` writes: each OS's text is a valid
 * definition with that OS's defaults, the installer and the drivers ISO are
 * attached, and no path, however strange, can add a key.
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
#include "strv.h"
#include "vm_definition.h"
#include "vm_template.h"

/* The template's text, loaded as any definition is; fails the test when invalid. */
static void load(const VmTemplate *t, VmDefinition *ret, char **ret_text)
{
	_cleanup_free_ char *text = NULL, *error = NULL;

	assert_int_equal(vm_template_text(t, &text), 0);
	int r = vm_definition_load_string(text, strlen(text), "<template>", ret, &error);
	if (r < 0)
		fail_msg("%s\n%s", error, text);
	if (ret_text)
		*ret_text = TAKE_PTR(text);
}

static void test_windows11(void **state)
{
	VmTemplate t = { .name = "win11",
			 .os = VM_TEMPLATE_WINDOWS11,
			 .iso = "/iso/Win11.iso",
			 .disk = "/var/lib/libvfio/disks/win11.qcow2" };
	VmDefinition d;

	load(&t, &d, NULL);
	assert_string_equal(d.name, "win11");
	assert_int_equal(d.memory, UINT64_C(8) << 30);
	assert_int_equal(vm_definition_cpus(&d), 4);
	assert_int_equal(d.firmware, VM_FIRMWARE_UEFI);
	assert_true(d.secure_boot);
	assert_true(d.tpm);
	assert_true(d.windows);
	assert_true(d.hyperv);
	assert_false(d.hide_hypervisor);
	assert_int_equal(d.n_disks, 1);
	assert_string_equal(d.disks[0].path, "/var/lib/libvfio/disks/win11.qcow2");
	assert_string_equal(d.disks[0].format, "qcow2");
	/* The installer has no virtio driver: SATA and e1000e, which it knows. */
	assert_int_equal(d.disks[0].bus, VM_DISK_SATA);
	assert_string_equal(d.nic_model, "e1000e");
	assert_int_equal(strv_length(d.cdroms), 1);
	assert_string_equal(d.cdroms[0], "/iso/Win11.iso");
	assert_int_equal(d.boot, VM_BOOT_DISK);
	assert_int_equal(d.n_gpus, 0);
	assert_null(d.owner);
	assert_false(d.autostart);
	assert_int_equal(vm_template_defaults(VM_TEMPLATE_WINDOWS11).disk_size, UINT64_C(64) << 30);
	vm_definition_done(&d);
}

static void test_windows11_with_drivers(void **state)
{
	VmTemplate t = { .name = "win11",
			 .os = VM_TEMPLATE_WINDOWS11,
			 .iso = "/iso/Win11.iso",
			 .drivers_iso = "/iso/virtio-win.iso",
			 .disk = "/d/win11.qcow2",
			 .memory = UINT64_C(16) << 30,
			 .cpus = 8,
			 .gpu = "0000:00:02.0",
			 .owner = "alice" };
	VmDefinition d;

	load(&t, &d, NULL);
	assert_int_equal(d.memory, UINT64_C(16) << 30);
	assert_int_equal(vm_definition_cpus(&d), 8);
	assert_int_equal(d.disks[0].bus, VM_DISK_VIRTIO);
	assert_string_equal(d.nic_model, "virtio-net-pci");
	assert_int_equal(strv_length(d.cdroms), 2);
	assert_string_equal(d.cdroms[0], "/iso/Win11.iso");
	assert_string_equal(d.cdroms[1], "/iso/virtio-win.iso");
	assert_int_equal(d.n_gpus, 1);
	assert_int_equal(d.gpus[0].mode, VM_GPU_AUTO);
	assert_true(d.gpus[0].has_address);
	assert_string_equal(d.owner, "alice");
	vm_definition_done(&d);
}

static void test_windows10(void **state)
{
	VmTemplate t = {
		.name = "win10", .os = VM_TEMPLATE_WINDOWS10, .iso = "/i.iso", .disk = "/d.qcow2"
	};
	VmDefinition d;

	load(&t, &d, NULL);
	assert_int_equal(d.memory, UINT64_C(4) << 30);
	assert_true(d.secure_boot);
	assert_false(d.tpm);
	assert_true(d.windows);
	assert_true(d.hyperv);
	assert_int_equal(d.disks[0].bus, VM_DISK_SATA);
	vm_definition_done(&d);
}

static void test_linux(void **state)
{
	VmTemplate t = {
		.name = "t", .os = VM_TEMPLATE_LINUX, .iso = "/i.iso", .disk = "/d.qcow2"
	};
	VmDefinition d;

	load(&t, &d, NULL);
	assert_int_equal(d.memory, UINT64_C(2) << 30);
	assert_int_equal(vm_definition_cpus(&d), 2);
	assert_int_equal(d.firmware, VM_FIRMWARE_UEFI);
	assert_false(d.secure_boot);
	assert_false(d.tpm);
	assert_false(d.windows);
	assert_int_equal(d.disks[0].bus, VM_DISK_VIRTIO);
	assert_string_equal(d.nic_model, "virtio-net-pci");
	assert_int_equal(vm_template_defaults(VM_TEMPLATE_LINUX).disk_size, UINT64_C(20) << 30);
	vm_definition_done(&d);
}

/* Quotes, backslashes, a newline and YAML's own syntax in a path stay in that path. */
static void test_paths_cannot_add_keys(void **state)
{
	const char *iso = "/iso/a\"b\\c\nautostart: true #: [x]";
	VmTemplate t = { .name = "t", .os = VM_TEMPLATE_LINUX, .iso = iso, .disk = "/d\".qcow2" };
	VmDefinition d;

	load(&t, &d, NULL);
	assert_string_equal(d.cdroms[0], iso);
	assert_string_equal(d.disks[0].path, "/d\".qcow2");
	assert_false(d.autostart);
	vm_definition_done(&d);
}

static void test_os_names(void **state)
{
	assert_int_equal(vm_template_os_from_string("windows11"), VM_TEMPLATE_WINDOWS11);
	assert_int_equal(vm_template_os_from_string("windows10"), VM_TEMPLATE_WINDOWS10);
	assert_int_equal(vm_template_os_from_string("linux"), VM_TEMPLATE_LINUX);
	assert_int_equal(vm_template_os_from_string("windows"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_windows11),
		cmocka_unit_test(test_windows11_with_drivers),
		cmocka_unit_test(test_windows10),
		cmocka_unit_test(test_linux),
		cmocka_unit_test(test_paths_cannot_add_keys),
		cmocka_unit_test(test_os_names),
	};

	return cmocka_run_group_tests_name("vm-template", tests, NULL, NULL);
}
