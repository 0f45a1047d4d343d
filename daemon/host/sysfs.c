/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host/sysfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "array.h"
#include "macro.h"

int sysfs_root_init(SysfsRoot *root, const char *path)
{
	size_t n = strlen(path);
	while (n > 0 && path[n - 1] == '/')
		n--;
	root->path = strndup(path, n);
	return root->path ? 0 : -ENOMEM;
}

void sysfs_root_done(SysfsRoot *root)
{
	free(root->path);
	root->path = NULL;
}

int sysfs_path(const SysfsRoot *root, const char *relative, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s", root->path, relative);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static bool is_fifo(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && !S_ISREG(st.st_mode);
}

int sysfs_open_dir(const SysfsRoot *root, const char *relative)
{
	char path[4096];
	int r = sysfs_path(root, relative, path, sizeof(path));
	if (r < 0)
		return r;
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? negative_errno() : fd;
}

int sysfs_read_text_at(int dir, const char *name, size_t max, char **ret)
{
	/*
	 * O_NONBLOCK: a FIFO opens at once and reads nothing (EAGAIN or 0), a
	 * directory fails the read with EISDIR: no stat needed, which counts when
	 * thousands of attributes are read.
	 */
	_cleanup_close_ int fd = openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return negative_errno();

	_cleanup_free_ char *text = malloc(max + 1);
	if (!text)
		return -ENOMEM;
	size_t done = 0;
	for (;;) {
		size_t want = max + 1 - done;
		ssize_t n = read(fd, text + done, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		if (n == 0)
			break;
		done += (size_t)n;
		if (done > max)
			return -EFBIG;
		/*
		 * A sysfs attribute is one page at most and comes whole in one read, so
		 * a short read of a small one is its end: this saves a system call per
		 * attribute. Longer files (proc's) come a page at a time: read on.
		 */
		if ((size_t)n < want && max < SYSFS_PAGE_SIZE)
			break;
	}
	if (done == 0 && is_fifo(fd))
		return -EAGAIN; /* not an attribute */
	while (done > 0 && (text[done - 1] == '\n' || text[done - 1] == ' ' ||
			    text[done - 1] == '\t' || text[done - 1] == '\0'))
		done--;
	text[done] = '\0';
	if (strlen(text) != done)
		return -EBADMSG; /* a NUL inside */
	*ret = TAKE_PTR(text);
	return 0;
}

int sysfs_read_text(const SysfsRoot *root, const char *relative, size_t max, char **ret)
{
	char path[4096];
	int r = sysfs_path(root, relative, path, sizeof(path));
	return r < 0 ? r : sysfs_read_text_at(AT_FDCWD, path, max, ret);
}

int sysfs_read_int_at(int dir, const char *name, int64_t *ret)
{
	_cleanup_free_ char *text = NULL;
	int r = sysfs_read_text_at(dir, name, 64, &text);
	if (r < 0)
		return r;

	char *end;
	errno = 0;
	long long value = strtoll(text, &end, 0);
	if (errno != 0 || end == text || *end != '\0')
		return -EINVAL;
	*ret = value;
	return 0;
}

int sysfs_read_int(const SysfsRoot *root, const char *relative, int64_t *ret)
{
	char path[4096];
	int r = sysfs_path(root, relative, path, sizeof(path));
	return r < 0 ? r : sysfs_read_int_at(AT_FDCWD, path, ret);
}

int sysfs_read_link_name_at(int dir, const char *name, char **ret)
{
	char target[4096];
	ssize_t n = readlinkat(dir, name, target, sizeof(target) - 1);
	if (n < 0)
		return negative_errno();
	target[n] = '\0';
	const char *last = strrchr(target, '/');
	last = last ? last + 1 : target;
	if (!last[0])
		return -EINVAL;
	*ret = strdup(last);
	return *ret ? 0 : -ENOMEM;
}

int sysfs_read_link_name(const SysfsRoot *root, const char *relative, char **ret)
{
	char path[4096];
	int r = sysfs_path(root, relative, path, sizeof(path));
	return r < 0 ? r : sysfs_read_link_name_at(AT_FDCWD, path, ret);
}

bool sysfs_exists_at(int dir, const char *name)
{
	return faccessat(dir, name, F_OK, 0) == 0;
}

bool sysfs_exists(const SysfsRoot *root, const char *relative)
{
	char path[4096];
	return sysfs_path(root, relative, path, sizeof(path)) == 0 &&
	       sysfs_exists_at(AT_FDCWD, path);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int sysfs_list_dir(const SysfsRoot *root, const char *relative, size_t max_entries,
		   int (*callback)(const char *name, void *userdata), void *userdata)
{
	char path[4096];
	char **names = NULL;
	size_t n = 0, allocated = 0;
	int r = sysfs_path(root, relative, path, sizeof(path));
	if (r < 0)
		return r;

	DIR *dir = opendir(path);
	if (!dir)
		return negative_errno();
	for (struct dirent *e; (e = readdir(dir));) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (n >= max_entries) {
			r = -E2BIG;
			break;
		}
		if (ARRAY_RESERVE(names, allocated, n + 1) < 0) {
			r = -ENOMEM;
			break;
		}
		names[n] = strdup(e->d_name);
		if (!names[n]) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(dir);

	if (r >= 0) {
		if (n > 0) /* qsort's base must not be NULL, even for no elements */
			qsort(names, n, sizeof(char *), compare_names);
		for (size_t i = 0; i < n && r >= 0; i++)
			r = callback(names[i], userdata);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r < 0 ? r : 0;
}
