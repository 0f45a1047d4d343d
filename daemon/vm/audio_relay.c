/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm/audio_relay.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "error_message.h"
#include "macro.h"
#include "process/helper_program.h"
#include "process/process_spawn.h"
#include "vm/vm_helpers.h"
#include "vm/vm_qemu_user.h"
#include "vm/vm_socket.h"

int audio_relay_start(const char *vm_name, const char *user_runtime_root, const char *owner,
		      const char *listen_path, const QemuUser *qemu, pid_t *ret_pid, int *ret_pidfd,
		      SpawnHold *ret_hold, char **ret_message)
{
	struct sockaddr_un target = { .sun_family = AF_UNIX };
	struct stat st;

	if (!owner)
		return error_message(ret_message, -EINVAL,
				     "audio: the VM has no owner, whose sound server it would use; "
				     "add 'owner: USER'.");
	uid_t uid;
	gid_t gid;
	if (user_ids_lookup(owner, &uid, &gid) < 0)
		return error_message(ret_message, -ENOENT, "audio: there is no user '%s'.", owner);
	if (snprintf(target.sun_path, sizeof(target.sun_path), "%s/%u/pulse/native",
		     user_runtime_root, (unsigned)uid) >= (int)sizeof(target.sun_path))
		return error_message(ret_message, -ENAMETOOLONG, "audio: %s is too long a path.",
				     user_runtime_root);
	if (lstat(target.sun_path, &st) < 0 || !S_ISSOCK(st.st_mode) || st.st_uid != uid)
		return error_message(ret_message, -ENOENT,
				     "audio: %s has no sound server running (%s is not their "
				     "socket): log in as %s, with PipeWire or PulseAudio, or use "
				     "'audio: none'.",
				     owner, target.sun_path, owner);

	_cleanup_close_ int listening = unix_listen_at(listen_path, qemu->uid, qemu->gid);
	if (listening < 0)
		return error_message(ret_message, listening, "audio: cannot listen on %s: %s.",
				     listen_path, strerror(-listening));
	/*
	 * A program of its own, exec'd as the owner: a fork of the daemon would
	 * leave a copy of the root daemon's memory in the owner's process.
	 */
	_cleanup_free_ char *program = NULL;
	_cleanup_close_ int exec_fd = helper_program_open("libvfio-audio-relay", &program);
	if (exec_fd < 0)
		return error_message(
			ret_message, exec_fd,
			"audio: the relay program libvfio-audio-relay is missing (%s); "
			"reinstall libvfio.",
			strerror(-exec_fd));
	char *const argv[] = { program, target.sun_path, NULL };
	char marker[VM_HELPER_MARKER_SIZE];
	vm_helper_marker(vm_name, marker);
	char *const environment[] = { (char *)"PATH=/usr/bin:/bin", marker, NULL };
	SpawnRequest request = {
		.argv = argv,
		.exec_fd = exec_fd,
		.envp = environment,
		.stdout_fd = -1,
		.stderr_fd = -1,
		.pass_fds = &listening,
		.n_pass_fds = 1,
		.drop_privileges = true,
		.uid = uid,
		.gid = gid,
	};
	const char *stage;
	pid_t pid;
	int pidfd;
	int r = process_spawn_held(&request, &pid, &pidfd, ret_hold, &stage);
	if (r < 0)
		return error_message(ret_message, r,
				     "audio: cannot start the relay (%s failed: %s).", stage,
				     strerror(-r));
	*ret_pid = pid;
	*ret_pidfd = pidfd;
	return 0;
}
