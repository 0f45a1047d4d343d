/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VMs and their lifecycle: defined → starting → running ⇄ paused → stopping →
 * stopped, or crashed; a start that cannot go on ends failed. Start takes the VM's GPU partitions
 * from the partition engine (held as "vm:NAME"), builds QEMU's argv (qemu_cmdline.h), spawns it
 * (process_spawn.h) as the QEMU user, connects QMP, pins the vCPU threads and
 * lets the guest run. QEMU's end, however it comes (stop, guest shutdown, a
 * crash, a kill from outside), is seen through its pidfd and releases what
 * the VM held. A runtime record (vm_runtime.h) lets a restarted daemon
 * re-adopt a VM that still runs, so none is ever started twice.
 *
 * Outcomes go to callbacks, never to a client directly: the Varlink edge
 * (api/vms_api.c) turns them into replies.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "base/config.h"
#include "host/host_cache.h"
#include "partitions/partitions.h"
#include "string_table.h"
#include "vm/hugepage_reserve.h"
#include "vm/vm_logs.h"

typedef enum VmState {
	VM_STATE_DEFINED,
	VM_STATE_STARTING,
	VM_STATE_RUNNING,
	VM_STATE_PAUSED,
	VM_STATE_STOPPING,
	VM_STATE_STOPPED,
	VM_STATE_CRASHED,
	VM_STATE_FAILED, /* its start failed: `problem` says why */
	VM_STATE_UNDEFINED, /* its definition was removed: the last that Watch says of it */
	_VM_STATE_MAX,
} VmState;

DECLARE_STRING_TABLE_LOOKUP(vm_state, VmState);

/* What a caller sees of one VM. Strings are borrowed until the loop turns. */
typedef struct VmInfo {
	const char *name;
	const char *uuid; /* "" when the definition cannot be read */
	VmState state;
	pid_t pid; /* 0 when QEMU does not run */
	uint64_t started_at_usec; /* CLOCK_REALTIME; 0 when not running */
	char *const *partitions; /* strv, may be NULL */
	const char *qmp_status; /* NULL when QMP is not connected */
	bool autostart;
	const char *owner;
	const char *problem;
	const char *display; /* the owner's VNC socket while the VM runs, or NULL */
	const char *console; /* the owner's serial console socket while the VM runs, or NULL */
	const char *looking_glass; /* its Looking Glass memory (file or kvmfr) while it runs */
	HugepageReservation hugepages; /* what its start added to a pool, until given back */
} VmInfo;

typedef enum VmFailure {
	VM_OK,
	VM_FAIL_NO_SUCH_VM,
	VM_FAIL_INVALID_DEFINITION,
	VM_FAIL_EXISTS,
	VM_FAIL_WRONG_STATE,
	VM_FAIL_START, /* QEMU could not be started, or ended before running the guest */
	VM_FAIL_PARTITION, /* see `partition` */
	VM_FAIL_INTERNAL,
} VmFailure;

typedef struct VmOutcome {
	VmFailure failure;
	const char *message; /* on failure: what happened and what to do */
	const PartitionOutcome *partition; /* VM_FAIL_PARTITION */
	const VmInfo *vm; /* the VM after the call (NULL after Undefine or NoSuchVM) */
	const char *phase; /* Start: the phase reached ("allocating", ...), when !final */
	const char *ended; /* Stop, Kill: how QEMU ended ("shutdown", "quit", "killed") */
	bool final; /* the last call of the callback for this operation */
} VmOutcome;

typedef void (*VmCallback)(const VmOutcome *outcome, void *userdata);

typedef struct VmManager VmManager;

/* The engine, host service and config must outlive the manager; config may change (reload). */
int vm_manager_new(sd_event *event, PartitionEngine *engine, HostCache *host,
		   const DaemonConfig *config, VmManager **ret);
/* QEMUs keep running; the next daemon re-adopts them. */
VmManager *vm_manager_free(VmManager *manager);

/*
 * At daemon start, after the partition engine has reconciled: re-adopts the
 * VMs whose QEMU still runs, cleans up after those that ended meanwhile, and
 * releases partitions held for VMs that never got a QEMU. Then, on the first
 * start since boot, starts the VMs marked autostart.
 */
int vm_manager_adopt(VmManager *manager);

/*
 * Every VM: the defined ones and those that run without a definition any more,
 * sorted by name. Free the array (not the strings) with free().
 */
int vm_manager_list(VmManager *manager, VmInfo **ret, size_t *ret_n);

/*
 * The same VMs, in the same order, each handed to `callback` (which stops the
 * walk by returning < 0, returned then); nothing is allocated. The callback
 * must not call the manager.
 */
int vm_manager_foreach(VmManager *manager, int (*callback)(const VmInfo *vm, void *userdata),
		       void *userdata);
/* How many VMs the table holds now (without looking at the directory). */
size_t vm_manager_count(const VmManager *manager);

/*
 * The owner written in VM `name`'s definition, copied to `buf`; false when it
 * has none or there is no such VM. Constant time (the table, the file read
 * again only when it changed).
 */
bool vm_manager_owner(VmManager *manager, const char *name, char *buf, size_t size);

/*
 * The hugepages libvfio added to pool (`node`, `size_kib`) for VMs and holds
 * now (hugepage_reservation_pages_in(); node -1: the system's pool).
 */
uint64_t vm_manager_hugepages_held(const VmManager *manager, int node, uint64_t size_kib);

/* Where QEMU's output of VM `name` goes without a journal: STATE_DIR/vms/NAME/qemu.log. */
void vm_manager_log_file(const VmManager *manager, const char *name, char *buf, size_t size);

/*
 * Opens VM `name`'s log (vm_logs.h: in the journal, or that file) and reads
 * its last `lines` entries, off the loop: vm_log_read().
 */
int vm_manager_log_read(const VmManager *manager, const char *name, size_t lines, VmLogRead done,
			void *userdata, WorkerJob **ret);

/* Each operation ends with exactly one final callback, possibly before it returns. */
void vm_manager_get(VmManager *manager, const char *name, VmCallback callback, void *userdata);
void vm_manager_define(VmManager *manager, const char *text, size_t size, VmCallback callback,
		       void *userdata);
void vm_manager_undefine(VmManager *manager, const char *name, VmCallback callback, void *userdata);
/* Calls back once per phase (final = false), then finally. */
void vm_manager_start(VmManager *manager, const char *name, VmCallback callback, void *userdata);
/* timeout_usec: UINT64_MAX for the configured default. */
void vm_manager_stop(VmManager *manager, const char *name, bool force, uint64_t timeout_usec,
		     VmCallback callback, void *userdata);
void vm_manager_kill(VmManager *manager, const char *name, VmCallback callback, void *userdata);
void vm_manager_pause(VmManager *manager, const char *name, VmCallback callback, void *userdata);
/* QMP system_reset of a running VM: the same QEMU, the guest from its start. */
void vm_manager_reset(VmManager *manager, const char *name, VmCallback callback, void *userdata);
/*
 * An ACPI reboot of a running VM (vm_reboot.h): the power button pressed, and
 * when the guest has shut down, a reset instead of QEMU's end. Calls back once
 * the button is pressed; a guest that does not answer keeps running.
 */
void vm_manager_reboot(VmManager *manager, const char *name, VmCallback callback, void *userdata);
void vm_manager_resume(VmManager *manager, const char *name, VmCallback callback, void *userdata);

/*
 * Calls `callback` at every state change of any VM until it returns < 0 (its
 * client is gone) or the manager is freed; then `drop` gets the userdata back.
 */
int vm_manager_watch(VmManager *manager, int (*callback)(const VmInfo *vm, void *userdata),
		     void (*drop)(void *userdata), void *userdata);
