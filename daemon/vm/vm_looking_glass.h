/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Looking Glass's shared memory (IVSHMEM): the kvmfr device when it is
 * loaded (lent like a VFIO node, vm_lent.h), else a file in /dev/shm made
 * anew for the VM's life, shared with the owner's group.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "vm/vm_qemu_user.h"

/* The /dev/shm file of VM `name`'s Looking Glass memory, when there is no kvmfr. */
void looking_glass_shm_path(const char *name, char *buf, size_t size);

/* The group that shares Looking Glass's memory: the owner's, else QEMU's user's. */
int looking_glass_group(const QemuUser *user, const char *owner, gid_t *ret, char **ret_message);

/*
 * Looking Glass's shared memory as a file in /dev/shm at `path`, made anew,
 * uid:gid, 0660. (The kvmfr device is lent instead, like a VFIO node.)
 */
int looking_glass_file(const char *path, uid_t uid, gid_t gid, char **ret_message);
