/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of daemon/partition_record.c: records survive the round trip through
 * JSON and the disk exactly, saving replaces a record whole, and a damaged,
 * foreign or half-written file is reported and skipped, never trusted.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "json_util.h"
#include "macro.h"
#include "partitions/partition_record.h"
#include "strv.h"
#include "tmpdir.h"

static PciAddress address(const char *text)
{
	PciAddress a;
	assert_int_equal(pci_address_parse(text, &a), 0);
	return a;
}

/* A passthrough of a GPU and its audio function, half way through. */
static void make_record(PartitionRecord *record)
{
	*record = (PartitionRecord){ .mode = PARTITION_PASSTHROUGH,
				     .gpu = address("0000:01:00.0"),
				     .holder_pid = 4242,
				     .holder_start_time = 123456789 };
	strcpy(record->id, "passthrough-0000:01:00.0");
	record->holder = strdup("vm:gaming-vm");
	assert_non_null(record->holder);

	RecordStep gpu = { .kind = STEP_BIND_VFIO,
			   .device = address("0000:01:00.0"),
			   .driver_before = (char *)"nvidia" };
	RecordStep audio = { .kind = STEP_BIND_VFIO,
			     .device = address("0000:01:00.1"),
			     .driver_before = (char *)"snd_hda_intel",
			     .override_before = (char *)"snd_hda_intel" };
	assert_int_equal(partition_record_add_step(record, &gpu), 0);
	assert_int_equal(partition_record_add_step(record, &audio), 1);
	record->steps[0].state = STEP_DONE;
}

static void expect_same(const PartitionRecord *a, const PartitionRecord *b)
{
	assert_string_equal(a->id, b->id);
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(pci_address_compare(&a->gpu, &b->gpu), 0);
	assert_string_equal(a->holder, b->holder);
	assert_int_equal(a->holder_pid, b->holder_pid);
	assert_int_equal(a->holder_start_time, b->holder_start_time);
	assert_int_equal(a->active, b->active);
	assert_int_equal(a->n_steps, b->n_steps);
	for (size_t i = 0; i < a->n_steps; i++) {
		const RecordStep *x = &a->steps[i], *y = &b->steps[i];
		assert_int_equal(x->kind, y->kind);
		assert_int_equal(x->state, y->state);
		assert_int_equal(pci_address_compare(&x->device, &y->device), 0);
		assert_int_equal(x->value_before, y->value_before);
		assert_int_equal(x->value_after, y->value_after);
#define SAME_STRING(field)                                       \
	do {                                                     \
		if (x->field || y->field) {                      \
			assert_non_null(x->field);               \
			assert_non_null(y->field);               \
			assert_string_equal(x->field, y->field); \
		}                                                \
	} while (0)
		SAME_STRING(uuid);
		SAME_STRING(type);
		SAME_STRING(driver_before);
		SAME_STRING(override_before);
#undef SAME_STRING
	}
}

static void test_add_step_copies_and_starts(void **state)
{
	PartitionRecord record;
	char driver[] = "amdgpu";
	RecordStep step = { .kind = STEP_BIND_VFIO, .state = STEP_DONE, .driver_before = driver };

	make_record(&record);
	assert_int_equal(partition_record_add_step(&record, &step), 2);
	driver[0] = 'X'; /* the record has its own copy */
	assert_string_equal(record.steps[2].driver_before, "amdgpu");
	assert_int_equal(record.steps[2].state, STEP_STARTED); /* written down before the change */
	partition_record_done(&record);
}

static void test_json_round_trip(void **state)
{
	PartitionRecord record, back;
	const char *problem = "untouched";
	RecordStep mdev = { .kind = STEP_MDEV_CREATE,
			    .device = address("0000:00:02.0"),
			    .uuid = (char *)"83b8f4f2-509f-382f-3c1e-e6bfe0fa1001",
			    .type = (char *)"i915-GVTg_V5_4" };
	RecordStep numvfs = { .kind = STEP_SRIOV_NUMVFS,
			      .device = address("0000:03:00.0"),
			      .value_before = 0,
			      .value_after = 4 };

	make_record(&record);
	assert_int_equal(partition_record_add_step(&record, &mdev), 2);
	assert_int_equal(partition_record_add_step(&record, &numvfs), 3);
	record.steps[3].state = STEP_UNDONE;
	record.active = true;

	_cleanup_json_ json_object *o = partition_record_to_json(&record);
	assert_non_null(o);
	/* The names on disk are part of the format: an upgrade must still read them. */
	assert_string_equal(json_get_string(o, "mode"), "passthrough");
	json_object *steps = json_object_object_get(o, "steps");
	assert_string_equal(json_get_string(json_object_array_get_idx(steps, 0), "kind"),
			    "bind-vfio");
	assert_string_equal(json_get_string(json_object_array_get_idx(steps, 0), "state"), "done");
	assert_string_equal(json_get_string(json_object_array_get_idx(steps, 3), "state"),
			    "undone");

	assert_int_equal(partition_record_from_json(o, &back, &problem), 0);
	assert_null(problem);
	expect_same(&record, &back);
	partition_record_done(&back);
	partition_record_done(&record);
}

static void expect_refused(const char *text)
{
	PartitionRecord record;
	const char *problem = NULL;
	_cleanup_json_ json_object *o = json_tokener_parse(text);
	assert_non_null(o);
	if (partition_record_from_json(o, &record, &problem) == 0)
		fail_msg("accepted: %s", text);
	assert_non_null(problem);
}

#define RECORD_HEAD                                                                         \
	"\"mode\":\"mdev\",\"gpu\":\"0000:00:02.0\",\"holder\":\"manual\",\"holderPid\":0," \
	"\"holderStartTime\":0,\"active\":false"

static void test_from_json_refuses_what_is_not_a_record(void **state)
{
	expect_refused("[]");
	expect_refused("{}");
	expect_refused("{\"id\":\"x\"," RECORD_HEAD "}"); /* no steps */
	expect_refused("{\"id\":\"../../etc/passwd\"," RECORD_HEAD ",\"steps\":[]}");
	expect_refused("{\"id\":\"x\",\"mode\":\"teleport\",\"gpu\":\"0000:00:02.0\","
		       "\"holder\":\"manual\",\"holderPid\":0,\"holderStartTime\":0,"
		       "\"active\":false,\"steps\":[]}");
	expect_refused("{\"id\":\"x\"," RECORD_HEAD ",\"steps\":[{\"kind\":\"bind-vfio\"}]}");
	expect_refused("{\"id\":\"x\"," RECORD_HEAD
		       ",\"steps\":[{\"kind\":\"format-disk\",\"state\":\"done\","
		       "\"device\":\"0000:00:02.0\",\"valueBefore\":0,\"valueAfter\":0}]}");
	expect_refused("{\"id\":\"x\"," RECORD_HEAD
		       ",\"steps\":[{\"kind\":\"bind-vfio\",\"state\":\"done\","
		       "\"device\":\"not-an-address\",\"valueBefore\":0,\"valueAfter\":0}]}");
	expect_refused("{\"id\":\"x\",\"mode\":\"mdev\",\"gpu\":\"0000:00:02.0\","
		       "\"holder\":\"manual\",\"holderPid\":-1,\"holderStartTime\":0,"
		       "\"active\":false,\"steps\":[]}");
	/* A reset-method step writes back reset method names, nothing else. */
	expect_refused("{\"id\":\"x\"," RECORD_HEAD
		       ",\"steps\":[{\"kind\":\"reset-method\",\"state\":\"done\","
		       "\"device\":\"0000:02:00.0\",\"overrideBefore\":\"bus\\n1\","
		       "\"valueBefore\":0,\"valueAfter\":0}]}");
	expect_refused("{\"id\":\"x\"," RECORD_HEAD
		       ",\"steps\":[{\"kind\":\"reset-method\",\"state\":\"done\","
		       "\"device\":\"0000:02:00.0\",\"valueBefore\":0,\"valueAfter\":0}]}");
	/* An xe profile step's attribute becomes a file name: only the two there are. */
	expect_refused("{\"id\":\"x\"," RECORD_HEAD
		       ",\"steps\":[{\"kind\":\"xe-profile\",\"state\":\"done\","
		       "\"device\":\"0000:00:02.1\",\"type\":\"../../../../power/state\","
		       "\"valueBefore\":25,\"valueAfter\":10}]}");
	expect_refused("{\"id\":\"x\"," RECORD_HEAD
		       ",\"steps\":[{\"kind\":\"xe-profile\",\"state\":\"done\","
		       "\"device\":\"0000:00:02.1\",\"valueBefore\":25,\"valueAfter\":10}]}");
	expect_refused("{\"id\":\"x\"," RECORD_HEAD
		       ",\"steps\":[{\"kind\":\"xe-profile\",\"state\":\"done\","
		       "\"device\":\"0000:00:02.1\",\"type\":\"exec_quantum_ms\","
		       "\"valueBefore\":-1,\"valueAfter\":10}]}");
	expect_refused("{\"id\":\"x\"," RECORD_HEAD
		       ",\"steps\":[{\"kind\":\"xe-profile\",\"state\":\"done\","
		       "\"device\":\"0000:00:02.1\",\"type\":\"exec_quantum_ms\","
		       "\"valueBefore\":25,\"valueAfter\":4294967296}]}");
	/* vram_quota's bounds are its own: u64 bytes (up to INT64_MAX), never below 0. */
	expect_refused("{\"id\":\"x\"," RECORD_HEAD
		       ",\"steps\":[{\"kind\":\"xe-profile\",\"state\":\"done\","
		       "\"device\":\"0000:03:00.1\",\"type\":\"vram_quota\","
		       "\"valueBefore\":-1,\"valueAfter\":4294967296}]}");
}

/* A vram_quota step holds more than a u32: 4 GiB comes back as written. */
static void test_xe_vram_quota_step_round_trip(void **state)
{
	const char *problem = NULL;
	PartitionRecord record;
	_cleanup_json_ json_object *o =
		json_tokener_parse("{\"id\":\"x\"," RECORD_HEAD
				   ",\"steps\":[{\"kind\":\"xe-profile\",\"state\":\"done\","
				   "\"device\":\"0000:03:00.1\",\"type\":\"vram_quota\","
				   "\"valueBefore\":0,\"valueAfter\":4294967296}]}");
	assert_non_null(o);
	assert_int_equal(partition_record_from_json(o, &record, &problem), 0);
	assert_int_equal(record.n_steps, 1);
	assert_string_equal(record.steps[0].type, "vram_quota");
	assert_true(record.steps[0].value_after == INT64_C(4294967296));
	partition_record_done(&record);
}

/* An mdev on a parent outside PCI: "gpu" and the step's "device" hold its name. */
static void test_parent_outside_pci_round_trip(void **state)
{
	PartitionRecord record = { .mode = PARTITION_MDEV,
				   .parent = (char *)"mbochs",
				   .holder = (char *)"manual" },
			back;
	RecordStep step = { .kind = STEP_MDEV_CREATE,
			    .parent = (char *)"mbochs",
			    .uuid = (char *)"83b8f4f2-509f-382f-3c1e-e6bfe0fa1001",
			    .type = (char *)"mbochs-small" };
	const char *problem;
	char gpu[PCI_ADDRESS_TEXT_SIZE];

	strcpy(record.id, "mdev-1");
	record.steps = &step;
	record.n_steps = 1;
	json_object *o = partition_record_to_json(&record);
	assert_non_null(o);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "gpu")), "mbochs");
	assert_int_equal(partition_record_from_json(o, &back, &problem), 0);
	assert_string_equal(back.parent, "mbochs");
	assert_string_equal(back.steps[0].parent, "mbochs");
	assert_string_equal(partition_record_gpu_text(&back, gpu), "mbochs");
	partition_record_done(&back);
	json_object_put(o);

	/* Only an mdev may have a parent outside PCI, and only a plain name. */
	expect_refused("{\"id\":\"x\",\"mode\":\"passthrough\",\"gpu\":\"mbochs\","
		       "\"holder\":\"manual\",\"holderPid\":0,\"holderStartTime\":0,"
		       "\"active\":false,\"steps\":[]}");
	expect_refused("{\"id\":\"x\",\"mode\":\"mdev\",\"gpu\":\"../mbochs\","
		       "\"holder\":\"manual\",\"holderPid\":0,\"holderStartTime\":0,"
		       "\"active\":false,\"steps\":[]}");
}

static void test_ids(void **state)
{
	assert_true(partition_id_is_valid("mdev-83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"));
	assert_true(partition_id_is_valid("passthrough-0000:01:00.0"));
	assert_false(partition_id_is_valid(""));
	assert_false(partition_id_is_valid("."));
	assert_false(partition_id_is_valid(".hidden"));
	assert_false(partition_id_is_valid("a/b"));
	assert_false(partition_id_is_valid("a b"));
	assert_false(partition_id_is_valid(
		"x123456789012345678901234567890123456789012345678901234567890123456789"));
}

static void test_save_load_remove(void **state)
{
	_cleanup_free_ char *root = tmpdir_new();
	_cleanup_free_ char *dir = tmpdir_path(root, "run/partitions");
	PartitionRecord record, *loaded = NULL;
	char **problems = NULL;
	size_t n = 99;

	/* No directory yet: no records, no problem. */
	assert_int_equal(partition_record_load_all(dir, &loaded, &n, &problems), 0);
	assert_int_equal(n, 0);
	assert_null(problems);

	make_record(&record);
	assert_int_equal(partition_record_save(dir, &record), 0);
	/* Saving again replaces it whole, and leaves no temporary file behind. */
	record.steps[1].state = STEP_DONE;
	record.active = true;
	assert_int_equal(partition_record_save(dir, &record), 0);
	_cleanup_free_ char *temporary = tmpdir_path(dir, ".passthrough-0000:01:00.0.json.tmp");
	assert_int_equal(access(temporary, F_OK), -1);
	struct stat st;
	_cleanup_free_ char *file = tmpdir_path(dir, "passthrough-0000:01:00.0.json");
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	assert_int_equal(partition_record_load_all(dir, &loaded, &n, &problems), 0);
	assert_int_equal(n, 1);
	assert_null(problems);
	expect_same(&record, &loaded[0]);
	partition_record_done(&loaded[0]);
	free(loaded);

	assert_int_equal(partition_record_remove(dir, record.id), 0);
	assert_int_equal(partition_record_remove(dir, record.id), 0); /* already gone: fine */
	assert_int_equal(partition_record_load_all(dir, &loaded, &n, &problems), 0);
	assert_int_equal(n, 0);
	assert_int_equal(partition_record_remove(dir, "../escape"), -EINVAL);

	partition_record_done(&record);
	free(loaded);
	tmpdir_remove(TAKE_PTR(root));
}

static void test_damaged_files_are_reported_and_skipped(void **state)
{
	_cleanup_free_ char *dir = tmpdir_new();
	PartitionRecord good, *loaded = NULL;
	char **problems = NULL;
	size_t n = 0;
	_cleanup_free_ char *big = calloc(1, 70 * 1024);

	make_record(&good);
	assert_int_equal(partition_record_save(dir, &good), 0);
	free(tmpdir_write_text(dir, "garbage.json", "{not json"));
	free(tmpdir_write_text(dir, "empty.json", ""));
	free(tmpdir_write_text(dir, "other-id.json",
			       "{\"id\":\"someone-else\"," RECORD_HEAD ",\"steps\":[]}"));
	/* A save that died before its rename: not a record. */
	free(tmpdir_write_text(dir, ".half.json.tmp", "{\"id\":\"half\""));
	free(tmpdir_write_text(dir, "notes.txt", "hello"));
	assert_non_null(big);
	memset(big, ' ', 70 * 1024 - 1);
	free(tmpdir_write_text(dir, "huge.json", big));

	assert_int_equal(partition_record_load_all(dir, &loaded, &n, &problems), 0);
	assert_int_equal(n, 1);
	assert_string_equal(loaded[0].id, good.id);
	assert_int_equal(strv_length(problems), 4);
	assert_true(strv_contains(problems, "record garbage.json is damaged: not JSON"));
	assert_true(strv_contains(problems, "record other-id.json names another id"));
	assert_true(strv_contains(problems, "record huge.json is too large"));

	partition_record_done(&loaded[0]);
	free(loaded);
	strv_free(problems);
	partition_record_done(&good);
	tmpdir_remove(TAKE_PTR(dir));
}

/* The names in records are the wire format of the files: each one, both ways. */
static void test_step_names(void **state)
{
	static const char *const kinds[] = { "mdev-create", "sriov-autoprobe", "sriov-numvfs",
					     "bind-vfio",   "xe-profile",      "reset-method",
					     "nvidia-vgpu" };
	static const char *const states[] = { "started", "done", "undone" };

	assert_int_equal(ELEMENTSOF(kinds), _STEP_KIND_MAX);
	for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
		assert_string_equal(step_kind_to_string((StepKind)i), kinds[i]);
		assert_int_equal(step_kind_from_string(kinds[i]), (int)i);
	}
	assert_int_equal(ELEMENTSOF(states), _STEP_STATE_MAX);
	for (size_t i = 0; i < ELEMENTSOF(states); i++) {
		assert_string_equal(step_state_to_string((StepState)i), states[i]);
		assert_int_equal(step_state_from_string(states[i]), (int)i);
	}
	assert_null(step_kind_to_string(_STEP_KIND_MAX));
	assert_null(step_state_to_string((StepState)-1));
	assert_int_equal(step_kind_from_string("Bind-VFIO"), -EINVAL);
	assert_int_equal(step_kind_from_string(""), -EINVAL);
	assert_int_equal(step_state_from_string(NULL), -EINVAL);
	assert_int_equal(step_state_from_string("done "), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_step_copies_and_starts),
		cmocka_unit_test(test_step_names),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_from_json_refuses_what_is_not_a_record),
		cmocka_unit_test(test_xe_vram_quota_step_round_trip),
		cmocka_unit_test(test_parent_outside_pci_round_trip),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_save_load_remove),
		cmocka_unit_test(test_damaged_files_are_reported_and_skipped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
