/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The processes a VM's QEMU needs beside it (swtpm, the audio relay): each is
 * watched through its pidfd and reaped when it ends, asked to end with the
 * VM, and killed at once when a start gives up on it. A VM keeps one VmHelper
 * per kind; this file knows nothing else of the VM.
 */
#pragma once

#include <sys/types.h>
#include <systemd/sd-event.h>

typedef enum VmHelperKind {
	VM_HELPER_TPM, /* swtpm */
	VM_HELPER_AUDIO, /* the relay to the owner's sound server */
	_VM_HELPER_MAX,
} VmHelperKind;

typedef struct VmHelper {
	pid_t pid;
	int pidfd; /* -1 when none runs */
	sd_event_source *exit_source;
} VmHelper;

/* "swtpm", "the audio relay": for messages. */
const char *vm_helper_name(VmHelperKind kind);

/* Watches a helper of VM `vm_name` (takes `pidfd`); it is reaped when it ends. */
int vm_helper_watch(VmHelper helpers[_VM_HELPER_MAX], VmHelperKind kind, sd_event *event,
		    const char *vm_name, pid_t pid, int pidfd);
/* Kills one at once, reaped off the loop when it has ended: a start gives up on it. */
void vm_helper_kill_now(VmHelper helpers[_VM_HELPER_MAX], VmHelperKind kind);
/* Asks every helper to end (SIGTERM: swtpm saves its state); each is reaped as it ends. */
void vm_helpers_stop(VmHelper helpers[_VM_HELPER_MAX]);
/* Stops watching them (the daemon exits; they end with QEMU). */
void vm_helpers_forget(VmHelper helpers[_VM_HELPER_MAX]);

/*
 * Each helper's environment holds LIBVFIO_VM=NAME, so that one left behind
 * can be found again: a daemon that died before QEMU connected to its swtpm
 * or audio relay leaves them waiting for ever, and its record does not name
 * them.
 */
#define VM_HELPER_MARKER_SIZE (sizeof("LIBVFIO_VM=") + 64)
void vm_helper_marker(const char *vm_name, char ret[VM_HELPER_MARKER_SIZE]);

/*
 * Ends (SIGKILL) every process of one of `uids` whose environment says it is
 * a helper of VM `vm_name`: for a VM whose QEMU is gone. Returns how many.
 */
int vm_helpers_end_strays(const char *vm_name, const uid_t *uids, size_t n_uids);
