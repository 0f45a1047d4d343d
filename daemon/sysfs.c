/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sysfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int sysfs_read_text(const SysfsRoot *root, const char *relative, size_t max, char **ret)
{
	char path[4096];
	struct stat st;
	int r = sysfs_path(root, relative, path, sizeof(path));
	if (r < 0)
		return r;

	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return negative_errno();
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EAGAIN; /* FIFOs, sockets, devices: not attributes */

	_cleanup_free_ char *text = malloc(max + 1);
	if (!text)
		return -ENOMEM;
	size_t done = 0;
	for (;;) {
		ssize_t n = read(fd, text + done, max + 1 - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		if (n == 0)
			break;
		done += (size_t)n;
		if (done > max)
			return -EFBIG;
	}
	while (done > 0 && (text[done - 1] == '\n' || text[done - 1] == ' ' ||
			    text[done - 1] == '\t' || text[done - 1] == '\0'))
		done--;
	text[done] = '\0';
	if (strlen(text) != done)
		return -EBADMSG; /* a NUL inside */
	*ret = TAKE_PTR(text);
	return 0;
}

int sysfs_read_int(const SysfsRoot *root, const char *relative, int64_t *ret)
{
	_cleanup_free_ char *text = NULL;
	int r = sysfs_read_text(root, relative, 64, &text);
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

int sysfs_read_link_name(const SysfsRoot *root, const char *relative, char **ret)
{
	char path[4096], target[4096];
	int r = sysfs_path(root, relative, path, sizeof(path));
	if (r < 0)
		return r;

	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return negative_errno();
	target[n] = '\0';
	const char *name = strrchr(target, '/');
	name = name ? name + 1 : target;
	if (!name[0])
		return -EINVAL;
	*ret = strdup(name);
	return *ret ? 0 : -ENOMEM;
}

bool sysfs_exists(const SysfsRoot *root, const char *relative)
{
	char path[4096];
	return sysfs_path(root, relative, path, sizeof(path)) == 0 && access(path, F_OK) == 0;
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
		if (n == allocated) {
			size_t want = allocated ? allocated * 2 : 64;
			char **p = reallocarray(names, want, sizeof(char *));
			if (!p) {
				r = -ENOMEM;
				break;
			}
			names = p;
			allocated = want;
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
		qsort(names, n, sizeof(char *), compare_names);
		for (size_t i = 0; i < n && r >= 0; i++)
			r = callback(names[i], userdata);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r < 0 ? r : 0;
}
