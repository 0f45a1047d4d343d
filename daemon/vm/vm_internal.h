/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the files of the VM manager share: the VM and manager structures. A
 * Vm holds what a VM needs while it is defined and while its QEMU runs; a
 * start under way is an object of its own (VmStart, vm_start.h) that the VM
 * points to and that speaks for it through VmStartHooks until it ends.
 *
 * The files call each other downwards only (the call graph is a DAG):
 *
 *   vm_manager.c   the VM table: every vm_manager_*() entry point
 *     vm_adopt.c     one VM taken back from its runtime record
 *     vm_start.c     VmStart: partitions, then the spawn, then QMP pin and cont
 *       vm_spawn.c     everything QEMU needs, and QEMU itself
 *     vm_control.c   stop, kill, pause, resume; QEMU's end and the release
 *     vm_qmp.c       the QMP connection and the events that change the state
 *     vm.c           one Vm: its state, who hears of it, its log, its record
 *     vm_helpers.c   the processes beside QEMU (swtpm, the audio relay)
 *
 * Each may call any file listed below it, and the leaf modules (qemu_cmdline,
 * vm_placement, vm_lent, vm_dirs, ...) that know no Vm. Where lower code must
 * tell a start something (QEMU ended, the release is over, QMP is ready), it
 * calls through vm->start_hooks, never into vm_start.c by name.
 */
#pragma once

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "base/bus.h"
#include "base/worker.h"
#include "host/sysfs_write.h"
#include "macro.h"
#include "process/child_watch.h"
#include "vm/hugepage_reserve.h"
#include "vm/qemu_cmdline.h"
#include "vm/qmp.h"
#include "vm/vm.h"
#include "vm/vm_dir_watch.h"
#include "vm/vm_helpers.h"
#include "vm/vm_runtime.h"
#include "vm/vm_table.h"

/* After quit, or after SIGTERM-less escalation, how long until SIGKILL. */
#define QUIT_GRACE_USEC (5 * USEC_PER_SEC)

typedef struct Waiter {
	VmCallback callback;
	void *userdata;
} Waiter;

typedef struct Watcher {
	int (*callback)(const VmInfo *vm, void *userdata);
	void (*drop)(void *userdata);
	void *userdata;
} Watcher;

typedef struct Vm Vm;

typedef struct VmStart VmStart;

/* How QEMU ended, for whoever asked for the stop. */
typedef enum VmEnded {
	VM_ENDED_NONE,
	VM_ENDED_SHUTDOWN, /* the guest powered off */
	VM_ENDED_QUIT, /* QEMU was told to quit */
	VM_ENDED_KILLED, /* QEMU was killed */
	_VM_ENDED_MAX,
} VmEnded;

DECLARE_STRING_TABLE_LOOKUP(vm_ended, VmEnded);

/*
 * How the code below the start tells it what happened while it is under way.
 * vm_start.c sets them with vm->start; each is called only while vm->start.
 */
typedef struct VmStartHooks {
	/* The QMP greeting came: the start pins the vCPUs and lets the guest run. */
	void (*qmp_ready)(Vm *vm);
	/* QEMU ended before the guest ran: `how` says how, with its last line. */
	void (*qemu_ended)(Vm *vm, const char *how);
	/* The release after a failed start is over: the start reports and ends. */
	void (*released)(Vm *vm);
} VmStartHooks;

struct Vm {
	VmManager *manager;
	char name[VM_NAME_MAX + 1];
	VmState state;
	char *problem;
	char *end_problem; /* the reason of its last end (failed, crashed), kept in ends_dir */

	/* From the definition, as last read */
	VmFileIdentity file; /* of the file read; zero when it was not there */
	char uuid[UUID_STRING_SIZE];
	bool autostart;
	char *owner;

	/* A start under way (vm_start.c owns it), or NULL */
	VmStart *start;
	const VmStartHooks *start_hooks;

	/* While QEMU runs */
	pid_t pid;
	int pidfd;
	bool own_child; /* ours to reap (false when adopted from a previous daemon) */
	VmHelper helpers[_VM_HELPER_MAX]; /* processes beside QEMU */
	uint64_t start_time;
	uint64_t started_at_usec;
	char *log_path; /* QEMU's output, when it goes to a file */
	off_t log_offset; /* where this start's output begins in it */
	sd_event_source *exit_source;
	sd_event_source *timer;
	sd_event_source *display_source; /* the owner's VNC socket (vm_display.h), or NULL */
	char *display_path; /* its path while it listens */
	unsigned display_connections; /* handed to QEMU so far, for their names */
	char *console_path; /* the owner's serial console (vm_console.h) while QEMU runs */
	char *looking_glass_path; /* its Looking Glass memory (vm_display.h) while QEMU runs */
	Qmp *qmp;
	char *qmp_status;
	char **partitions;
	VmLent *lent; /* what QEMU's user was given, to give back (written down first) */
	size_t n_lent, allocated_lent;
	HugepageReservation hugepages; /* pages added to a pool for it (written down first) */
	void (*hugepages_callback)(Vm *vm, int result, const char *message); /* vm_hugepages.c */
	void (*hugepages_done)(Vm *vm);
	uint64_t hugepages_free_before;
	/*
	 * The start's pool write timed out and has not ended: the kernel may still
	 * add the pages, so `hugepages` stays, recorded, until it ends (on_late()).
	 */
	bool hugepages_write_pending;
	sd_event_source *hugepages_retry; /* waiting for another VM's pool write to end */
	WorkerJob *hugepages_read; /* the pools read anew, before the plan */
	const VmDefinition *hugepages_definition; /* the start's, while its reservation waits */
	int hugepages_node;
	/* Pages of a pool this start counts on until its QEMU has them (the start's end). */
	int hugepages_claim_node;
	uint64_t hugepages_claim_size_kib, hugepages_claim_pages;
	bool stop_requested;
	bool guest_shutdown;
	VmEnded ended; /* how QEMU is ending, as far as the daemon knows */
	bool reboot_pending; /* a Reboot pressed the power button; the guest has not shut down */
	bool qemu_pauses; /* QEMU was told to pause at a shutdown (set-action), not told back */
	bool rebooting; /* the reset and cont of a reboot are under way: STOP is not a pause */
	Waiter *stop_waiters;
	size_t n_stop_waiters, allocated_stop_waiters;
	bool releasing;
	VmState end_state; /* stopped or crashed: what the VM becomes once released */
};

struct VmManager {
	sd_event *event;
	PartitionEngine *engine;
	HostCache *host;
	const DaemonConfig *config;
	char *records_dir; /* RUNTIME/vms */
	char *ends_dir; /* RUNTIME/vm-states: how each VM last ended (vm_last_end.h) */
	SysfsWriter *writer; /* hugepage pool writes (vm_hugepages.c) */
	bool hugepages_busy; /* one pool write at a time: each plans from what the pools read */
	VmTable vms; /* every VM, by name (vm_manager.c) */
	VmDirWatch *watch; /* which definitions changed since they were read */
	bool reload_all; /* every definition is read again at the next List */
	/* Defines and Undefines, one file write at a time, in order (vm_manager.c) */
	struct StoreOperation *store_first, *store_last;
	size_t n_store_operations;
	WorkerJob *store_job; /* the first's write, under way */
	Watcher *watchers;
	size_t n_watchers, allocated_watchers;
	BusConnection systemd_bus; /* scopes (vm_machine.c) */
	BusConnection system_bus; /* machined */
	bool said_no_systemd, said_no_system_bus;
};

/* vm.c */
/* A new VM of the table, defined and stopped. */
Vm *vm_new(VmManager *m, const char *name);
/* Frees what the VM holds (its start has ended or been abandoned); QEMU is left running. */
Vm *vm_free(Vm *vm);
bool vm_is_active(const Vm *vm);
void vm_log(const Vm *vm, int level, int error, const char *format, ...) _printf_(4, 5);
/*
 * The lines that tell a VM's story, with a MESSAGE_ID= each, so that
 * `journalctl MESSAGE_ID=...` finds every VM start, stop or crash.
 */
#define MESSAGE_ID_VM_STARTED "b31c9fa9ee5c45bb9fa8513bc6d91613"
#define MESSAGE_ID_VM_STOPPED "39075e14810e49318eb6d78eb4b62d93"
#define MESSAGE_ID_VM_CRASHED "3167b398c5b44e7083d4136e9b2f64a9"
void vm_log_event(const Vm *vm, int level, const char *message_id, const char *format, ...)
	_printf_(4, 5);
void vm_info(const Vm *vm, VmInfo *ret);
void vm_notify(VmManager *m, const Vm *vm);
void vm_set_state(Vm *vm, VmState state);
void vm_set_problem(Vm *vm, const char *problem);
/* Forgets how the VM last ended (its record too): it is undefined. */
void vm_forget_end(Vm *vm);
/* Calls a waiter's callback (when it has one) with the final outcome. */
void vm_call_back(const Waiter *w, const Vm *vm, VmFailure failure, const char *message,
		  const PartitionOutcome *partition);
void vm_fail_now(VmCallback callback, void *userdata, VmFailure failure, const char *format, ...)
	_printf_(4, 5);
/* Keeps what List and Get show of the definition. */
int vm_take_summary(Vm *vm, const VmDefinition *definition);
/* Writes the VM's runtime record (pid, partitions, what is lent) in RUNTIME/vms. */
int vm_save_runtime(const Vm *vm);
/* A runtime record that cannot be written, as a sentence: most likely a full RUNTIME_DIR. */
int vm_save_runtime_error(const Vm *vm, int r, char **ret_message);

/* vm_qmp.c */
extern const QmpCallbacks vm_qmp_callbacks;
/* RUNTIME/vms/NAME.qmp: QMP's socket, in the daemon's directory (QEMU only inherits it). */
void vm_qmp_path(const Vm *vm, char *buf, size_t size);
/* Connects to QEMU's QMP socket. */
int vm_connect_qmp(Vm *vm);
void vm_set_qmp_status(Vm *vm, const char *status);

/* vm_control.c */
/* QEMU ended: release everything, then the VM becomes `end_state` and its waiters hear. */
void vm_release_all(Vm *vm, VmState end_state);
/* Releases the partitions one by one, then the rest; for a VM without a QEMU. */
void vm_release_next(Vm *vm);
void vm_on_qemu_exit(const ChildExit *exit, void *userdata);
/* Someone who hears when QEMU has ended and all is released. */
int vm_add_stop_waiter(Vm *vm, VmCallback callback, void *userdata);
/*
 * Stop (QEMU runs, no start under way): system_powerdown, `quit` after
 * `timeout_usec`, SIGKILL after QUIT_GRACE_USEC; `force` quits at once.
 * `again`: a stop is under way already, and only `force` changes it.
 */
void vm_stop_qemu(Vm *vm, bool force, bool again, uint64_t timeout_usec);
/* Kill: SIGKILL to QEMU. */
void vm_kill_qemu(Vm *vm);
/* Pause or resume a VM that runs or is paused, with QMP connected; one final callback. */
void vm_pause_qemu(Vm *vm, bool pause, VmCallback callback, void *userdata);
/* Reset or ACPI reboot of a running VM with QMP connected; one final callback. */
void vm_reset_qemu(Vm *vm, bool reboot, VmCallback callback, void *userdata);
/* QEMU said SHUTDOWN: reboots, quits a paused QEMU, or lets it end (vm_reboot.h). */
void vm_on_shutdown(Vm *vm, bool guest);
/* QEMU said RESET: the reset of a reboot is done, and the guest runs again. */
void vm_on_reset(Vm *vm);
