/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The last step of a start: everything QEMU needs, then QEMU. Its
 * directories, firmware, the devices lent to its user (written down in the
 * runtime record before they are given), the files it inherits, Looking
 * Glass, the network, the helpers beside it, where its vCPUs run, its argv,
 * and the spawn, held before exec (start->hold) until its scope is made
 * (vm_machine.h); then its pidfd is watched and QMP connected.
 */
#pragma once

#include "vm/vm_start.h"

/*
 * Spawns the start's QEMU, held before exec. On failure, what was made stays for the release
 * to give back, and *ret_message says what failed (NULL: out of memory).
 */
int vm_spawn(VmStart *start, char **ret_message);

/*
 * The UEFI variables the start must copy before the spawn, when the VM boots
 * UEFI and has none yet: 1 with the template and the copy's path (the VM's
 * state directory made), 0 when there is nothing to copy, or < 0 with
 * *ret_message.
 */
int vm_spawn_firmware_to_copy(VmStart *start, char **ret_template, char **ret_path,
			      char **ret_message);

/*
 * The NUMA node the VM's memory is bound to (-1: none), with where its vCPUs
 * run, decided once for the start from its partitions; the spawn uses the same.
 */
int vm_spawn_node(VmStart *start, int *ret_node, char **ret_message);
