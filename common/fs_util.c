/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fs_util.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

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

int mkdir_parents(const char *path, mode_t mode)
{
	return make_directories(path, mode, 0);
}
