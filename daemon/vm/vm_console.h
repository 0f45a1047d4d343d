/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A running VM's serial console for its owner: RUNTIME/vms/NAME/console.sock,
 * a Unix socket the daemon binds and listens on before QEMU starts, owned by
 * the VM's owner (root's when it has none), mode 0600, so the owner and root
 * may connect and nobody else. QEMU inherits the listening descriptor as the
 * chardev of its first serial port (-chardev socket,fd=N,server=on,wait=off,
 * -serial chardev:console) and accepts one client at a time; another waits in
 * the backlog until the first leaves. With nobody connected, what the guest
 * writes is dropped: the guest never waits for a reader.
 *
 * QEMU holds the only listening descriptor, so the socket lives as long as
 * QEMU: a restarted daemon finds it there, and it goes with the VM's runtime
 * directory when QEMU ends (vm_dir_remove()).
 */
#pragma once

#include "vm/vm_internal.h"

/* The socket's path for the VM, written to `buf`. */
void vm_console_path(const Vm *vm, char *buf, size_t size);

/*
 * Binds and listens at the console's path for `owner` (NULL: root's). Returns
 * the listening descriptor (close-on-exec) for QEMU to inherit, or -errno with
 * *ret_message set.
 */
int vm_console_listen(const Vm *vm, const char *owner, char **ret_message);

/* The VM runs (or was adopted): Get shows its console when the socket is there. */
void vm_console_open(Vm *vm);

/* QEMU ends, or the daemon exits: Get stops showing it. The socket is QEMU's, left alone. */
void vm_console_close(Vm *vm);
