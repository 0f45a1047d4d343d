/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The owner's serial console of a running VM (vm_console.h).
 */
#include "vm/vm_console.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/log.h"
#include "error_message.h"
#include "macro.h"
#include "vm/vm_qemu_user.h"
#include "vm/vm_socket.h"

void vm_console_path(const Vm *vm, char *buf, size_t size)
{
	(void)snprintf(buf, size, "%s/%s/console.sock", vm->manager->records_dir, vm->name);
}

int vm_console_listen(const Vm *vm, const char *owner, char **ret_message)
{
	char path[4200];
	uid_t uid = 0;
	gid_t gid = 0;

	vm_console_path(vm, path, sizeof(path));
	if (owner && user_ids_lookup(owner, &uid, &gid) < 0) {
		vm_log(vm, LOG_WARNING, 0,
		       "VM %s: its owner '%s' is no user; its console is root's alone", vm->name,
		       owner);
		uid = gid = 0;
	}
	int fd = unix_listen_at(path, uid, gid);
	if (fd < 0)
		return error_message(ret_message, fd, "Cannot listen on %s: %s.", path,
				     strerror(-fd));
	return fd;
}

void vm_console_open(Vm *vm)
{
	char path[4200];
	struct stat st;

	vm_console_path(vm, path, sizeof(path));
	/* In the daemon's own directory: only it (and QEMU's listener) put a socket there. */
	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		vm->console_path = mfree(vm->console_path);
		return;
	}
	if (vm->console_path && strcmp(vm->console_path, path) == 0)
		return;
	free(vm->console_path);
	vm->console_path = strdup(path); /* NULL: Get does not show it; it works all the same */
}

void vm_console_close(Vm *vm)
{
	vm->console_path = mfree(vm->console_path);
}
