/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm_sockets.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "json_util.h"
#include "macro.h"

int vm_sockets_get_running(const ClientOptions *options, const char *name, json_object **ret_vm)
{
	_cleanup_json_ json_object *reply = NULL;
	int r = request_vm_call(options, "io.libvfio.VMs.Get", name, &reply);
	if (r != EXIT_OK)
		return r;
	json_object *vm = json_get_object(reply, "vm");
	const char *state = vm ? json_get_string(vm, "state") : NULL;
	if (!state)
		return report_failure(options, "io.libvfio.Client.BadReply", NULL,
				      "libvfiod's answer about %s has no state.", name);
	if (strcmp(state, "running") != 0 && strcmp(state, "paused") != 0)
		return report_failure(options, "io.libvfio.Client.NotRunning", vm,
				      "%s is not running (it is %s): start it with 'vfioctl start "
				      "%s'.",
				      name, state, name);
	*ret_vm = json_object_get(vm);
	return EXIT_OK;
}

int vm_sockets_refused(const ClientOptions *options, json_object *vm, const char *what)
{
	const char *name = json_get_string(vm, "name");
	const char *owner = json_get_string(vm, "owner");

	if (owner)
		return report_failure(options, "io.libvfio.Client.PermissionDenied", vm,
				      "Only %s's owner (%s) and root may use its %s.", name, owner,
				      what);
	return report_failure(options, "io.libvfio.Client.PermissionDenied", vm,
			      "Only root may use %s's %s: it has no owner (give it one with "
			      "'owner:' in its definition).",
			      name, what);
}

int vm_sockets_connect(const ClientOptions *options, json_object *vm, const char *path,
		       const char *what, int *ret_fd)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	const char *name = json_get_string(vm, "name");

	if (strlen(path) >= sizeof(address.sun_path))
		return report_failure(options, "io.libvfio.Client.BadSocketPath", vm,
				      "The %s's socket path %s is too long for a Unix socket.",
				      what, path);
	strcpy(address.sun_path, path);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return report_failure(options, "io.libvfio.Client.ConnectFailed", vm,
				      "Cannot make a socket: %s.", strerror(errno));
	if (connect(fd, (struct sockaddr *)&address, sizeof(address)) < 0) {
		int error = errno;
		if (error == EACCES || error == EPERM)
			return vm_sockets_refused(options, vm, what);
		if (error == ENOENT || error == ECONNREFUSED)
			return report_failure(options, "io.libvfio.Client.NotRunning", vm,
					      "%s's %s is gone (%s): the VM stopped meanwhile.",
					      name, what, path);
		return report_failure(options, "io.libvfio.Client.ConnectFailed", vm,
				      "Cannot connect to %s's %s at %s: %s.", name, what, path,
				      strerror(error));
	}
	*ret_fd = TAKE_FD(fd);
	return EXIT_OK;
}
