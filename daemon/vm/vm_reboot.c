/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm/vm_reboot.h"

VmShutdownAction vm_shutdown_action(bool reboot_pending, bool stop_requested, bool guest,
				    bool qemu_pauses)
{
	/* Only the guest's own power-off ends a reboot: a stop asked meanwhile wins. */
	if (reboot_pending && guest && !stop_requested && qemu_pauses)
		return VM_SHUTDOWN_RESET_AND_CONTINUE;
	/* A paused QEMU would wait for ever in "shutdown": it ends as it would have. */
	if (qemu_pauses)
		return VM_SHUTDOWN_QUIT;
	return VM_SHUTDOWN_LET_END;
}
