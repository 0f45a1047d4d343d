/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The user QEMU runs as (vms.qemu-user): looked up once per start, never root
 * unless configured so.
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
