/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VMs directory watch: the first poll says everything may have changed,
 * then inotify names exactly the definitions written, renamed, removed or
 * given another mode (not temporary files, not other names), a change is
 * seen by the next poll without the event loop running, and the directory
 * moved away or created late is watched again. A file identity changed
 * within the last second never equals another.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tmpdir.h"
#include "vm/vm_dir_watch.h"

static char *sorted_names(VmDirWatch *w)
{
	size_t n;
	char *const *names = vm_dir_watch_take_all(w, &n);
	char *joined = calloc(1, 4096);
	const char *sorted[64];
	assert_true(n < 64);
	for (size_t i = 0; i < n; i++)
		sorted[i] = names[i];
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(sorted[j], sorted[i]) < 0) {
				const char *t = sorted[i];
				sorted[i] = sorted[j];
				sorted[j] = t;
			}
	for (size_t i = 0; i < n; i++) {
		strcat(joined, i ? " " : "");
		strcat(joined, sorted[i]);
	}
	assert_null(names[n]);
	return joined;
}

static void test_names_reported(void **state)
{
	sd_event *event;
	VmDirWatch *w;
	char *dir = tmpdir_new();
	assert_int_equal(unsetenv("LIBVFIOD_NO_INOTIFY"), 0);
	assert_int_equal(sd_event_new(&event), 0);
	assert_int_equal(vm_dir_watch_new(event, &w), 0);
	if (!vm_dir_watch_reports_names(w)) {
		skip(); /* no inotify here (LIBVFIOD_NO_INOTIFY=1, or no instance left) */
	}

	assert_int_equal(vm_dir_watch_poll(w, dir), 1); /* the first look reads everything */
	assert_int_equal(vm_dir_watch_poll(w, dir), 0);
	free(tmpdir_write_text(dir, "one.yaml", "name: one\n"));
	free(tmpdir_write_text(dir, ".one.yaml.tmp", "x")); /* an atomic write's temporary */
	free(tmpdir_write_text(dir, "notes.txt", "x"));
	free(tmpdir_write_text(dir, "bad name!.yaml", "x"));
	char *two = tmpdir_write_text(dir, "two.yaml.new", "name: two\n");
	char *two_final = tmpdir_path(dir, "two.yaml");
	assert_int_equal(rename(two, two_final), 0);
	/* Seen at once, the loop never ran. */
	assert_int_equal(vm_dir_watch_poll(w, dir), 0);
	char *names = sorted_names(w);
	assert_string_equal(names, "one two");
	free(names);

	assert_int_equal(vm_dir_watch_poll(w, dir), 0);
	names = sorted_names(w);
	assert_string_equal(names, ""); /* taken: forgotten */
	free(names);

	assert_int_equal(chmod(two_final, 0666), 0);
	assert_int_equal(unlink(two_final), 0);
	assert_int_equal(vm_dir_watch_poll(w, dir), 0);
	assert_true(vm_dir_watch_take(w, "two"));
	assert_false(vm_dir_watch_take(w, "two"));
	assert_false(vm_dir_watch_take(w, "one"));

	/* Moved away: everything, and the new directory of that path is watched. */
	char *moved = NULL;
	assert_true(asprintf(&moved, "%s-moved", dir) > 0);
	assert_int_equal(rename(dir, moved), 0);
	assert_int_equal(vm_dir_watch_poll(w, dir), 1);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(vm_dir_watch_poll(w, dir), 1); /* created: read it all */
	free(tmpdir_write_text(dir, "three.yaml", "name: three\n"));
	assert_int_equal(vm_dir_watch_poll(w, dir), 0);
	assert_true(vm_dir_watch_take(w, "three"));
	free(tmpdir_write_text(moved, "old.yaml", "name: old\n")); /* not watched any more */
	assert_int_equal(vm_dir_watch_poll(w, dir), 0);
	assert_false(vm_dir_watch_take(w, "old"));

	/* Another directory (a reload): everything. */
	assert_int_equal(vm_dir_watch_poll(w, moved), 1);
	assert_int_equal(vm_dir_watch_poll(w, moved), 0);

	vm_dir_watch_free(w);
	sd_event_unref(event);
	tmpdir_remove(moved);
	free(two);
	free(two_final);
	tmpdir_remove(dir);
}

/* Without inotify: only "the directory changed", and never for a directory changed just now. */
static void test_fallback(void **state)
{
	sd_event *event;
	VmDirWatch *w;
	char *dir = tmpdir_new();
	assert_int_equal(setenv("LIBVFIOD_NO_INOTIFY", "1", 1), 0);
	assert_int_equal(sd_event_new(&event), 0);
	assert_int_equal(vm_dir_watch_new(event, &w), 0);
	assert_int_equal(unsetenv("LIBVFIOD_NO_INOTIFY"), 0);
	assert_false(vm_dir_watch_reports_names(w));

	assert_int_equal(vm_dir_watch_poll(w, dir), 1);
	/* Made within the last second: another change in the same tick would not show. */
	assert_int_equal(vm_dir_watch_poll(w, dir), 1);
	sleep(2);
	assert_int_equal(vm_dir_watch_poll(w, dir), 1); /* the first look at it as settled */
	assert_int_equal(vm_dir_watch_poll(w, dir), 0);
	free(tmpdir_write_text(dir, "one.yaml", "name: one\n"));
	assert_int_equal(vm_dir_watch_poll(w, dir), 1);
	assert_false(vm_dir_watch_take(w, "one")); /* no names without inotify */

	vm_dir_watch_free(w);
	sd_event_unref(event);
	tmpdir_remove(dir);
}

static void test_identity(void **state)
{
	char *dir = tmpdir_new();
	free(tmpdir_write_text(dir, "a.yaml", "name: a\n"));
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	VmFileIdentity a, none;
	vm_file_identity_read(fd, "a.yaml", &a);
	vm_file_identity_read(fd, "missing.yaml", &none);
	assert_true(a.ino != 0);
	assert_int_equal(none.ino, 0);
	/* Just written: it may change again within the same tick, so it equals nothing. */
	assert_true(a.recent);
	assert_false(vm_file_identity_equal(&a, &a));
	VmFileIdentity old = a, other;
	old.recent = false;
	assert_true(vm_file_identity_equal(&old, &old));
	other = old;
	other.size++;
	assert_false(vm_file_identity_equal(&old, &other));
	other = old;
	other.ctime.tv_nsec++;
	assert_false(vm_file_identity_equal(&old, &other));
	other = old;
	other.uid = 1;
	assert_false(vm_file_identity_equal(&old, &other));
	assert_true(vm_file_identity_equal(&none, &none));
	close(fd);
	tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_reported),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_identity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
