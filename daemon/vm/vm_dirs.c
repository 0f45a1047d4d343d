/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm/vm_dirs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error_message.h"
#include "fs_util.h"
#include "macro.h"
#include "safe_open.h"

/* The parent (RUNTIME/vms, STATE/vms, a VM's own): traversable, not listable. */
static int parent_dir(const char *path, char **ret_message)
{
	char parent[4096];

	snprintf(parent, sizeof(parent), "%s", path);
	char *slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return error_message(ret_message, -EINVAL, "%s is not below a directory.", path);
	*slash = '\0';
	int r = mkdir_p_mode(parent, 0711);
	if (r < 0)
		return error_message(ret_message, r, "Cannot prepare the directory %s: %s.", parent,
				     strerror(-r));
	return 0;
}

int vm_dir(const char *path, uid_t uid, gid_t gid, mode_t mode, char **ret_message)
{
	int r = parent_dir(path, ret_message);
	if (r < 0)
		return r;
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return error_message(ret_message, negative_errno(),
				     "Cannot prepare the directory %s: %s.", path, strerror(errno));
	/*
	 * One left by an older daemon may be QEMU's user's, and it may have put a
	 * link there: opened without following one, checked, and changed through
	 * the descriptor, so a planted link hands over nothing.
	 */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
		return error_message(ret_message, -ELOOP,
				     "%s is a link or not a directory; libvfiod follows no link it "
				     "did not make. Remove it, and it is made anew.",
				     path);
	if (fd < 0 || fd_chown_chmod(fd, uid, gid, mode) < 0)
		return error_message(ret_message, negative_errno(),
				     "Cannot prepare the directory %s: %s.", path, strerror(errno));
	return 0;
}

/* Removes the entries of the directory `fd` (closed), one level of subdirectories included. */
static void remove_entries(int fd, bool descend)
{
	DIR *dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return;
	}
	for (struct dirent *e; (e = readdir(dir));) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(dir), e->d_name, 0) >= 0 || errno != EISDIR || !descend)
			continue;
		/* QEMU's own directory: emptied (no link followed), then removed */
		int sub = openat(dirfd(dir), e->d_name,
				 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0)
			remove_entries(sub, false);
		(void)unlinkat(dirfd(dir), e->d_name, AT_REMOVEDIR);
	}
	closedir(dir);
}

void vm_dir_remove(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	remove_entries(fd, true);
	(void)rmdir(path);
}
