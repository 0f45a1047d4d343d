/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm/vm_qemu_user.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error_message.h"

int qemu_user_lookup(const char *name, QemuUser *ret, char **ret_message)
{
	errno = 0;
	struct passwd *pw = getpwnam(name);
	if (!pw)
		return error_message(
			ret_message, errno ? -errno : -ENOENT,
			"The user '%s' that QEMU runs as does not exist; create it "
			"(systemd-sysusers, or: useradd --system --no-create-home %s) or set "
			"vms.qemu-user in libvfiod.yaml.",
			name, name);
	*ret = (QemuUser){ .uid = pw->pw_uid, .gid = pw->pw_gid, .is_root = pw->pw_uid == 0 };
	return 0;
}
