/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VM's directories: RUNTIME/vms/NAME (its sockets) and STATE/vms/NAME (its
 * UEFI variables, swtpm's state, its log when there is no journal). Both are
 * root's; QEMU's user writes only in the one subdirectory of each delegated to
 * it (RUNTIME/vms/NAME/qemu for its VNC socket, STATE/vms/NAME/tpm for swtpm),
 * where the daemon never follows or changes anything.
 */
#pragma once

#include <sys/types.h>

/*
 * Makes DIR (its parent too, made traversable but not listable: 0711) and
 * gives it to uid:gid with `mode` through a descriptor; a link found there
 * instead of a directory is refused, not followed.
 */
int vm_dir(const char *path, uid_t uid, gid_t gid, mode_t mode, char **ret_message);

/* Removes DIR with what is in it and in its subdirectories (one level), following no link. */
void vm_dir_remove(const char *path);
