/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Listening sockets the daemon makes for a process that inherits them (QEMU's
 * QMP, swtpm's control channel, the audio relay), so nothing waits for one to
 * appear and nobody can swap it for another.
 */
#pragma once

#include <sys/types.h>

/*
 * A listening Unix socket bound at `path` (an old one there is replaced),
 * owned by uid:gid, mode 0600, close-on-exec: for a process that inherits it
 * (QEMU's QMP, swtpm's control channel), so nothing waits for it to appear.
 * `path` must be in a directory only root can write.
 */
int unix_listen_at(const char *path, uid_t uid, gid_t gid);
