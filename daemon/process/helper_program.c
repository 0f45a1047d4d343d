/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "process/helper_program.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build-config.h"
#include "macro.h"

/* A regular file with execute permission, opened without following a link. */
static int open_program(const char *path)
{
	struct stat st;
	int fd = open(path, O_PATH | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return negative_errno();
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & S_IXOTH)) {
		close(fd);
		return -ENOENT;
	}
	return fd;
}

int helper_program_open(const char *name, char **ret_path)
{
	char self[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int fd = -ENOENT;

	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(path, sizeof(path), "%s/%s", self, name);
			fd = open_program(path);
		}
	}
	if (fd < 0) {
		snprintf(path, sizeof(path), "%s/%s", HELPER_DIR, name);
		fd = open_program(path);
	}
	if (fd < 0)
		return fd;
	*ret_path = strdup(path);
	if (!*ret_path) {
		close(fd);
		return -ENOMEM;
	}
	return fd;
}
