/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm/vm_looking_glass.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error_message.h"
#include "fs_util.h"
#include "macro.h"
#include "safe_open.h"
#include "vm/vm_qemu_user.h"

void looking_glass_shm_path(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "/dev/shm/looking-glass-%s", name);
}

int looking_glass_group(const QemuUser *user, const char *owner, gid_t *ret, char **ret_message)
{
	if (!owner) {
		*ret = user->gid;
		return 0;
	}
	/* The owner runs the Looking Glass client: the memory is shared with them. */
	uid_t uid;
	if (user_ids_lookup(owner, &uid, ret) < 0)
		return error_message(ret_message, -ENOENT,
				     "owner: there is no user '%s' to share Looking Glass with.",
				     owner);
	return 0;
}

int looking_glass_file(const char *path, uid_t uid, gid_t gid, char **ret_message)
{
	/*
	 * /dev/shm is writable by everyone: a file left there by someone else
	 * could be theirs to read. It is made anew, exclusively.
	 */
	if (unlink(path) < 0 && errno != ENOENT)
		return error_message(ret_message, negative_errno(),
				     "looking-glass: cannot replace %s: %s.", path,
				     strerror(errno));
	_cleanup_close_ int fd =
		open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || fd_chown_chmod(fd, uid, gid, 0660) < 0)
		return error_message(ret_message, negative_errno(),
				     "looking-glass: cannot create %s: %s.", path, strerror(errno));
	return 0;
}
