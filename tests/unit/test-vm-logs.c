/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of daemon/vm/vm_logs.c on QEMU's log file (a VM the journal does not
 * know): the last N lines, a last line without newline, what a guest could
 * write made printable, a follow that sees appended lines, whole ones only,
 * and the opening and last lines read on a worker (vm_log_read()), its end
 * told on the loop, or given up on.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tmpdir.h"
#include "vm/vm_logs.h"

/* A name no journal has heard of: the file is read. */
#define NAME "unit-test-vm-logs-no-such-vm"

static void expect_messages(const VmLogEntry *entries, size_t n, const char *const *expected)
{
	size_t k = 0;
	for (; expected[k]; k++) {
		assert_true(k < n);
		assert_string_equal(entries[k].message, expected[k]);
		assert_true(entries[k].qemu);
		assert_int_equal(entries[k].usec, 0);
	}
	assert_int_equal(n, k);
}

static void test_tail(void **state)
{
	(void)state;
	char *dir = tmpdir_new();
	char *file = tmpdir_write_text(dir, "qemu.log", "one\ntwo\nthree\nfour\n");
	VmLog *log;
	VmLogEntry *entries;
	size_t n;

	assert_int_equal(vm_log_open(NAME, file, 12345, &log), 0);
	assert_int_equal(vm_log_tail(log, 2, &entries, &n), 0);
	expect_messages(entries, n, (const char *const[]){ "three", "four", NULL });
	vm_log_entries_free(entries, n);
	assert_int_equal(vm_log_tail(log, 100, &entries, &n), 0);
	expect_messages(entries, n, (const char *const[]){ "one", "two", "three", "four", NULL });
	vm_log_entries_free(entries, n);
	assert_int_equal(vm_log_tail(log, 0, &entries, &n), 0);
	assert_int_equal(n, 0);
	vm_log_free(log);

	/* A last line still being written counts; an escape from the guest does not pass. */
	free(tmpdir_write_text(dir, "qemu.log", "ok\n\x1b]0;pwned\x07\nhalf"));
	assert_int_equal(vm_log_open(NAME, file, 12345, &log), 0);
	assert_int_equal(vm_log_tail(log, 3, &entries, &n), 0);
	expect_messages(
		entries, n,
		(const char *const[]){ "ok", "\xef\xbf\xbd]0;pwned\xef\xbf\xbd", "half", NULL });
	vm_log_entries_free(entries, n);
	vm_log_free(log);

	/* A link in the file's place is not followed: its target is never read. */
	char *secret = tmpdir_write_text(dir, "secret", "root's own\n");
	assert_int_equal(unlink(file), 0);
	assert_int_equal(symlink(secret, file), 0);
	assert_int_equal(vm_log_open(NAME, file, 12345, &log), 0);
	assert_int_equal(vm_log_tail(log, 10, &entries, &n), -ELOOP);
	vm_log_free(log);
	free(secret);

	/* No file yet (a VM never started): nothing, no error. */
	assert_int_equal(unlink(file), 0);
	assert_int_equal(vm_log_open(NAME, file, 12345, &log), 0);
	assert_int_equal(vm_log_tail(log, 10, &entries, &n), 0);
	assert_int_equal(n, 0);
	free(entries);
	vm_log_free(log);
	free(file);
	tmpdir_remove(dir);
}

typedef struct Followed {
	char *lines[8];
	size_t n;
	sd_event *event;
} Followed;

static int on_entries(const VmLogEntry *entries, size_t n, void *userdata)
{
	Followed *f = userdata;
	for (size_t i = 0; i < n && f->n < 8; i++)
		f->lines[f->n++] = strdup(entries[i].message);
	if (f->n >= 2)
		(void)sd_event_exit(f->event, 0);
	return 0;
}

static int on_give_up(sd_event_source *source, uint64_t usec, void *userdata)
{
	(void)source;
	(void)usec;
	return sd_event_exit(userdata, 1);
}

static void test_follow(void **state)
{
	(void)state;
	char *dir = tmpdir_new();
	char *file = tmpdir_write_text(dir, "qemu.log", "old\n");
	Followed f = { 0 };
	VmLog *log;
	VmLogEntry *entries;
	size_t n;

	assert_int_equal(sd_event_new(&f.event), 0);
	assert_int_equal(vm_log_open(NAME, file, 12345, &log), 0);
	assert_int_equal(vm_log_tail(log, 10, &entries, &n), 0);
	vm_log_entries_free(entries, n);
	assert_int_equal(vm_log_follow(log, f.event, on_entries, &f), 0);
	FILE *out = fopen(file, "a");
	assert_non_null(out);
	/* Two whole lines and the start of a third, which waits for its end. */
	fputs("new 1\nnew 2\nnew", out);
	fclose(out);
	assert_int_equal(sd_event_add_time_relative(f.event, NULL, CLOCK_MONOTONIC,
						    10 * 1000 * 1000, 0, on_give_up, f.event),
			 0);
	int result = -1;
	assert_true(sd_event_loop(f.event) >= 0);
	assert_int_equal(sd_event_get_exit_code(f.event, &result), 0);
	assert_int_equal(result, 0);
	assert_int_equal(f.n, 2);
	assert_string_equal(f.lines[0], "new 1");
	assert_string_equal(f.lines[1], "new 2");
	for (size_t i = 0; i < f.n; i++)
		free(f.lines[i]);
	vm_log_free(log);
	sd_event_unref(f.event);
	free(file);
	tmpdir_remove(dir);
}

typedef struct Read {
	sd_event *event;
	int result;
	VmLog *log;
	VmLogEntry *entries;
	size_t n;
	bool told;
} Read;

static void on_read(int result, VmLog *log, VmLogEntry *entries, size_t n, void *userdata)
{
	Read *read = userdata;
	*read = (Read){ read->event, result, log, entries, n, true };
	(void)sd_event_exit(read->event, 0);
}

static void test_read_on_a_worker(void **state)
{
	(void)state;
	char *dir = tmpdir_new();
	char *file = tmpdir_write_text(dir, "qemu.log", "one\ntwo\nthree\n");
	Read read = { 0 };
	WorkerJob *job;

	assert_int_equal(sd_event_new(&read.event), 0);
	assert_int_equal(vm_log_read(read.event, NAME, file, 12345, 2, on_read, &read, &job), 0);
	assert_false(read.told); /* told on the loop, never before */
	assert_int_equal(sd_event_add_time_relative(read.event, NULL, CLOCK_MONOTONIC,
						    10 * 1000 * 1000, 0, on_give_up, read.event),
			 0);
	assert_true(sd_event_loop(read.event) >= 0);
	assert_true(read.told);
	assert_int_equal(read.result, 0);
	assert_non_null(read.log);
	expect_messages(read.entries, read.n, (const char *const[]){ "two", "three", NULL });
	vm_log_entries_free(read.entries, read.n);
	vm_log_free(read.log);

	/* Given up on: never told (and what it read is freed: the sanitizer run sees) */
	sd_event_unref(read.event);
	read = (Read){ 0 };
	assert_int_equal(sd_event_new(&read.event), 0);
	assert_int_equal(vm_log_read(read.event, NAME, file, 12345, 2, on_read, &read, &job), 0);
	worker_cancel(job);
	assert_int_equal(sd_event_add_time_relative(read.event, NULL, CLOCK_MONOTONIC, 200 * 1000,
						    0, on_give_up, read.event),
			 0);
	assert_true(sd_event_loop(read.event) >= 0);
	assert_false(read.told);

	sd_event_unref(read.event);
	free(file);
	tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tail),
		cmocka_unit_test(test_follow),
		cmocka_unit_test(test_read_on_a_worker),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
