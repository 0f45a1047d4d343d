/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QEMU reaching the VM owner's sound server (PipeWire's pulse socket or
 * PulseAudio's, RUNTIME/UID/pulse/native). QEMU runs as its own user, which
 * cannot open that socket: its directory is the owner's alone. A relay
 * program (libvfio-audio-relay, exec'd as the owner: no copy of the daemon's
 * memory in the owner's process) listens on a socket only QEMU's user may
 * use and carries each connection to the owner's server, which then sees the
 * owner connecting (its credential checks pass). QEMU gets nothing else of
 * the owner's. The relay ends on SIGTERM, sent when the VM ends (a connection
 * under way goes on until QEMU closes it).
 */
#pragma once

#include <sys/types.h>

#include "process/process_spawn.h"
#include "vm/vm_qemu_user.h"

/*
 * Starts the relay for `owner`: it listens on `listen_path` (owned by QEMU's
 * user, 0600) and connects to USER_RUNTIME_ROOT/UID/pulse/native. Returns
 * 0 with its pid and pidfd, held before exec (*ret_hold: exec_watch.h lets
 * it go), or a negative errno with *ret_message (no such user, no sound
 * server running for them, ...).
 */
int audio_relay_start(const char *vm_name, const char *user_runtime_root, const char *owner,
		      const char *listen_path, const QemuUser *qemu, pid_t *ret_pid, int *ret_pidfd,
		      SpawnHold *ret_hold, char **ret_message);
