/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm/vm_tpm.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error_message.h"
#include "host/qemu_probe.h"
#include "macro.h"
#include "process/process_spawn.h"
#include "vm/vm_dirs.h"
#include "vm/vm_helpers.h"
#include "vm/vm_socket.h"

int vm_tpm_start(const char *vm_name, const char *state_dir, const char *socket_path,
		 const QemuUser *user, int output_fd, pid_t *ret_pid, int *ret_pidfd,
		 SpawnHold *ret_hold, char **ret_message)
{
	_cleanup_free_ char *binary = qemu_find_in_path("swtpm", "/usr/bin:/bin:/usr/local/bin");
	_cleanup_free_ char *state = NULL;
	const char *stage;

	if (!binary)
		return error_message(
			ret_message, -ENOENT,
			"tpm: swtpm is not installed; install it (apt install swtpm) or remove "
			"'tpm: true'.");
	/* swtpm reads its options with commas as separators, and has no escape. */
	if (strchr(state_dir, ','))
		return error_message(ret_message, -EINVAL,
				     "tpm: the state directory %s holds a comma.", state_dir);
	int r = vm_dir(state_dir, user->uid, user->gid, 0700, ret_message);
	if (r < 0)
		return r;
	_cleanup_close_ int listening = unix_listen_at(socket_path, user->uid, user->gid);
	if (listening < 0)
		return error_message(ret_message, listening, "tpm: cannot listen on %s: %s.",
				     socket_path, strerror(-listening));
	if (asprintf(&state, "dir=%s,mode=0600", state_dir) < 0)
		return -ENOMEM;

	char ctrl[32];
	/* the listening socket, passed first */
	snprintf(ctrl, sizeof(ctrl), "type=unixio,fd=%d", SPAWN_FIRST_PASSED_FD);
	char *const argv[] = {
		binary,
		(char *)"socket",
		(char *)"--tpm2",
		(char *)"--tpmstate",
		state,
		(char *)"--ctrl",
		ctrl,
		(char *)"--terminate",
		NULL,
	};
	char marker[VM_HELPER_MARKER_SIZE];
	vm_helper_marker(vm_name, marker);
	char *const environment[] = { (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
				      (char *)"HOME=/", marker, NULL };
	SpawnRequest request = {
		.argv = argv,
		.envp = environment,
		.stdout_fd = output_fd,
		.stderr_fd = output_fd,
		.pass_fds = &listening,
		.n_pass_fds = 1,
		.drop_privileges = !user->is_root,
		.uid = user->uid,
		.gid = user->gid,
	};
	r = process_spawn_held(&request, ret_pid, ret_pidfd, ret_hold, &stage);
	if (r < 0)
		return error_message(ret_message, r, "tpm: cannot start swtpm (%s failed: %s).",
				     stage, strerror(-r));
	return 0;
}
