/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of common/fs_util.c's read_full_fd(): every size around its first
 * allocation and its bound, from a file (which tells its size) and from a
 * pipe (which does not), and a file that grew after it was measured.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fs_util.h"
#include "macro.h"
#include "tmpdir.h"

/* `size` bytes of a pattern that shows a byte out of place. */
static char *pattern(size_t size)
{
	char *data = malloc(size + 1);
	assert_non_null(data);
	for (size_t i = 0; i < size; i++)
		data[i] = (char)('a' + i % 23);
	data[size] = '\0';
	return data;
}

static void check_read(int fd, size_t max, const char *expected, size_t expected_size)
{
	char *text = NULL;
	size_t size = 0;

	assert_int_equal(read_full_fd(fd, max, &text, &size), 0);
	assert_int_equal(size, expected_size);
	assert_memory_equal(text, expected, MIN(size, max + 1));
	assert_int_equal(text[size], '\0');
	free(text);
}

static void test_file_sizes(void **state)
{
	static const size_t sizes[] = { 0, 1, 100, 4095, 4096, 4097, 9000, 65536, 262144, 262145 };
	const size_t max = 262144;
	char *dir = tmpdir_new();

	for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
		char *data = pattern(sizes[i] + 10);
		char *path = tmpdir_write(dir, "file", data, sizes[i], 0600);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		/* Past the bound: max + 1 bytes are read, which says "too long". */
		check_read(fd, max, data, MIN(sizes[i], max + 1));
		close(fd);
		free(path);
		free(data);
	}
	tmpdir_remove(dir);
}

/* A pipe says no size: the buffer grows from a page as bytes come. */
static void test_pipe_sizes(void **state)
{
	static const size_t sizes[] = { 0, 1, 4096, 4097, 70000, 100001 };
	const size_t max = 100000;

	for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
		char *data = pattern(sizes[i]);
		int fds[2];
		assert_int_equal(pipe(fds), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			_exit(write_all(fds[1], data, sizes[i]) < 0 ? 1 : 0);
		}
		close(fds[1]);
		check_read(fds[0], max, data, MIN(sizes[i], max + 1));
		close(fds[0]);
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		/* Past the bound the reader stopped early: the writer may have hit EPIPE. */
		if (sizes[i] <= max)
			assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		free(data);
	}
}

/* A file that grows between the open and the read: what it holds now is read. */
static void test_file_grown_after_open(void **state)
{
	char *dir = tmpdir_new();
	char *data = pattern(20000);
	char *path = tmpdir_write(dir, "file", data, 10, 0600);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	int writer = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_true(writer >= 0);
	assert_int_equal(write_all(writer, data + 10, 19990), 0);
	close(writer);
	check_read(fd, 1 << 20, data, 20000);
	close(fd);
	free(path);
	free(data);
	tmpdir_remove(dir);
}

static void test_unreadable(void **state)
{
	char *text = NULL;
	size_t size;
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(read_full_fd(fd, 100, &text, &size), -EISDIR);
	assert_null(text);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_sizes),
		cmocka_unit_test(test_pipe_sizes),
		cmocka_unit_test(test_file_grown_after_open),
		cmocka_unit_test(test_unreadable),
	};
	return cmocka_run_group_tests_name("fs_util", tests, NULL, NULL);
}
