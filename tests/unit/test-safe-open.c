/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of common/safe_open.c: a link is followed only in a directory only
 * root can change; in one others can write it is refused, and so is a second
 * name of a file; relative targets, absolute targets, "..", loops and FIFOs;
 * and fd_chown_chmod() through an O_PATH descriptor. Run as root (as CI does);
 * a case that needs root says so and passes as another user.
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

#include "macro.h"
#include "safe_open.h"
#include "tmpdir.h"

typedef struct Tree {
	char *top; /* root's 0700 */
	char *file; /* top/file, "content" */
	char *shared; /* top/shared, 0777: anyone may write */
} Tree;

static int setup(void **state)
{
	Tree *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	t->top = tmpdir_new();
	t->file = tmpdir_write_text(t->top, "file", "content");
	t->shared = tmpdir_path(t->top, "shared");
	assert_int_equal(mkdir(t->shared, 0777), 0);
	assert_int_equal(chmod(t->shared, 0777), 0);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	Tree *t = *state;
	free(t->file);
	free(t->shared);
	tmpdir_remove(t->top);
	free(t);
	return 0;
}

static char *joined(const char *a, const char *b)
{
	char *p = NULL;
	assert_true(asprintf(&p, "%s/%s", a, b) > 0);
	return p;
}

/* Opens `path` and says what it reads; -errno and the message on failure. */
static int open_and_read(const char *path, char *buf, size_t size, char **ret_message)
{
	struct stat st;
	*ret_message = NULL;
	int fd = safe_open(path, O_RDONLY, &st, ret_message);
	if (fd < 0)
		return fd;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	return 0;
}

static void test_a_plain_file(void **state)
{
	Tree *t = *state;
	char buf[64];
	_cleanup_free_ char *message = NULL;

	assert_int_equal(open_and_read(t->file, buf, sizeof(buf), &message), 0);
	assert_string_equal(buf, "content");
	assert_null(message);
}

static void test_a_link_in_a_directory_only_root_can_change_is_followed(void **state)
{
	Tree *t = *state;
	char buf[64];
	_cleanup_free_ char *relative = joined(t->top, "relative"),
			    *absolute = joined(t->top, "absolute"), *dotted = NULL, *message = NULL;

	if (geteuid() != 0) {
		skip();
		return;
	}
	assert_int_equal(symlink("file", relative), 0);
	assert_int_equal(symlink(t->file, absolute), 0);
	assert_int_equal(open_and_read(relative, buf, sizeof(buf), &message), 0);
	assert_string_equal(buf, "content");
	assert_int_equal(open_and_read(absolute, buf, sizeof(buf), &message), 0);
	assert_string_equal(buf, "content");
	/* ".." after a link goes up from where the link led */
	assert_true(asprintf(&dotted, "%s/shared/../relative", t->top) > 0);
	assert_int_equal(open_and_read(dotted, buf, sizeof(buf), &message), 0);
	assert_string_equal(buf, "content");
}

static void test_a_link_in_a_directory_others_can_write_is_refused(void **state)
{
	Tree *t = *state;
	char buf[64];
	_cleanup_free_ char *planted = joined(t->shared, "disk.img"), *message = NULL,
			    *deeper = joined(t->top, "via");

	assert_int_equal(symlink(t->file, planted), 0);
	assert_int_equal(open_and_read(planted, buf, sizeof(buf), &message), -ELOOP);
	assert_non_null(strstr(message, "is a link in a directory other users can write"));
	/* also where the link is a directory on the way */
	message = mfree(message);
	_cleanup_free_ char *dir_link = joined(t->shared, "dir"), *through = NULL;
	assert_int_equal(symlink(t->top, dir_link), 0);
	assert_true(asprintf(&through, "%s/file", dir_link) > 0);
	assert_int_equal(open_and_read(through, buf, sizeof(buf), &message), -ELOOP);
	/* and where a trusted link leads into it */
	message = mfree(message);
	assert_int_equal(symlink(planted, deeper), 0);
	int r = open_and_read(deeper, buf, sizeof(buf), &message);
	assert_int_equal(r, -ELOOP);
}

static void test_a_second_name_in_a_shared_directory_is_refused(void **state)
{
	Tree *t = *state;
	char buf[64];
	_cleanup_free_ char *second = joined(t->shared, "hard"), *message = NULL,
			    *mine = joined(t->shared, "mine");

	assert_int_equal(link(t->file, second), 0);
	assert_int_equal(open_and_read(second, buf, sizeof(buf), &message), -EPERM);
	assert_non_null(strstr(message, "hard link"));
	/* a file of one name there is opened */
	free(tmpdir_write_text(t->shared, "mine", "mine"));
	message = mfree(message);
	assert_int_equal(open_and_read(mine, buf, sizeof(buf), &message), 0);
	assert_string_equal(buf, "mine");
}

static void test_loops_fifos_and_relative_paths(void **state)
{
	Tree *t = *state;
	char buf[64];
	_cleanup_free_ char *loop = joined(t->top, "loop"), *fifo = joined(t->top, "fifo"),
			    *message = NULL;

	assert_int_equal(symlink("loop", loop), 0);
	int r = open_and_read(loop, buf, sizeof(buf), &message);
	assert_int_equal(r, -ELOOP);
	message = mfree(message);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(open_and_read(fifo, buf, sizeof(buf), &message), -EINVAL);
	message = mfree(message);
	assert_int_equal(open_and_read("relative/path", buf, sizeof(buf), &message), -EINVAL);
	message = mfree(message);
	_cleanup_free_ char *missing = joined(t->top, "missing");
	assert_int_equal(open_and_read(missing, buf, sizeof(buf), &message), -ENOENT);
	assert_non_null(strstr(message, "No such file"));
}

static void test_chown_chmod_through_an_o_path_descriptor(void **state)
{
	Tree *t = *state;
	struct stat st;
	_cleanup_free_ char *message = NULL;

	int fd = safe_open(t->file, O_PATH, &st, &message);
	assert_true(fd >= 0);
	assert_int_equal(fd_chown_chmod(fd, geteuid(), getegid(), 0640), 0);
	close(fd);
	assert_int_equal(stat(t->file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_plain_file, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_a_link_in_a_directory_only_root_can_change_is_followed, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_a_link_in_a_directory_others_can_write_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_second_name_in_a_shared_directory_is_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_loops_fifos_and_relative_paths, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_chown_chmod_through_an_o_path_descriptor,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
