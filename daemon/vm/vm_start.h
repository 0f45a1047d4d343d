/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VM's start, an object of its own from Start until the guest runs or the
 * start has failed and everything it took is given back: the definition as
 * read for it, the partitions one GPU entry at a time (auto tries mdev, then
 * SR-IOV, then passthrough), the spawn (vm_spawn.h) and QEMU's scope
 * (vm_machine.h) before it execs, QMP's greeting, the vCPU
 * pinning and the guest's first cont. It tells the starter each phase and
 * then the outcome, once; the VM (vm->start) holds only a pointer to it, and
 * the code below it reaches it through vm->start_hooks.
 *
 * Crash safety stays the VM's: the runtime record (pid 0) is written before
 * the first partition is asked for, and a daemon that dies mid-start leaves
 * the next one a start to fail (vm_start_cut_short()).
 */
#pragma once

#include <stdbool.h>

#include "base/worker.h"
#include "host/host_cache.h"
#include "process/exec_watch.h"
#include "process/process_scope.h"
#include "process/process_spawn.h"
#include "vm/vm_helpers.h"
#include "vm/vm_internal.h"

/* The devices of one GPU entry: a passthrough GPU with its audio and more. */
#define MAX_DEVICES_PER_GPU 8

/* The end of the scope's making (vm_machine.h): ok, or why the start cannot go on. */
typedef void (*VmScopeCallback)(VmStart *start, bool ok, const char *message);

struct VmStart {
	Vm *vm;
	Waiter waiter; /* the starter: each phase, then the outcome */
	VmDefinition definition;
	bool has_definition;
	size_t next_gpu;
	int auto_mode; /* the mode tried for a `mode: auto` GPU */
	/* why an earlier mode of it failed, when that says more than a later one can */
	PartitionOutcome auto_failure;
	QemuGpuAssignment assignments[VM_MAX_GPUS];
	PciAddress devices[VM_MAX_GPUS][MAX_DEVICES_PER_GPU];
	size_t n_assignments;
	HostCacheWait
		*host_wait; /* the host's first reading, awaited just after the daemon started */
	int *vcpu_cpus; /* host CPU of each vCPU when pinning */
	bool pin;
	bool placed; /* node, affinity and vcpu_cpus decided (vm_spawn.c) */
	int node; /* the memory's NUMA node, -1 for none */
	cpu_set_t affinity; /* the node's CPUs, when has_affinity */
	bool has_affinity;
	WorkerJob *firmware_copy; /* the UEFI variables being copied, before the spawn */
	SpawnHold hold; /* QEMU, spawned and held before exec until its scope is made */
	ExecWatch *exec_watch; /* QEMU let go: its exec (or failure) to be told */
	/* swtpm, the audio relay let go: QEMU is let go when they have exec'd */
	ExecWatch *helper_exec[_VM_HELPER_MAX];
	bool scope_made; /* QEMU's scope is there: it may exec once the helpers have */
	ScopeJob *scope; /* the scope's making, under way */
	VmScopeCallback scope_callback;
	sd_event_source *timer; /* from spawn to running: vms.start-timeout */
	sd_event_source *next; /* the next GPU entry, in a dispatch of its own */
	VmFailure failure; /* the first reason the start cannot go on */
	bool cancelled; /* a stop or kill ended it, not a failure: it ends stopped */
	char *failure_message;
	PartitionOutcome failed_partition; /* a start that failed on a partition */
};

/*
 * Lets a helper spawned for the start go (`hold` is taken) and watches its
 * exec: QEMU is let go after every helper has exec'd, and a helper that fails
 * to fails the start. Returns 0, or < 0 (out of memory) with `hold` as it was.
 */
int vm_start_watch_helper_exec(VmStart *s, VmHelperKind kind, SpawnHold *hold);

/* Starts a VM of the table that is not active; `callback` hears each phase, then the end. */
void vm_start(Vm *vm, VmCallback callback, void *userdata);

/* A start that cannot go on: what was taken is given back, then the starter hears why. */
void vm_start_failed(Vm *vm, VmFailure failure, const char *message,
		     const PartitionOutcome *partition);
void vm_start_failedf(Vm *vm, VmFailure failure, const char *format, ...) _printf_(3, 4);

/*
 * A stop or kill (`how`: "stopped", "killed") of a VM being started: the
 * start ends as a failed one does, but the VM ends stopped, not failed.
 */
void vm_start_cancel(Vm *vm, const char *how);

/*
 * An adopted QEMU that never ran its guest (the previous daemon died before
 * cont): its start is failed as it would have been, with nobody to tell.
 */
void vm_start_cut_short(Vm *vm, const char *message);

/* The daemon exits: the starter hears `message`, and the start ends where it is. */
void vm_start_abandon(Vm *vm, const char *message);
