/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What to do when QEMU says the guest shut down (its SHUTDOWN event), for
 * an ACPI reboot: QEMU has no such command, so, as libvirt's `virsh reboot
 * --mode acpi`, the daemon tells QEMU to pause rather than exit when the
 * guest powers off (QMP set-action shutdown=pause), presses the power
 * button, and when the guest has shut down, resets it and lets it run. A
 * pure decision: no I/O.
 */
#pragma once

#include <stdbool.h>

typedef enum VmShutdownAction {
	VM_SHUTDOWN_LET_END, /* QEMU exits by itself: the VM ends */
	VM_SHUTDOWN_RESET_AND_CONTINUE, /* the reboot asked for: system_reset, then cont */
	VM_SHUTDOWN_QUIT, /* QEMU pauses instead of exiting: tell it to quit */
} VmShutdownAction;

/*
 * reboot_pending: a Reboot asked the guest to power down and it has not yet;
 * stop_requested: a Stop or Kill is under way; guest: the guest shut itself
 * down (not QEMU told to quit); qemu_pauses: QEMU was told to pause at a
 * shutdown and not told back.
 */
VmShutdownAction vm_shutdown_action(bool reboot_pending, bool stop_requested, bool guest,
				    bool qemu_pauses);
