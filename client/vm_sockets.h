/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sockets and files a running VM offers its owner and root (VMs.Get's
 * display, console and lookingGlass): asks the daemon for the VM, checks that
 * it runs and has the one asked for, and opens it as the caller, with one
 * sentence for each refusal (for `vfioctl console` and `vfioctl view`).
 */
#pragma once

#include <json-c/json.h>

#include "request.h"

/*
 * Gets VM `name` and checks that it runs. On success returns EXIT_OK and the
 * VM's object in *ret_vm (owned by the caller); otherwise says why (not
 * running, no such VM, ...) and returns EXIT_FAILED.
 */
int vm_sockets_get_running(const ClientOptions *options, const char *name, json_object **ret_vm);

/*
 * Connects to the Unix socket at `path` of VM `vm` (`what` names it in
 * sentences: "console", "screen"). Returns EXIT_OK with the descriptor in
 * *ret_fd, or says why not ("only NAME's owner (USER) and root may use its
 * console", "the VM stopped meanwhile") and returns EXIT_FAILED.
 */
int vm_sockets_connect(const ClientOptions *options, json_object *vm, const char *path,
		       const char *what, int *ret_fd);

/* Says that `what` of `vm` is refused to the caller (EACCES); returns EXIT_FAILED. */
int vm_sockets_refused(const ClientOptions *options, json_object *vm, const char *what);
