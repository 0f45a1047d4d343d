/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pure parts of the QEMU probe: reading the version out of
 * `qemu-system-x86_64 --version`, and finding the binary in a search path.
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

#include "host/qemu_probe.h"
#include "macro.h"
#include "tmpdir.h"

#define QEMU "qemu-system-x86_64"

static void expect_version(const char *output, const char *expected)
{
	_cleanup_free_ char *version = qemu_version_from_output(output);

	if (!expected && version)
		fail_msg("'%s' gave version '%s', expected none", output, version);
	if (expected && (!version || strcmp(version, expected) != 0))
		fail_msg("'%s' gave version '%s', expected '%s'", output,
			 version ? version : "(none)", expected);
}

static void test_version_real_outputs(void **state)
{
	/* Debian 12's qemu-system-x86 7.2, verbatim. */
	expect_version("QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18)\n"
		       "Copyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers\n",
		       "7.2.22");
	expect_version("QEMU emulator version 8.2.2 (Debian 1:8.2.2+ds-0ubuntu1)\n"
		       "Copyright (c) 2003-2023 Fabrice Bellard and the QEMU Project developers\n",
		       "8.2.2");
	expect_version("QEMU emulator version 9.0.0\n"
		       "Copyright (c) 2003-2024 Fabrice Bellard and the QEMU Project developers\n",
		       "9.0.0");
	expect_version("QEMU emulator version 6.2.0 (qemu-kvm-6.2.0-11.el9_0.3)\n", "6.2.0");
	/* A release candidate: the numeric part only. */
	expect_version("QEMU emulator version 8.0.0-rc1\n", "8.0.0");
	/* No newline at all. */
	expect_version("QEMU emulator version 7.2.0", "7.2.0");
	/* A warning printed before the version line. */
	expect_version("qemu: warning: something odd\nQEMU emulator version 7.1.0\n", "7.1.0");
}

static void test_version_garbage(void **state)
{
	char long_version[128];

	expect_version("", NULL);
	expect_version("\n", NULL);
	expect_version("hello world\n", NULL);
	expect_version("QEMU emulator version\n", NULL);
	expect_version("QEMU emulator version \n", NULL);
	expect_version("QEMU emulator version (Debian)\n", NULL);
	expect_version("QEMU emulator version x7.2\n", NULL);
	expect_version("qemu emulator version 7.2.0\n", NULL);
	expect_version("Usage: qemu-system-x86_64 [options] [disk_image]\n", NULL);

	/* Something that runs away is not a version either. */
	snprintf(long_version, sizeof(long_version), "QEMU emulator version %0100d\n", 7);
	expect_version(long_version, NULL);
}

/* A version is digits separated by dots, not dots alone. */
static void test_version_needs_digits(void **state)
{
	expect_version("QEMU emulator version .\n", NULL);
	expect_version("QEMU emulator version ...\n", NULL);
}

/*
 * A search path laid out for the tests:
 *   a/           empty
 *   b/QEMU       executable
 *   c/QEMU       executable (shadowed by b)
 *   d/QEMU       not executable
 *   e/QEMU/      a directory
 */
typedef struct Layout {
	char *root;
	char *a, *b, *c, *d, *e;
} Layout;

static char *make_dir(const char *root, const char *name)
{
	char *path = tmpdir_path(root, name);

	assert_int_equal(mkdir(path, 0755), 0);
	return path;
}

static void write_program(const char *dir, mode_t mode)
{
	static const char script[] = "#!/bin/sh\necho 'QEMU emulator version 7.2.0'\n";

	free(tmpdir_write(dir, QEMU, script, strlen(script), mode));
}

static int setup_layout(void **state)
{
	Layout *layout = calloc(1, sizeof(*layout));

	assert_non_null(layout);
	layout->root = tmpdir_new();
	layout->a = make_dir(layout->root, "a");
	layout->b = make_dir(layout->root, "b");
	layout->c = make_dir(layout->root, "c");
	layout->d = make_dir(layout->root, "d");
	layout->e = make_dir(layout->root, "e");
	write_program(layout->b, 0755);
	write_program(layout->c, 0755);
	write_program(layout->d, 0644);
	free(make_dir(layout->e, QEMU));
	*state = layout;
	return 0;
}

static int teardown_layout(void **state)
{
	Layout *layout = *state;

	tmpdir_remove(layout->root);
	free(layout->a);
	free(layout->b);
	free(layout->c);
	free(layout->d);
	free(layout->e);
	free(layout);
	return 0;
}

/* Joins directories with ':' into a search path (a NULL ends the list). */
static char *search_path(const char *first, ...)
{
	char *path = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&path, &size);
	va_list ap;
	size_t n = 0;

	assert_non_null(f);
	va_start(ap, first);
	for (const char *dir = first; dir; dir = va_arg(ap, const char *))
		fprintf(f, "%s%s", n++ > 0 ? ":" : "", dir);
	va_end(ap);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Looking `name` up in `path` finds dir/name, or nothing when dir is NULL. */
static void expect_found(const char *name, const char *path, const char *dir)
{
	_cleanup_free_ char *found = qemu_find_in_path(name, path);
	_cleanup_free_ char *expected = dir ? tmpdir_path(dir, name) : NULL;

	const char *search = path ? path : "(no PATH)";

	if (!expected && found)
		fail_msg("%s in '%s': found '%s', expected nothing", name, search, found);
	if (expected && (!found || strcmp(found, expected) != 0))
		fail_msg("%s in '%s': found '%s', expected '%s'", name, search,
			 found ? found : "(nothing)", expected);
}

static void test_find_in_path(void **state)
{
	Layout *l = *state;
	_cleanup_free_ char *a_b = search_path(l->a, l->b, NULL);
	_cleanup_free_ char *c_b = search_path(l->c, l->b, NULL);
	_cleanup_free_ char *only_a = search_path(l->a, NULL);

	expect_found(QEMU, a_b, l->b);
	expect_found(QEMU, c_b, l->c); /* the first match wins */
	expect_found(QEMU, only_a, NULL);
	expect_found("qemu-system-aarch64", a_b, NULL);
}

static void test_find_skips_what_cannot_run(void **state)
{
	Layout *l = *state;
	_cleanup_free_ char *d_e_b = search_path(l->d, l->e, l->b, NULL);
	_cleanup_free_ char *d_e = search_path(l->d, l->e, NULL);

	/* Not executable, then a directory: both passed over. */
	expect_found(QEMU, d_e_b, l->b);
	expect_found(QEMU, d_e, NULL);
}

static void test_find_odd_search_paths(void **state)
{
	Layout *l = *state;
	_cleanup_free_ char *empty_parts = search_path("", "", l->a, "", l->b, "", NULL);
	_cleanup_free_ char *missing_dir = search_path("/nonexistent/libvfio-test", l->b, NULL);

	expect_found(QEMU, empty_parts, l->b);
	expect_found(QEMU, missing_dir, l->b);
	expect_found(QEMU, "", NULL);
	expect_found(QEMU, NULL, NULL);
}

static void test_find_absolute(void **state)
{
	Layout *l = *state;
	_cleanup_free_ char *executable = tmpdir_path(l->b, QEMU);
	_cleanup_free_ char *not_executable = tmpdir_path(l->d, QEMU);
	_cleanup_free_ char *missing = tmpdir_path(l->a, QEMU);
	_cleanup_free_ char *found = NULL;

	/* An absolute path is taken as it is: the search path does not matter. */
	found = qemu_find_in_path(executable, l->a);
	assert_non_null(found);
	assert_string_equal(found, executable);

	assert_null(qemu_find_in_path(not_executable, l->b));
	assert_null(qemu_find_in_path(missing, l->b));
}

/* A directory is "executable" to access(); it is still not a program. */
static void test_find_absolute_directory(void **state)
{
	Layout *l = *state;
	_cleanup_free_ char *directory = tmpdir_path(l->e, QEMU);
	_cleanup_free_ char *found = qemu_find_in_path(directory, l->b);

	if (found)
		fail_msg("the directory %s was taken for a program", found);
}

/* The descriptor is the file found, its stat that file's: what runs is what was looked at. */
static void test_open_gives_the_file_found(void **state)
{
	Layout *l = *state;
	_cleanup_free_ char *a_b = search_path(l->a, l->b, NULL);
	_cleanup_free_ char *expected = tmpdir_path(l->b, QEMU);
	_cleanup_free_ char *path = NULL;
	struct stat st, by_path, by_fd;

	int fd = qemu_open_in_path(QEMU, a_b, &path, &st);
	assert_true(fd >= 0);
	assert_string_equal(path, expected);
	assert_int_equal(fstat(fd, &by_fd), 0);
	/* What sits at the path, looked at through a descriptor of its own, no link followed. */
	int at_path = open(expected, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	assert_true(at_path >= 0);
	assert_int_equal(fstat(at_path, &by_path), 0);
	close(at_path);
	assert_int_equal(by_fd.st_ino, by_path.st_ino);
	assert_int_equal(st.st_ino, by_fd.st_ino);
	assert_int_equal(st.st_dev, by_fd.st_dev);
	close(fd);

	_cleanup_free_ char *none = NULL;
	assert_int_equal(qemu_open_in_path(QEMU, l->a, &none, NULL), -ENOENT);
	assert_null(none);
}

int main(void)
{
#define LAYOUT_TEST(f) cmocka_unit_test_setup_teardown(f, setup_layout, teardown_layout)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_real_outputs),
		cmocka_unit_test(test_version_garbage),
		cmocka_unit_test(test_version_needs_digits),
		LAYOUT_TEST(test_find_in_path),
		LAYOUT_TEST(test_find_skips_what_cannot_run),
		LAYOUT_TEST(test_find_odd_search_paths),
		LAYOUT_TEST(test_find_absolute),
		LAYOUT_TEST(test_find_absolute_directory),
		LAYOUT_TEST(test_open_gives_the_file_found),
	};
#undef LAYOUT_TEST

	return cmocka_run_group_tests_name("qemu_probe", tests, NULL, NULL);
}
