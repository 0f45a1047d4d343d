/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A running VM's place in systemd: its QEMU (and the helpers beside it) in a
 * scope of its own, libvfio-vm-NAME.scope in machine.slice, made while QEMU
 * is held before exec, so that guest RAM is charged there and not to
 * libvfiod.service (whose MemoryMax= bounds the daemon alone); the scope's
 * device filter allows only what this VM's QEMU opens. Then the VM is
 * registered with systemd-machined (class vm, QEMU as leader, its UUID), so
 * `machinectl list` shows it. Without systemd there is no scope; without
 * machined no registration; either is said once in the log and the VM runs.
 */
#pragma once

#include <stdbool.h>

#include "vm/vm_start.h"

/*
 * Asks for the scope of the start's held QEMU; `callback` hears the end (ok
 * false: `message` says why the start cannot go on). The job is the start's
 * (start->scope). < 0 when it could not be asked.
 */
int vm_scope_start(VmStart *start, VmScopeCallback callback);

/* Registers the running VM with machined; what goes wrong is logged, nothing else. */
void vm_machine_register(Vm *vm, const VmDefinition *definition);

/*
 * machined's name for VM `name` (a host name: letters, digits, '-' and '.'),
 * '_' written as '-'. false when there is none (e.g. "a..b", "x-"): the VM is
 * then not registered.
 */
bool vm_machine_name(const char *name, char ret[static VM_NAME_MAX + 1]);
