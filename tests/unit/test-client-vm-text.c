/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How vfioctl writes a VM for people: uptimes in their two largest units, the
 * progress line of each Start phase (and of a phase from a newer daemon), the
 * one-line state of a VM object, its partitions, and the colour of a state.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json_util.h"
#include "macro.h"
#include "vm_text.h"

static void assert_uptime(int64_t seconds, const char *expected)
{
	char buf[32];

	assert_ptr_equal(format_uptime(buf, sizeof(buf), seconds), buf);
	assert_string_equal(buf, expected);
}

static void test_uptime(void **state)
{
	assert_uptime(0, "0s");
	assert_uptime(59, "59s");
	assert_uptime(60, "1m 0s");
	assert_uptime(192, "3m 12s");
	assert_uptime(3599, "59m 59s");
	assert_uptime(3600, "1h 0m");
	/* The smaller unit is cut, never rounded up into a time not yet reached. */
	assert_uptime(7199, "1h 59m");
	assert_uptime(7500, "2h 5m");
	assert_uptime(86399, "23h 59m");
	assert_uptime(86400, "1d 0h");
	assert_uptime(3 * 86400 + 4 * 3600 + 59 * 60, "3d 4h");
	assert_uptime(400 * 86400, "400d 0h");
	assert_uptime(-1, "-");
}

static void test_uptime_small_buffer(void **state)
{
	char buf[5] = "xxxx";

	format_uptime(buf, sizeof(buf), 3 * 86400 + 4 * 3600);
	assert_string_equal(buf, "3d 4");
}

static void test_phases(void **state)
{
	static const char *const phases[] = {
		"allocating", "hugepages", "spawning", "connecting", "pinning", "running",
	};
	unsigned step = 99;

	assert_int_equal(ELEMENTSOF(phases), VM_START_PHASES);
	for (size_t i = 0; i < ELEMENTSOF(phases); i++) {
		assert_non_null(vm_start_phase_description(phases[i], &step));
		assert_int_equal(step, i + 1);
	}
	assert_string_equal(vm_start_phase_description("spawning", &step), "starting QEMU");
	assert_null(vm_start_phase_description("warming-up", &step));
	assert_int_equal(step, 0);
	step = 99;
	assert_null(vm_start_phase_description(NULL, &step));
	assert_int_equal(step, 0);
}

static void assert_progress(const char *phase, const char *expected)
{
	char buf[128];

	assert_ptr_equal(vm_start_progress_text(buf, sizeof(buf), "gaming-vm", phase), buf);
	assert_string_equal(buf, expected);
}

static void test_progress_text(void **state)
{
	assert_progress("allocating", "Starting gaming-vm: allocating the GPU partitions (1/6)...");
	assert_progress("hugepages", "Starting gaming-vm: preparing its memory (2/6)...");
	assert_progress("spawning", "Starting gaming-vm: starting QEMU (3/6)...");
	assert_progress("connecting", "Starting gaming-vm: connecting to QEMU (4/6)...");
	assert_progress("pinning", "Starting gaming-vm: placing the vCPUs (5/6)...");
	assert_progress("running", "Starting gaming-vm: starting the guest (6/6)...");
	/* A newer daemon's phase is shown as it is when it is a plain word... */
	assert_progress("warming-up", "Starting gaming-vm: warming-up...");
	/* ...and never when it could move the cursor or clear the screen. */
	assert_progress("\033[2J", "Starting gaming-vm...");
	assert_progress("Spawning QEMU", "Starting gaming-vm...");
	assert_progress("", "Starting gaming-vm...");
	assert_progress(NULL, "Starting gaming-vm...");
}

/* A VM object as the daemon sends it; pid < 0 and NULL strings are left out. */
static json_object *new_vm(const char *name, const char *state, int64_t pid, const char *problem)
{
	json_object *vm = json_object_new_object();

	assert_non_null(vm);
	if (name)
		assert_int_equal(json_add_string(vm, "name", name), 0);
	if (state)
		assert_int_equal(json_add_string(vm, "state", state), 0);
	if (pid >= 0)
		assert_int_equal(json_add_int(vm, "pid", pid), 0);
	if (problem)
		assert_int_equal(json_add_string(vm, "problem", problem), 0);
	return vm;
}

static void assert_state_text(json_object *vm, const char *expected)
{
	char buf[256];

	assert_ptr_equal(vm_state_text(buf, sizeof(buf), vm), buf);
	assert_string_equal(buf, expected);
	json_object_put(vm);
}

static void test_state_text(void **state)
{
	assert_state_text(new_vm("gaming-vm", "running", 4242, NULL),
			  "gaming-vm is running (pid 4242)");
	assert_state_text(new_vm("gaming-vm", "paused", 4242, NULL),
			  "gaming-vm is paused (pid 4242)");
	assert_state_text(new_vm("gaming-vm", "stopped", -1, NULL), "gaming-vm is stopped");
	assert_state_text(new_vm("gaming-vm", "stopped", -1, "the guest powered off"),
			  "gaming-vm is stopped: the guest powered off");
	assert_state_text(new_vm("gaming-vm", "crashed", -1, "QEMU exited with status 1"),
			  "gaming-vm crashed: QEMU exited with status 1");
	assert_state_text(new_vm("gaming-vm", "crashed", -1, NULL), "gaming-vm crashed");
	assert_state_text(new_vm("gaming-vm", "failed", -1, "No such GPU 0000:7f:1f.7."),
			  "gaming-vm failed to start: No such GPU 0000:7f:1f.7.");
	assert_state_text(new_vm("gaming-vm", "defined", -1, NULL), "gaming-vm is defined");
	/* While it runs, the problem of an earlier start is no longer news. */
	assert_state_text(new_vm("gaming-vm", "running", 7, "QEMU exited with status 1"),
			  "gaming-vm is running (pid 7)");
	/* Whatever a daemon leaves out, the line still reads. */
	assert_state_text(new_vm(NULL, NULL, -1, NULL), "? is in an unknown state");
	assert_state_text(NULL, "? is in an unknown state");
}

static void test_state_text_small_buffer(void **state)
{
	json_object *vm = new_vm("gaming-vm", "crashed", -1, "QEMU exited with status 1");
	char small[12], exact[sizeof("gaming-vm crashed")], more[sizeof("gaming-vm crashed: QE")];

	/* Cut where the buffer ends, whether in the state or in the problem. */
	vm_state_text(small, sizeof(small), vm);
	assert_string_equal(small, "gaming-vm c");
	vm_state_text(exact, sizeof(exact), vm);
	assert_string_equal(exact, "gaming-vm crashed");
	vm_state_text(more, sizeof(more), vm);
	assert_string_equal(more, "gaming-vm crashed: QE");
	json_object_put(vm);
}

static void assert_partitions(json_object *vm, const char *expected)
{
	char *text = vm_partitions_text(vm);

	assert_non_null(text);
	assert_string_equal(text, expected);
	free(text);
}

static void test_partitions_text(void **state)
{
	json_object *vm = json_object_new_object();
	json_object *list = json_object_new_array();

	assert_partitions(vm, "-");
	assert_non_null(list);
	json_object_object_add(vm, "partitions", list);
	assert_partitions(vm, "-");
	json_object_array_add(list, json_object_new_string("mdev-040dea981617"));
	assert_partitions(vm, "mdev-040dea981617");
	json_object_array_add(list, json_object_new_string("sriov-0000:03:02.1"));
	assert_partitions(vm, "mdev-040dea981617, sriov-0000:03:02.1");
	/* What is not a partition id is left out. */
	json_object_array_add(list, json_object_new_int(5));
	json_object_array_add(list, json_object_new_string(""));
	json_object_array_add(list, NULL);
	assert_partitions(vm, "mdev-040dea981617, sriov-0000:03:02.1");
	/* ...before the first id too: no separator leads. */
	list = json_object_new_array();
	assert_non_null(list);
	json_object_array_add(list, json_object_new_string(""));
	json_object_array_add(list, json_object_new_int(5));
	json_object_array_add(list, json_object_new_string("passthrough-0000:01:00.0"));
	json_object_object_add(vm, "partitions", list);
	assert_partitions(vm, "passthrough-0000:01:00.0");
	json_object_put(vm);
	assert_partitions(NULL, "-");
}

static const char *hugepages_of(const char *json, char *buf, size_t size)
{
	json_object *vm = json_tokener_parse(json);
	assert_non_null(vm);
	const char *text = vm_hugepages_text(buf, size, vm);
	json_object_put(vm);
	return text;
}

static void test_hugepages_text(void **state)
{
	char buf[160];
	(void)state;

	assert_string_equal(
		hugepages_of(
			"{\"hugepages\": {\"sizeKiB\": 2048, \"node\": 0, \"pagesAdded\": 512, "
			"\"poolBefore\": 8}}",
			buf, sizeof(buf)),
		"512 2 MiB pages added to node 0's pool (given back when it ends)");
	assert_string_equal(hugepages_of("{\"hugepages\": {\"sizeKiB\": 1048576, \"node\": null, "
					 "\"pagesAdded\": 4, \"poolBefore\": 0}}",
					 buf, sizeof(buf)),
			    "4 1 GiB pages added to the system's pool (given back when it ends)");
	/* none, or nonsense: nothing to say */
	assert_null(hugepages_of("{\"hugepages\": null}", buf, sizeof(buf)));
	assert_null(hugepages_of("{}", buf, sizeof(buf)));
	assert_null(hugepages_of("{\"hugepages\": {\"sizeKiB\": -2, \"pagesAdded\": 5}}", buf,
				 sizeof(buf)));
	assert_null(hugepages_of("{\"hugepages\": {\"sizeKiB\": 2048, \"pagesAdded\": 0}}", buf,
				 sizeof(buf)));
	assert_null(hugepages_of("{\"hugepages\": [1]}", buf, sizeof(buf)));
}

static void test_state_colour(void **state)
{
	assert_int_equal(vm_state_colour("running"), COLOUR_GREEN);
	assert_int_equal(vm_state_colour("starting"), COLOUR_YELLOW);
	assert_int_equal(vm_state_colour("paused"), COLOUR_YELLOW);
	assert_int_equal(vm_state_colour("stopping"), COLOUR_YELLOW);
	assert_int_equal(vm_state_colour("crashed"), COLOUR_RED);
	assert_int_equal(vm_state_colour("failed"), COLOUR_RED);
	/* Ended: no QEMU; with a reason to show when it has one */
	assert_true(vm_state_is_ended("failed") && vm_state_has_reason("failed"));
	assert_true(vm_state_is_ended("defined") && !vm_state_has_reason("defined"));
	assert_true(!vm_state_is_ended("stopping") && !vm_state_has_reason("running"));
	assert_int_equal(vm_state_colour("stopped"), _COLOUR_MAX);
	assert_int_equal(vm_state_colour("defined"), _COLOUR_MAX);
	assert_int_equal(vm_state_colour("Running"), _COLOUR_MAX);
	assert_int_equal(vm_state_colour(NULL), _COLOUR_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uptime),
		cmocka_unit_test(test_hugepages_text),
		cmocka_unit_test(test_uptime_small_buffer),
		cmocka_unit_test(test_phases),
		cmocka_unit_test(test_progress_text),
		cmocka_unit_test(test_state_text),
		cmocka_unit_test(test_state_text_small_buffer),
		cmocka_unit_test(test_partitions_text),
		cmocka_unit_test(test_state_colour),
	};

	return cmocka_run_group_tests_name("client-vm-text", tests, NULL, NULL);
}
