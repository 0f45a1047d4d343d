/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VM's QMP connection: connecting, and the events that change its state.
 * A start under way hears when QMP is ready (its hooks), and pins the vCPU
 * threads and lets the guest run itself (vm_start.c).
 */
#include "vm/vm_internal.h"

#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "json_util.h"

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
	return qmp_connect(vm->manager->event, path, &vm_qmp_callbacks, vm, &vm->qmp);
}

void vm_set_qmp_status(Vm *vm, const char *status)
{
	free(vm->qmp_status);
	vm->qmp_status = status ? strdup(status) : NULL;
}

static void on_qmp_ready(Qmp *qmp, void *userdata)
{
	Vm *vm = userdata;
	(void)qmp;
	if (vm->start)
		vm->start_hooks->qmp_ready(vm);
	/* An adopted VM: its query-status is on the way. */
}

static void on_qmp_event(Qmp *qmp, const char *name, json_object *data, void *userdata)
{
	Vm *vm = userdata;
	bool guest = false;
	(void)qmp;

	if (strcmp(name, "STOP") == 0) {
		vm_set_qmp_status(vm, "paused");
		if (vm->state == VM_STATE_RUNNING && !vm->rebooting)
			vm_set_state(vm, VM_STATE_PAUSED);
	} else if (strcmp(name, "RESUME") == 0) {
		vm_set_qmp_status(vm, "running");
		if (vm->state == VM_STATE_PAUSED)
			vm_set_state(vm, VM_STATE_RUNNING);
	} else if (strcmp(name, "SHUTDOWN") == 0) {
		if (json_get_bool(data, "guest", &guest) >= 0 && guest)
			vm->guest_shutdown = true;
		vm_set_qmp_status(vm, "shutdown");
		vm_on_shutdown(vm, guest);
	} else if (strcmp(name, "RESET") == 0) {
		vm_on_reset(vm);
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
