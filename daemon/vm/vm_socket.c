/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm/vm_socket.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fs_util.h"
#include "macro.h"
#include "safe_open.h"

int unix_listen_at(const char *path, uid_t uid, gid_t gid)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(address.sun_path))
		return -ENAMETOOLONG;
	strcpy(address.sun_path, path);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return negative_errno();
	(void)unlink(path); /* one left by an earlier start */
	if (bind(fd, (struct sockaddr *)&address, sizeof(address)) < 0)
		return negative_errno();
	int r = bound_socket_chown_chmod(path, uid, gid, 0600);
	if (r < 0)
		return r;
	if (listen(fd, 4) < 0)
		return negative_errno();
	return TAKE_FD(fd);
}
