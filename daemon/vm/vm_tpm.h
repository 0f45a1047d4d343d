/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The emulated TPM 2.0 of a VM (Windows 11 wants one): an swtpm process per
 * VM, its state kept in the VM's state directory. The daemon makes swtpm's
 * control socket itself and hands it over as a listening fd, so the socket
 * exists (owned by QEMU's user) before QEMU starts and nothing waits for
 * swtpm to come up. swtpm ends by itself when QEMU closes its connection
 * (--terminate).
 */
#pragma once

#include <sys/types.h>

#include "process/process_spawn.h"
#include "vm/vm_qemu_user.h"

/*
 * Starts swtpm as QEMU's user with its state in `state_dir` (made if needed),
 * listening on `socket_path`, its output to `output_fd`. Returns 0 with its pid
 * and pidfd, held before exec (*ret_hold: exec_watch.h lets it go), or a
 * negative errno with *ret_message (swtpm missing, ...).
 */
int vm_tpm_start(const char *vm_name, const char *state_dir, const char *socket_path,
		 const QemuUser *user, int output_fd, pid_t *ret_pid, int *ret_pidfd,
		 SpawnHold *ret_hold, char **ret_message);
