/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fs_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"

/* Creates each prefix of `path` that ends before a '/', and `path` too when `self`. */
static int make_directories(const char *path, mode_t mode, int self)
{
	_cleanup_free_ char *copy = strdup(path);
	if (!copy)
		return -ENOMEM;

	for (char *p = strchr(copy + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST)
			return negative_errno();
		*p = '/';
	}
	if (self && mkdir(copy, mode) < 0 && errno != EEXIST)
		return negative_errno();
	return 0;
}

int mkdir_p(const char *path, mode_t mode)
{
	return make_directories(path, mode, 1);
}

int mkdir_p_mode(const char *path, mode_t mode)
{
	int r = mkdir_p(path, mode);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchmod(fd, mode) < 0)
		return negative_errno();
	return 0;
}

int mkdir_parents(const char *path, mode_t mode)
{
	return make_directories(path, mode, 0);
}

/* fsync of a directory, so a rename or unlink in it survives a power cut. */
static int sync_directory(const char *directory)
{
	_cleanup_close_ int fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		return negative_errno();
	return 0;
}

/* What a read starts with: the file's size when it tells one, else a page. */
static size_t first_allocation(int fd, size_t limit)
{
	struct stat st;
	size_t size = 4096;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (uint64_t)st.st_size < limit)
		size = (size_t)st.st_size + 1; /* one more byte to see the end without growing */
	return MIN(size, limit);
}

int read_full_fd(int fd, size_t max_size, char **ret, size_t *ret_size)
{
	/*
	 * The buffer grows with what is read, up to max_size + 1: allocating the
	 * whole bound up front mapped and unmapped 256 KiB for each 100-byte
	 * definition, a TLB shootdown across every thread of the daemon each time.
	 */
	size_t limit = max_size + 1, size = 0, allocated = first_allocation(fd, limit);
	_cleanup_free_ char *text = malloc(allocated + 1);

	if (!text)
		return -ENOMEM;
	while (size < limit) {
		if (size == allocated) {
			size_t grown = allocated > limit / 2 ? limit : allocated * 2;
			char *bigger = realloc(text, grown + 1);
			if (!bigger)
				return -ENOMEM;
			text = bigger;
			allocated = grown;
		}
		ssize_t n = read(fd, text + size, allocated - size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		if (n == 0)
			break;
		size += (size_t)n;
	}
	text[size] = '\0';
	*ret = TAKE_PTR(text);
	*ret_size = size;
	return 0;
}

int write_all(int fd, const void *buffer, size_t size)
{
	const char *data = buffer;

	for (size_t done = 0; done < size;) {
		ssize_t n = write(fd, data + done, size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		done += (size_t)n;
	}
	return 0;
}

static int replace_file(const char *directory, const char *name, const void *data, size_t size,
			mode_t mode, bool durable)
{
	char path[4096], temporary[4096];

	if (strchr(name, '/') || name[0] == '.' || name[0] == '\0')
		return -EINVAL;
	if (snprintf(path, sizeof(path), "%s/%s", directory, name) >= (int)sizeof(path) ||
	    snprintf(temporary, sizeof(temporary), "%s/.%s.tmp", directory, name) >=
		    (int)sizeof(temporary))
		return -ENAMETOOLONG;
	int r = mkdir_p(directory, 0700);
	if (r < 0)
		return r;

	_cleanup_close_ int fd =
		open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return negative_errno();
	/* The umask must not narrow what the caller asked for. */
	r = fchmod(fd, mode) < 0 ? negative_errno() : write_all(fd, data, size);
	if (r >= 0 && ((durable && fsync(fd) < 0) || rename(temporary, path) < 0))
		r = negative_errno();
	if (r < 0) {
		(void)unlink(temporary);
		return r;
	}
	return durable ? sync_directory(directory) : 0;
}

int write_file_atomic(const char *directory, const char *name, const void *data, size_t size,
		      mode_t mode)
{
	return replace_file(directory, name, data, size, mode, true);
}

int write_file_replace(const char *directory, const char *name, const void *data, size_t size,
		       mode_t mode)
{
	return replace_file(directory, name, data, size, mode, false);
}

int unlink_durable(const char *directory, const char *name)
{
	char path[4096];

	if (snprintf(path, sizeof(path), "%s/%s", directory, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (unlink(path) < 0) {
		if (errno == ENOENT)
			return 0;
		return negative_errno();
	}
	return sync_directory(directory);
}
