/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "tmpdir.h"

#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

char *tmpdir_new(void)
{
	const char *base = getenv("TMPDIR");
	char *path = NULL;

	assert_true(asprintf(&path, "%s/libvfio-unit-XXXXXX", base && *base ? base : "/tmp") > 0);
	assert_non_null(mkdtemp(path));
	return path;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path);
}

void tmpdir_remove(char *path)
{
	if (!path)
		return;
	/* FTW_DEPTH: children before their directory; FTW_PHYS: never follow a symlink out. */
	assert_int_equal(nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
	free(path);
}

char *tmpdir_path(const char *dir, const char *name)
{
	char *path = NULL;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	return path;
}

char *tmpdir_write(const char *dir, const char *name, const void *data, size_t size, mode_t mode)
{
	char *path = tmpdir_path(dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	for (size_t done = 0; done < size;) {
		ssize_t n = write(fd, (const char *)data + done, size - done);
		assert_true(n > 0);
		done += (size_t)n;
	}
	/* open() applies the umask; the tests mean the mode they ask for. */
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
	return path;
}

char *tmpdir_write_text(const char *dir, const char *name, const char *text)
{
	return tmpdir_write(dir, name, text, strlen(text), 0644);
}
