/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm/vm_qemu_user.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error_message.h"

int user_ids_lookup(const char *name, uid_t *ret_uid, gid_t *ret_gid)
{
	char buf[16384];
	struct passwd pw, *found = NULL;
	int r = name ? getpwnam_r(name, &pw, buf, sizeof(buf), &found) : 0;
	if (r != 0)
		return -r;
	if (!found)
		return -ENOENT;
	*ret_uid = found->pw_uid;
	*ret_gid = found->pw_gid;
	return 0;
}

int qemu_user_lookup(const char *name, QemuUser *ret, char **ret_message)
{
	uid_t uid;
	gid_t gid;
	int r = user_ids_lookup(name, &uid, &gid);
	if (r < 0)
		return error_message(
			ret_message, r,
			"The user '%s' that QEMU runs as does not exist; create it "
			"(systemd-sysusers, or: useradd --system --no-create-home %s) or set "
			"vms.qemu-user in libvfiod.yaml.",
			name, name);
	*ret = (QemuUser){ .uid = uid, .gid = gid, .is_root = uid == 0 };
	return 0;
}
