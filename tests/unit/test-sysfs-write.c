/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of daemon/sysfs_write.c: writes off the event loop, their results
 * back on it, and a write that blocks (a FIFO nobody reads, standing in for a
 * stuck driver) reported as a timeout while the loop keeps turning.
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

#include "host/sysfs_write.h"
#include "macro.h"
#include "tmpdir.h"

typedef struct Fixture {
	char *dir;
	SysfsRoot root;
	sd_event *event;
	SysfsWriter *writer;
} Fixture;

typedef struct Outcome {
	int calls;
	int result;
} Outcome;

static int setup(void **state)
{
	Fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->dir = tmpdir_new();
	assert_int_equal(sysfs_root_init(&f->root, f->dir), 0);
	assert_int_equal(sd_event_new(&f->event), 0);
	assert_int_equal(sysfs_writer_new(f->event, &f->writer), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	Fixture *f = *state;
	sysfs_writer_free(f->writer);
	sd_event_unref(f->event);
	sysfs_root_done(&f->root);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static Outcome *late_outcome;

/* The real end of a write that timed out. */
static void record_late(int result, void *userdata)
{
	late_outcome->calls++;
	late_outcome->result = result;
}

static void record(int result, void *userdata)
{
	Outcome *outcome = userdata;
	outcome->calls++;
	outcome->result = result;
}

/* Turns the loop until the callback comes (5 s at most, then the test fails). */
static void run_until_reported(Fixture *f, Outcome *outcome)
{
	for (int i = 0; i < 250 && outcome->calls == 0; i++)
		assert_true(sd_event_run(f->event, 20 * 1000) >= 0);
	assert_int_equal(outcome->calls, 1);
}

static char *read_back(const char *dir, const char *name)
{
	_cleanup_free_ char *path = tmpdir_path(dir, name);
	char buf[128] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_true(read(fd, buf, sizeof(buf) - 1) >= 0);
	close(fd);
	return strdup(buf);
}

static void test_write_lands_and_reports_success(void **state)
{
	Fixture *f = *state;
	Outcome outcome = { .result = 1 };

	free(tmpdir_write_text(f->dir, "sriov_numvfs", "0\n"));
	assert_int_equal(sysfs_write_async(f->writer, &f->root, "sriov_numvfs", "4", 1000000,
					   record, NULL, &outcome),
			 0);
	run_until_reported(f, &outcome);
	assert_int_equal(outcome.result, 0);
	_cleanup_free_ char *text = read_back(f->dir, "sriov_numvfs");
	assert_string_equal(text, "4");
}

static void test_errors_come_back(void **state)
{
	Fixture *f = *state;
	Outcome missing = { 0 }, directory = { 0 };
	_cleanup_free_ char *subdir = tmpdir_path(f->dir, "a-directory");

	assert_int_equal(mkdir(subdir, 0755), 0);
	assert_int_equal(sysfs_write_async(f->writer, &f->root, "no/such/attribute", "1", 1000000,
					   record, NULL, &missing),
			 0);
	run_until_reported(f, &missing);
	assert_int_equal(missing.result, -ENOENT);

	assert_int_equal(sysfs_write_async(f->writer, &f->root, "a-directory", "1", 1000000, record,
					   NULL, &directory),
			 0);
	run_until_reported(f, &directory);
	assert_int_equal(directory.result, -EISDIR);
}

static void test_stuck_write_times_out_and_its_late_end_is_dropped(void **state)
{
	Fixture *f = *state;
	Outcome stuck = { 0 }, later = { 0 }, late = { 0 };
	_cleanup_free_ char *fifo = tmpdir_path(f->dir, "unbind");

	/* Opening a FIFO for writing blocks until someone reads: a driver that hangs. */
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(sysfs_write_async(f->writer, &f->root, "unbind", "0000:01:00.0", 100000,
					   record, record_late, &stuck),
			 0);
	run_until_reported(f, &stuck);
	assert_int_equal(stuck.result, -ETIMEDOUT);

	/* The loop serves other writes meanwhile. */
	free(tmpdir_write_text(f->dir, "driver_override", "(null)\n"));
	assert_int_equal(sysfs_write_async(f->writer, &f->root, "driver_override", "vfio-pci",
					   1000000, record, NULL, &later),
			 0);
	run_until_reported(f, &later);
	assert_int_equal(later.result, 0);

	/* Unblock the stuck thread: its end comes as the late callback, not a second report. */
	late_outcome = &late;
	int reader = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(reader >= 0);
	for (int i = 0; i < 50; i++) {
		(void)sd_event_run(f->event, 20 * 1000);
		char buf[64];
		(void)read(reader, buf, sizeof(buf));
	}
	close(reader);
	assert_int_equal(stuck.calls, 1);
	assert_int_equal(late.calls, 1);
	assert_int_equal(late.result, 0);
}

static void test_writer_freed_with_a_write_under_way(void **state)
{
	Fixture *f = *state;
	Outcome never = { 0 };
	_cleanup_free_ char *fifo = tmpdir_path(f->dir, "drivers_probe");

	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(sysfs_write_async(f->writer, &f->root, "drivers_probe", "0000:01:00.0",
					   1000000, record, NULL, &never),
			 0);
	f->writer = sysfs_writer_free(f->writer);
	assert_int_equal(never.calls, 1);
	assert_int_equal(never.result, -ECANCELED);
	/* The thread ends later, on its own, and calls nothing more. */
	int reader = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(reader >= 0);
	usleep(100 * 1000);
	close(reader);
	assert_int_equal(never.calls, 1);
}

static void test_write_now(void **state)
{
	Fixture *f = *state;

	free(tmpdir_write_text(f->dir, "remove", ""));
	assert_int_equal(sysfs_write_now(&f->root, "remove", "1"), 0);
	_cleanup_free_ char *text = read_back(f->dir, "remove");
	assert_string_equal(text, "1");
	assert_int_equal(sysfs_write_now(&f->root, "missing", "1"), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_lands_and_reports_success, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_errors_come_back, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_stuck_write_times_out_and_its_late_end_is_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_freed_with_a_write_under_way, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_now, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
