/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of daemon/vm_store.c and daemon/vm_runtime.c: definitions are stored
 * under their name with a uuid that then never changes, a name taken by
 * another VM is refused, a file whose name is not its VM's is not loaded;
 * runtime records survive the disk and damaged ones are skipped; the process
 * start time is read past a command name with spaces and parentheses.
 */
#include <errno.h>
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

#include "macro.h"
#include "strv.h"
#include "tmpdir.h"
#include "vm/vm.h"
#include "vm/vm_runtime.h"
#include "vm/vm_store.h"

static const char basic[] = "name: gaming-vm\nmemory: 1G\n";

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *text = calloc(1, 65536);
	assert_non_null(text);
	(void)!fread(text, 1, 65535, f);
	fclose(f);
	return text;
}

static void test_define_adds_a_stable_uuid(void **state)
{
	(void)state;
	char *dir = tmpdir_new();
	VmDefinition d, again;
	char *error = NULL;

	assert_int_equal(vm_store_define(dir, basic, strlen(basic), &d, &error), 0);
	assert_true(uuid_is_valid(d.uuid));
	char *path = tmpdir_path(dir, "gaming-vm.yaml");
	char *text = read_all(path);
	assert_non_null(strstr(text, d.uuid));
	assert_int_equal(strncmp(text, basic, strlen(basic)), 0); /* the user's text first */
	free(text);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);

	/* Defined again without a uuid: the one it had stays. */
	const char *edited = "name: gaming-vm\nmemory: 2G # more\n";
	assert_int_equal(vm_store_define(dir, edited, strlen(edited), &again, &error), 0);
	assert_string_equal(again.uuid, d.uuid);
	assert_int_equal(again.memory, 2ULL << 30);
	vm_definition_done(&again);

	/* Loading gives the same. */
	assert_int_equal(vm_store_load(dir, "gaming-vm", &again, &error), 0);
	assert_string_equal(again.uuid, d.uuid);
	vm_definition_done(&again);
	vm_definition_done(&d);
	free(path);
	tmpdir_remove(dir);
}

static void test_a_name_with_another_uuid_is_refused(void **state)
{
	(void)state;
	char *dir = tmpdir_new();
	VmDefinition d;
	char *error = NULL;
	const char *first = "name: a\nmemory: 1G\nuuid: 0b5e6a9c-1d1f-4a70-9a51-5a7cb2b0e111\n";
	const char *second = "name: a\nmemory: 1G\nuuid: 7c1d2a44-2a3b-4c5d-8e9f-0a1b2c3d4e5f\n";

	assert_int_equal(vm_store_define(dir, first, strlen(first), &d, &error), 0);
	vm_definition_done(&d);
	assert_int_equal(vm_store_define(dir, second, strlen(second), &d, &error), -EEXIST);
	assert_non_null(strstr(error, "0b5e6a9c-1d1f-4a70-9a51-5a7cb2b0e111"));
	free(error);
	/* The same uuid again is an update. */
	assert_int_equal(vm_store_define(dir, first, strlen(first), &d, &error), 0);
	vm_definition_done(&d);
	tmpdir_remove(dir);
}

/*
 * The daemon's split: what is stored is decided without writing anything, and
 * the write stores exactly that text; the uuid is decided from the file as it
 * is when prepared (the daemon prepares only once the write before landed).
 */
static void test_prepare_writes_nothing(void **state)
{
	(void)state;
	char *dir = tmpdir_new();
	VmDefinition d, stored, again;
	char *error = NULL, *text = NULL, *text_again = NULL;
	size_t size = 0, size_again = 0;

	assert_int_equal(
		vm_store_define_prepare(dir, basic, strlen(basic), &d, &text, &size, &error), 0);
	assert_true(uuid_is_valid(d.uuid));
	assert_int_equal(size, strlen(text));
	assert_non_null(strstr(text, d.uuid));
	char *path = tmpdir_path(dir, "gaming-vm.yaml");
	assert_int_equal(access(path, F_OK), -1); /* nothing written yet */

	/* Prepared again before the write: no file yet, so another uuid. */
	assert_int_equal(vm_store_define_prepare(dir, basic, strlen(basic), &again, &text_again,
						 &size_again, &error),
			 0);
	assert_string_not_equal(again.uuid, d.uuid);
	vm_definition_done(&again);
	free(text_again);

	assert_int_equal(vm_store_write(dir, d.name, text, size), 0);
	char *on_disk = read_all(path);
	assert_string_equal(on_disk, text);
	free(on_disk);
	assert_int_equal(vm_store_load(dir, "gaming-vm", &stored, &error), 0);
	assert_string_equal(stored.uuid, d.uuid);
	vm_definition_done(&stored);

	/* Once written, a prepare keeps the stored uuid, and a text with a uuid is kept as is. */
	assert_int_equal(vm_store_define_prepare(dir, basic, strlen(basic), &again, &text_again,
						 &size_again, &error),
			 0);
	assert_string_equal(again.uuid, d.uuid);
	vm_definition_done(&again);
	free(text_again);
	assert_int_equal(
		vm_store_define_prepare(dir, text, size, &again, &text_again, &size_again, &error),
		0);
	assert_string_equal(text_again, text);
	assert_int_equal(size_again, size);
	vm_definition_done(&again);
	free(text_again);

	assert_int_equal(vm_store_write(dir, "../escape", text, size), -EINVAL);
	vm_definition_done(&d);
	free(text);
	free(path);
	tmpdir_remove(dir);
}

static void test_invalid_and_unextendable_definitions(void **state)
{
	(void)state;
	char *dir = tmpdir_new();
	VmDefinition d;
	char *error = NULL;
	char **names = NULL;

	const char *typo = "name: a\nmemroy: 1G\n";
	assert_int_equal(vm_store_define(dir, typo, strlen(typo), &d, &error), -EINVAL);
	assert_non_null(strstr(error, "<definition>:2:1: memroy"));
	free(error);
	/* A flow mapping cannot take an appended line: refused, the user is told what to add. */
	const char *flow = "{name: a, memory: 1G}";
	assert_int_equal(vm_store_define(dir, flow, strlen(flow), &d, &error), -EINVAL);
	assert_non_null(strstr(error, "add the line 'uuid: "));
	free(error);
	assert_int_equal(vm_store_list(dir, &names), 0);
	assert_null(names); /* nothing was written */
	tmpdir_remove(dir);
}

static void test_list_load_undefine(void **state)
{
	(void)state;
	char *dir = tmpdir_new();
	char **names = NULL;
	VmDefinition d;
	char *error = NULL;

	free(tmpdir_write_text(dir, "b.yaml", "name: b\nmemory: 1G\n"));
	free(tmpdir_write_text(dir, "a.yaml", "name: a\nmemory: 1G\n"));
	free(tmpdir_write_text(dir, "wrong.yaml", "name: right\nmemory: 1G\n"));
	free(tmpdir_write_text(dir, "notes.txt", "not a VM"));
	free(tmpdir_write_text(dir, "-bad.yaml", "name: x\n"));
	assert_int_equal(vm_store_list(dir, &names), 0);
	assert_int_equal(strv_length(names), 3);
	assert_string_equal(names[0], "a");
	assert_string_equal(names[1], "b");
	assert_string_equal(names[2], "wrong");
	strv_free(names);

	assert_int_equal(vm_store_load(dir, "wrong", &d, &error), -EINVAL);
	assert_non_null(strstr(error, "name: 'right' is not the file's name"));
	free(error);
	assert_int_equal(vm_store_load(dir, "missing", &d, &error), -ENOENT);
	assert_int_equal(vm_store_load(dir, "../a", &d, &error), -ENOENT);

	assert_int_equal(vm_store_undefine(dir, "a"), 0);
	assert_int_equal(vm_store_undefine(dir, "a"), -ENOENT);
	assert_int_equal(vm_store_undefine(dir, "../b"), -ENOENT);
	assert_int_equal(vm_store_load(dir, "b", &d, &error), 0);
	vm_definition_done(&d);
	tmpdir_remove(dir);
}

/* The stored text as it is, even invalid (edit fixes it); links, NUL and other bytes refused. */
static void test_read_the_stored_text(void **state)
{
	(void)state;
	char *dir = tmpdir_new();
	char *error = NULL, *text = NULL;
	size_t size = 0;
	VmDefinition d;

	assert_int_equal(vm_store_define(dir, basic, strlen(basic), &d, &error), 0);
	char *path = tmpdir_path(dir, "gaming-vm.yaml");
	char *expected = read_all(path);
	assert_int_equal(vm_store_read(dir, "gaming-vm", &text, &size, &error), 0);
	assert_int_equal(size, strlen(expected));
	assert_string_equal(text, expected);
	free(text);
	free(expected);
	vm_definition_done(&d);
	assert_int_equal(vm_store_read(dir, "nope", &text, &size, &error), -ENOENT);
	assert_int_equal(vm_store_read(dir, "../etc", &text, &size, &error), -ENOENT);

	/* Invalid as a definition: still read, so that it can be fixed. */
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("name: gaming-vm\nmemroy: 1G\n", f);
	fclose(f);
	assert_int_equal(vm_store_read(dir, "gaming-vm", &text, &size, &error), 0);
	assert_string_equal(text, "name: gaming-vm\nmemroy: 1G\n");
	free(text);

	/* Not UTF-8 text: refused with a sentence. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("name: gaming-vm\n# \xff\n", f);
	fclose(f);
	assert_int_equal(vm_store_read(dir, "gaming-vm", &text, &size, &error), -EINVAL);
	assert_non_null(strstr(error, "not UTF-8"));
	free(error);
	error = NULL;

	/* A link is never followed. */
	char *link = tmpdir_path(dir, "linked.yaml");
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(vm_store_read(dir, "linked", &text, &size, &error), -EINVAL);
	assert_non_null(strstr(error, "symbolic link"));
	free(error);
	free(link);
	free(path);
	tmpdir_remove(dir);
}

static void test_runtime_records(void **state)
{
	(void)state;
	char *dir = tmpdir_new();
	VmRuntime runtime = { .pid = 4242, .start_time = 987654, .started_at_usec = 1700000000 };
	VmRuntime *loaded = NULL;
	char **problems = NULL;
	size_t n = 0;

	snprintf(runtime.name, sizeof(runtime.name), "gaming-vm");
	assert_int_equal(strv_append(&runtime.partitions, "mdev-1f0e"), 0);
	runtime.lent = calloc(2, sizeof(VmLent));
	assert_non_null(runtime.lent);
	runtime.lent[0] = (VmLent){ strdup("/dev/vfio/12"), 0, 0, 0600 };
	runtime.lent[1] = (VmLent){ strdup("/srv/vm/disk,1.img"), 1000, 100, 0640 };
	runtime.n_lent = 2;
	runtime.hugepages = (HugepageReservation){
		.active = true, .node = 1, .size_kib = 2048, .before = 512, .added = 768
	};
	assert_int_equal(vm_runtime_save(dir, &runtime), 0);
	free(tmpdir_write_text(
		dir, "evil.json",
		"{\"name\":\"evil\",\"pid\":1,\"startTime\":1,\"startedAtUsec\":1}"));
	free(tmpdir_write_text(dir, "copy.json",
			       "{\"name\":\"other\",\"pid\":99,\"startTime\":1,\"startedAtUsec\":1,"
			       "\"partitions\":[],\"lent\":[]}"));
	/* What is given back must be a plain absolute path with a sane owner and mode. */
	free(tmpdir_write_text(
		dir, "lent.json",
		"{\"name\":\"lent\",\"pid\":99,\"startTime\":1,\"startedAtUsec\":1,"
		"\"partitions\":[],\"lent\":[{\"path\":\"/dev/vfio/../../etc/shadow\","
		"\"uid\":0,\"gid\":0,\"mode\":384}]}"));
	free(tmpdir_write_text(dir, "mode.json",
			       "{\"name\":\"mode\",\"pid\":0,\"startTime\":0,\"startedAtUsec\":0,"
			       "\"partitions\":[],\"lent\":[{\"path\":\"/srv/a\","
			       "\"uid\":0,\"gid\":0,\"mode\":65535}]}"));
	free(tmpdir_write_text(dir, "junk.json", "{"));
	/* A pool given back must be one libvfio could have grown: 2M or 1G, a sane node. */
	free(tmpdir_write_text(dir, "pool.json",
			       "{\"name\":\"pool\",\"pid\":0,\"startTime\":0,\"startedAtUsec\":0,"
			       "\"partitions\":[],\"lent\":[],\"hugepages\":{\"node\":0,"
			       "\"sizeKib\":4,\"before\":0,\"added\":1}}"));
	free(tmpdir_write_text(dir, "count.json",
			       "{\"name\":\"count\",\"pid\":0,\"startTime\":0,\"startedAtUsec\":0,"
			       "\"partitions\":[],\"lent\":[],\"hugepages\":{\"node\":-1,"
			       "\"sizeKib\":2048,\"before\":0,\"added\":-5}}"));

	assert_int_equal(vm_runtime_load_all(dir, &loaded, &n, &problems), 0);
	assert_int_equal(n, 1);
	assert_string_equal(loaded[0].name, "gaming-vm");
	assert_int_equal(loaded[0].pid, 4242);
	assert_int_equal(loaded[0].start_time, 987654);
	assert_string_equal(loaded[0].partitions[0], "mdev-1f0e");
	assert_int_equal(loaded[0].n_lent, 2);
	assert_string_equal(loaded[0].lent[0].path, "/dev/vfio/12");
	assert_string_equal(loaded[0].lent[1].path, "/srv/vm/disk,1.img");
	assert_int_equal(loaded[0].lent[1].uid, 1000);
	assert_int_equal(loaded[0].lent[1].gid, 100);
	assert_int_equal(loaded[0].lent[1].mode, 0640);
	assert_true(loaded[0].hugepages.active);
	assert_int_equal(loaded[0].hugepages.node, 1);
	assert_int_equal(loaded[0].hugepages.size_kib, 2048);
	assert_int_equal(loaded[0].hugepages.before, 512);
	assert_int_equal(loaded[0].hugepages.added, 768);
	/* pid 1, a foreign name, a path with "..", a mode out of range, junk, two pools */
	assert_int_equal(strv_length(problems), 7);
	vm_runtime_done(&loaded[0]);
	free(loaded);
	strv_free(problems);

	assert_int_equal(vm_runtime_remove(dir, "gaming-vm"), 0);
	assert_int_equal(vm_runtime_remove(dir, "gaming-vm"), 0); /* gone is fine */
	vm_runtime_done(&runtime);
	tmpdir_remove(dir);
}

/* Each state has a name, read back to the same state; Watch and Get say them. */
static void test_state_names(void **state)
{
	(void)state;
	for (int i = 0; i < _VM_STATE_MAX; i++) {
		const char *name = vm_state_to_string((VmState)i);
		assert_non_null(name);
		assert_int_equal(vm_state_from_string(name), i);
	}
	assert_string_equal(vm_state_to_string(VM_STATE_CRASHED), "crashed");
	assert_null(vm_state_to_string(_VM_STATE_MAX));
	assert_null(vm_state_to_string((VmState)-1));
	assert_int_equal(vm_state_from_string("Running"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_define_adds_a_stable_uuid),
		cmocka_unit_test(test_a_name_with_another_uuid_is_refused),
		cmocka_unit_test(test_prepare_writes_nothing),
		cmocka_unit_test(test_invalid_and_unextendable_definitions),
		cmocka_unit_test(test_list_load_undefine),
		cmocka_unit_test(test_read_the_stored_text),
		cmocka_unit_test(test_runtime_records),
		cmocka_unit_test(test_state_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
