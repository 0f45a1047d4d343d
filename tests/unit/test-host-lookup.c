/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Lookups in a host model (host.h): a function by its address, and the
 * functions of one slot, found in the sorted array whatever its neighbours.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "host_builder.h"
#include "pci_address.h"

static HostModel *lookup_model(void)
{
	HostModel *model = model_new();

	/* Added out of order: model_finish() sorts, as discovery leaves them. */
	model_add_function(model, "0000:03:00.0", VENDOR_AMD, CLASS_VGA, "amdgpu");
	model_add_function(model, "0000:00:02.0", VENDOR_INTEL, CLASS_VGA, "i915");
	model_add_function(model, "0000:03:00.1", VENDOR_AMD, CLASS_AUDIO, NULL);
	model_add_function(model, "0000:00:1f.3", VENDOR_INTEL, CLASS_AUDIO, NULL);
	model_add_function(model, "0001:03:00.0", VENDOR_NVIDIA, CLASS_VGA, "nvidia");
	model_add_function(model, "0000:03:01.0", VENDOR_AMD, CLASS_ETHERNET, NULL);
	model_add_function(model, "0000:02:00.0", VENDOR_INTEL, CLASS_PCI_BRIDGE, "pcieport");
	model_add_function(model, "0000:03:00.7", VENDOR_AMD, CLASS_3D, NULL);
	model_finish(model);
	return model;
}

static PciAddress address(const char *text)
{
	PciAddress a;
	assert_int_equal(pci_address_parse(text, &a), 0);
	return a;
}

static void test_find_function(void **state)
{
	const HostModel *model = lookup_model();
	static const char *const present[] = { "0000:00:02.0", "0000:00:1f.3", "0000:02:00.0",
					       "0000:03:00.0", "0000:03:00.1", "0000:03:00.7",
					       "0000:03:01.0", "0001:03:00.0" };
	static const char *const absent[] = { "0000:00:00.0", "0000:03:00.2", "0000:04:00.0",
					      "0001:03:00.1", "0002:00:00.0", "ffff:ff:1f.7" };

	for (size_t i = 0; i < sizeof(present) / sizeof(present[0]); i++) {
		PciAddress a = address(present[i]);
		const PciFunction *f = host_find_function(model, &a);
		assert_non_null(f);
		assert_string_equal(f->address_text, present[i]);
	}
	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
		PciAddress a = address(absent[i]);
		assert_null(host_find_function(model, &a));
	}

	HostModel *empty = model_new();
	PciAddress a = address("0000:00:02.0");
	assert_null(host_find_function(empty, &a));
}

static void test_find_slot(void **state)
{
	const HostModel *model = lookup_model();
	size_t n = 99;

	/* Any function of the slot finds all of it, from function 0 on. */
	PciAddress a = address("0000:03:00.7");
	const PciFunction *slot = host_find_slot(model, &a, &n);
	assert_int_equal(n, 3);
	assert_string_equal(slot[0].address_text, "0000:03:00.0");
	assert_string_equal(slot[1].address_text, "0000:03:00.1");
	assert_string_equal(slot[2].address_text, "0000:03:00.7");

	/* Not the next device on the bus, nor the same slot in another domain. */
	a = address("0000:03:01.4");
	slot = host_find_slot(model, &a, &n);
	assert_int_equal(n, 1);
	assert_string_equal(slot[0].address_text, "0000:03:01.0");
	a = address("0001:03:00.0");
	slot = host_find_slot(model, &a, &n);
	assert_int_equal(n, 1);
	assert_string_equal(slot[0].address_text, "0001:03:00.0");

	/* The first and the last of the array. */
	a = address("0000:00:02.0");
	assert_non_null(host_find_slot(model, &a, &n));
	assert_int_equal(n, 1);

	a = address("0000:05:00.0");
	assert_null(host_find_slot(model, &a, &n));
	assert_int_equal(n, 0);
	a = address("0002:00:00.0");
	assert_null(host_find_slot(model, &a, &n));
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_find_function, models_teardown),
		cmocka_unit_test_teardown(test_find_slot, models_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
