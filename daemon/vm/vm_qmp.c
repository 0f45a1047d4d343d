/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VM's QMP connection: connecting while QEMU comes up, pinning the vCPU
 * threads, letting the guest run, and the events that change its state.
 */
#include "vm/vm_internal.h"

#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "json_util.h"

/* ---- QMP: connect, pin, cont ---- */

static void on_qmp_ready(Qmp *qmp, void *userdata);
static void on_qmp_event(Qmp *qmp, const char *name, json_object *data, void *userdata);
static void on_qmp_closed(Qmp *qmp, int error, void *userdata);

const QmpCallbacks vm_qmp_callbacks = {
	.ready = on_qmp_ready,
	.event = on_qmp_event,
	.closed = on_qmp_closed,
};

void vm_qmp_path(const Vm *vm, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s.qmp", vm->manager->records_dir, vm->name);
}

int vm_connect_qmp(Vm *vm)
{
	char path[4200];
	vm_qmp_path(vm, path, sizeof(path));

	/* The daemon's own socket, listening since before QEMU's exec: nothing to wait for. */
	int r = qmp_connect(vm->manager->event, path, &vm_qmp_callbacks, vm, &vm->qmp);
	if (r < 0 && vm->start_pending)
		vm_start_failedf(vm, VM_FAIL_START, "Cannot connect to QEMU's QMP socket %s: %s.",
				 path, strerror(-r));
	else if (r < 0)
		vm_log(vm, LOG_WARNING, r, "VM %s: cannot connect to QMP at %s", vm->name, path);
	return r;
}

void vm_set_qmp_status(Vm *vm, const char *status)
{
	free(vm->qmp_status);
	vm->qmp_status = status ? strdup(status) : NULL;
}

static void on_cont(Qmp *qmp, json_object *result, const char *error_class, const char *description,
		    void *userdata)
{
	Vm *vm = userdata;
	(void)qmp;
	(void)result;
	if (!vm->start_pending)
		return;
	if (error_class) {
		vm_start_failedf(vm, VM_FAIL_START, "QEMU refused to run the guest: %s.",
				 description ? description : error_class);
		return;
	}
	vm_set_qmp_status(vm, "running");
	vm->start_pending = false;
	vm->start_timer = sd_event_source_disable_unref(vm->start_timer);
	vm_set_state(vm, VM_STATE_RUNNING);
	vm_log_event(vm, LOG_INFO, MESSAGE_ID_VM_STARTED, "VM %s started (pid %d)", vm->name,
		     (int)vm->pid);
	VmInfo info;
	vm_info(vm, &info);
	VmOutcome outcome = { .vm = &info, .phase = "running", .final = true };
	if (vm->start_waiter.callback)
		vm->start_waiter.callback(&outcome, vm->start_waiter.userdata);
	if (vm->has_definition) {
		vm_definition_done(&vm->definition);
		vm->has_definition = false;
	}
}

static void run_guest(Vm *vm)
{
	vm_progress(vm, "running");
	int r = qmp_execute(vm->qmp, "cont", NULL, on_cont, vm);
	if (r < 0)
		vm_start_failedf(vm, VM_FAIL_INTERNAL, "Cannot send cont: %s.", strerror(-r));
}

static void on_cpus(Qmp *qmp, json_object *result, const char *error_class, const char *description,
		    void *userdata)
{
	Vm *vm = userdata;
	(void)qmp;
	if (!vm->start_pending)
		return;
	if (error_class) {
		vm_start_failedf(vm, VM_FAIL_START, "QEMU did not list its vCPUs: %s.",
				 description ? description : error_class);
		return;
	}
	unsigned n = vm_definition_cpus(&vm->definition);
	for (size_t i = 0; i < json_array_size(result); i++) {
		json_object *cpu = json_object_array_get_idx(result, i);
		int64_t index = -1, thread = 0;
		if (json_get_int(cpu, "cpu-index", &index) < 0 ||
		    json_get_int(cpu, "thread-id", &thread) < 0 || index < 0 ||
		    (uint64_t)index >= n || thread <= 0)
			continue;
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(vm->vcpu_cpus[index], &set);
		if (sched_setaffinity((pid_t)thread, sizeof(set), &set) < 0)
			vm_log(vm, LOG_WARNING, -errno, "VM %s: cannot pin vCPU %lld to CPU %d",
			       vm->name, (long long)index, vm->vcpu_cpus[index]);
	}
	run_guest(vm);
}

static void on_qmp_ready(Qmp *qmp, void *userdata)
{
	Vm *vm = userdata;
	(void)qmp;
	if (!vm->start_pending)
		return; /* an adopted VM: its query-status is on the way */
	vm_set_qmp_status(vm, "prelaunch");
	if (!vm->pin) {
		run_guest(vm);
		return;
	}
	vm_progress(vm, "pinning");
	int r = qmp_execute(vm->qmp, "query-cpus-fast", NULL, on_cpus, vm);
	if (r < 0)
		vm_start_failedf(vm, VM_FAIL_INTERNAL, "Cannot ask QEMU for its vCPUs: %s.",
				 strerror(-r));
}

static void on_qmp_event(Qmp *qmp, const char *name, json_object *data, void *userdata)
{
	Vm *vm = userdata;
	bool guest = false;
	(void)qmp;

	if (strcmp(name, "STOP") == 0) {
		vm_set_qmp_status(vm, "paused");
		if (vm->state == VM_STATE_RUNNING)
			vm_set_state(vm, VM_STATE_PAUSED);
	} else if (strcmp(name, "RESUME") == 0) {
		vm_set_qmp_status(vm, "running");
		if (vm->state == VM_STATE_PAUSED)
			vm_set_state(vm, VM_STATE_RUNNING);
	} else if (strcmp(name, "SHUTDOWN") == 0) {
		if (json_get_bool(data, "guest", &guest) >= 0 && guest)
			vm->guest_shutdown = true;
		vm_set_qmp_status(vm, "shutdown");
	}
}

static void on_qmp_closed(Qmp *qmp, int error, void *userdata)
{
	Vm *vm = userdata;
	(void)qmp;
	/* QEMU is ending, most likely: its pidfd says so soon. */
	vm_log(vm, LOG_DEBUG, error, "VM %s: QMP connection closed", vm->name);
	vm->qmp = qmp_free(vm->qmp);
	vm->qmp_status = mfree(vm->qmp_status);
}
