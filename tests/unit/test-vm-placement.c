/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of daemon/vm_placement.c: CPU lists as the kernel writes them, the
 * node a VM is placed on (its own setting, or its GPU's), and which host CPU
 * each vCPU is pinned to.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "host_builder.h"
#include "vm/vm_placement.h"

static void test_cpulist(void **state)
{
	(void)state;
	cpu_set_t set;

	assert_int_equal(cpulist_parse("0-3,8,10-11\n", &set), 0);
	assert_int_equal(CPU_COUNT(&set), 7);
	assert_true(CPU_ISSET(8, &set));
	assert_false(CPU_ISSET(9, &set));
	assert_int_equal(cpulist_parse("", &set), 0);
	assert_int_equal(CPU_COUNT(&set), 0);
	assert_int_equal(cpulist_parse("3-1", &set), -EINVAL);
	assert_int_equal(cpulist_parse("1,,2", &set), -EINVAL);
	assert_int_equal(cpulist_parse("a", &set), -EINVAL);
	assert_int_equal(cpulist_parse("0-99999", &set), -EINVAL);
}

static VmDefinition load(const char *text)
{
	VmDefinition d;
	char *error = NULL;
	assert_int_equal(vm_definition_load_string(text, strlen(text), "t", &d, &error), 0);
	return d;
}

static void test_node(void **state)
{
	(void)state;
	HostModel *model = model_new();
	PciFunction *gpu = model_add_function(model, "0000:86:00.0", 0x1002, 0x030000, "amdgpu");
	gpu->numa_node = 1;
	PciAddress address = gpu->address;
	model_finish(model);

	VmDefinition d = load("name: a\nmemory: 1G\n");
	assert_int_equal(vm_placement_node(&d, model, &address, 1), 1);
	assert_int_equal(vm_placement_node(&d, model, NULL, 0), -1);
	vm_definition_done(&d);
	d = load("name: a\nmemory: 1G\nnuma: 0\n");
	assert_int_equal(vm_placement_node(&d, model, &address, 1), 0);
	vm_definition_done(&d);
	d = load("name: a\nmemory: 1G\nnuma: off\n");
	assert_int_equal(vm_placement_node(&d, model, &address, 1), -1);
	vm_definition_done(&d);
}

static void test_vcpus(void **state)
{
	(void)state;
	cpu_set_t node, host;
	int cpus[4];

	assert_int_equal(cpulist_parse("4-5", &node), 0);
	assert_int_equal(cpulist_parse("0-7", &host), 0);

	/* automatic: the node's CPUs in turn */
	VmDefinition d = load("name: a\nmemory: 1G\ncpus: 3\n");
	assert_int_equal(vm_placement_vcpus(&d, &node, &host, cpus), 1);
	assert_int_equal(cpus[0], 4);
	assert_int_equal(cpus[1], 5);
	assert_int_equal(cpus[2], 4);
	/* no node: nothing to pin to */
	assert_int_equal(vm_placement_vcpus(&d, NULL, &host, cpus), 0);
	vm_definition_done(&d);

	d = load("name: a\nmemory: 1G\ncpus: 2\ncpu-pinning: [7, 2]\n");
	assert_int_equal(vm_placement_vcpus(&d, NULL, &host, cpus), 1);
	assert_int_equal(cpus[0], 7);
	assert_int_equal(cpus[1], 2);
	vm_definition_done(&d);

	d = load("name: a\nmemory: 1G\ncpus: 2\ncpu-pinning: [7, 12]\n");
	assert_int_equal(vm_placement_vcpus(&d, NULL, &host, cpus), -EINVAL);
	vm_definition_done(&d);

	d = load("name: a\nmemory: 1G\ncpus: 2\ncpu-pinning: off\n");
	assert_int_equal(vm_placement_vcpus(&d, &node, &host, cpus), 0);
	vm_definition_done(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpulist),
		cmocka_unit_test_teardown(test_node, models_teardown),
		cmocka_unit_test(test_vcpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
