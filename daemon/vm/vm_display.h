/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A running VM's screen for its owner: RUNTIME/vms/NAME/vnc.sock, a socket
 * the daemon listens on, owned by the VM's owner (root's when it has none),
 * mode 0600, so the owner and root may connect and nobody else. QEMU runs
 * with `-vnc none` (a VNC server that listens nowhere); each connection the
 * daemon accepts is handed to it over QMP (getfd with the descriptor, then
 * add_client), so QEMU's user writes no socket anywhere and no other user
 * can reach the screen.
 */
#pragma once

#include "vm/vm_internal.h"

/*
 * Listens for the VM (its QMP is connected and its guest runs). Logged on
 * failure. Its console (vm_console.h) and its Looking Glass memory are shown
 * from here on too (VmInfo).
 */
void vm_display_open(Vm *vm);

/*
 * Stops listening and removes the socket (QEMU ends, or the daemon exits), and
 * stops showing the console. Accepts a closed one.
 */
void vm_display_close(Vm *vm);

/* The socket's path for VM `name`, written to `buf`. */
void vm_display_path(const Vm *vm, char *buf, size_t size);
