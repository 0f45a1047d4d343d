/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the files of the VM manager share: the VM and manager structures and
 * the steps one file starts and another finishes. vm.c keeps the table of
 * VMs, their state and who hears of it; vm_start.c takes partitions and
 * spawns QEMU; vm_qmp.c talks to it (connect, pin, cont, events);
 * vm_control.c stops, kills, pauses and resumes it and cleans up after its
 * end; vm_adopt.c takes back what a previous daemon left running.
 */
#pragma once

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "macro.h"
#include "vm/qemu_cmdline.h"
#include "vm/qmp.h"
#include "vm/vm.h"
#include "vm/vm_runtime.h"

/* After quit, or after SIGTERM-less escalation, how long until SIGKILL. */
#define QUIT_GRACE_USEC (5 * USEC_PER_SEC)
/* The devices of one GPU entry: a passthrough GPU with its audio and more. */
#define MAX_DEVICES_PER_GPU 8
#define MARKER_AUTOSTARTED "autostarted"

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

/* The processes beside QEMU (vm_helpers.c). */
typedef enum VmHelperKind {
	VM_HELPER_TPM, /* swtpm */
	VM_HELPER_AUDIO, /* the relay to the owner's sound server */
	_VM_HELPER_MAX,
} VmHelperKind;

typedef struct VmHelper {
	int pidfd; /* -1 when none runs */
	sd_event_source *exit_source;
} VmHelper;

struct Vm {
	VmManager *manager;
	char name[VM_NAME_MAX + 1];
	VmState state;
	char *problem;

	/* From the definition, as last read */
	char uuid[UUID_STRING_SIZE];
	bool autostart;
	char *owner;

	/* Start */
	VmDefinition definition; /* while starting */
	bool has_definition;
	Waiter start_waiter;
	bool start_pending;
	size_t next_gpu;
	int auto_mode; /* the mode tried for a `mode: auto` GPU */
	QemuGpuAssignment assignments[VM_MAX_GPUS];
	PciAddress devices[VM_MAX_GPUS][MAX_DEVICES_PER_GPU];
	size_t n_assignments;
	int *vcpu_cpus; /* host CPU of each vCPU when pinning */
	bool pin;
	char *log_path; /* QEMU's output, when it goes to a file */
	off_t log_offset; /* where this start's output begins in it */
	PartitionOutcome failed_partition; /* a start that failed on a partition */
	char *failure_message;
	VmFailure failure;

	/* While QEMU runs */
	pid_t pid;
	int pidfd;
	bool own_child; /* ours to reap (false when adopted from a previous daemon) */
	VmHelper helpers[_VM_HELPER_MAX]; /* processes beside QEMU */
	uint64_t start_time;
	uint64_t started_at_usec;
	sd_event_source *exit_source;
	sd_event_source *timer;
	sd_event_source *start_timer; /* from spawn to running: vms.start-timeout */
	Qmp *qmp;
	char *qmp_status;
	char **partitions;
	VmLent *lent; /* what QEMU's user was given, to give back (written down first) */
	size_t n_lent, allocated_lent;
	bool stop_requested;
	bool guest_shutdown;
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
	Vm **vms;
	size_t n_vms, allocated_vms;
	Watcher *watchers;
	size_t n_watchers, allocated_watchers;
};

/* vm.c */
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
/* Calls a waiter's callback (when it has one) with the final outcome. */
void vm_call_back(const Waiter *w, const Vm *vm, VmFailure failure, const char *message,
		  const PartitionOutcome *partition);
void vm_fail_now(VmCallback callback, void *userdata, VmFailure failure, const char *format, ...)
	_printf_(4, 5);
/* A Start phase reached: a non-final callback to the starter. */
void vm_progress(Vm *vm, const char *phase);
Vm *vm_find(VmManager *m, const char *name);
int vm_add(VmManager *m, const char *name, Vm **ret);
int vm_take_summary(Vm *vm, const VmDefinition *definition);
int vm_refresh(VmManager *m, const char *name, Vm **ret);
/* Finds NAME for an operation, or calls back NoSuchVM and returns NULL. */
Vm *vm_lookup(VmManager *m, const char *name, VmCallback callback, void *userdata);
void vm_wrong_state(Vm *vm, VmCallback callback, void *userdata, const char *what);

/* vm_start.c */
/* A start that cannot go on: what was taken is given back, then the starter hears why. */
void vm_start_failed(Vm *vm, VmFailure failure, const char *message,
		     const PartitionOutcome *partition);
void vm_start_failedf(Vm *vm, VmFailure failure, const char *format, ...) _printf_(3, 4);

/* vm_helpers.c */
/* Watches a helper the VM's start made (takes `pidfd`); it is reaped when it ends. */
int vm_helper_watch(Vm *vm, VmHelperKind kind, int pidfd);
/* Kills and reaps one at once: a start gives up on it. */
void vm_helper_kill_now(Vm *vm, VmHelperKind kind);
/* Asks every helper to end (SIGTERM: swtpm saves its state); each is reaped as it ends. */
void vm_helpers_stop(Vm *vm);
/* Stops watching them (the daemon exits; they end with QEMU). */
void vm_helpers_forget(Vm *vm);

/* vm_qmp.c */
extern const QmpCallbacks vm_qmp_callbacks;
/* RUNTIME/vms/NAME.qmp: QMP's socket, in the daemon's directory (QEMU only inherits it). */
void vm_qmp_path(const Vm *vm, char *buf, size_t size);
/* Connects to QEMU's QMP socket; a failure is logged (and ends a start under way). */
int vm_connect_qmp(Vm *vm);
void vm_set_qmp_status(Vm *vm, const char *status);

/* vm_control.c */
/* QEMU ended: release everything, then the VM becomes `end_state` and its waiters hear. */
void vm_release_all(Vm *vm, VmState end_state);
/* Releases the partitions one by one, then the rest; for a VM without a QEMU. */
void vm_release_next(Vm *vm);
int vm_on_qemu_exit(sd_event_source *source, int fd, uint32_t revents, void *userdata);
