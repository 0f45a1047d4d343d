/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The users a VM's processes run as, by name: QEMU's (vms.qemu-user), looked
 * up once per start and never root unless configured so, and its owner's.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

typedef struct QemuUser {
	uid_t uid;
	gid_t gid;
	bool is_root;
} QemuUser;

/* Looks the user up. -ENOENT with *ret_message when it does not exist. */
int qemu_user_lookup(const char *name, QemuUser *ret, char **ret_message);

/* A user's uid and primary gid, by name. -ENOENT when there is none. */
int user_ids_lookup(const char *name, uid_t *ret_uid, gid_t *ret_gid);
