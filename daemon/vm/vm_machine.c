/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VM's scope and its machined registration (vm_machine.h).
 */
#include "vm/vm_machine.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-id128.h>

#include "base/log.h"
#include "macro.h"
#include "process/process_scope.h"

#define MACHINED_SERVICE "org.freedesktop.machine1"
#define MACHINED_PATH "/org/freedesktop/machine1"
#define MACHINED_MANAGER "org.freedesktop.machine1.Manager"
#define MACHINED_TIMEOUT_USEC (10 * USEC_PER_SEC)

/* /dev/kvm, the VFIO container, each lent node, USB, and the end. */
#define MAX_DEVICE_RULES (2 * (3 + 64) + 1)

bool vm_machine_name(const char *name, char ret[static VM_NAME_MAX + 1])
{
	/* systemd's hostname_is_valid(): labels of [A-Za-z0-9-] between single dots, none
	 * starting or ending with '-', no trailing dot. */
	size_t n = strlen(name);
	bool label_start = true;
	if (n == 0 || n > VM_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i] == '_' ? '-' : name[i];
		if (c == '.') {
			if (label_start || ret[i - 1] == '-')
				return false;
			label_start = true;
		} else if (c == '-') {
			if (label_start)
				return false;
		} else if (isascii((unsigned char)c) && isalnum((unsigned char)c)) {
			label_start = false;
		} else
			return false;
		ret[i] = c;
	}
	ret[n] = '\0';
	return !label_start && ret[n - 1] != '-';
}

static void on_scope(ScopeResult result, const char *unit, const char *message, void *userdata)
{
	VmStart *s = userdata;
	Vm *vm = s->vm;
	VmManager *m = vm->manager;
	VmScopeCallback callback = s->scope_callback;
	const char *what = message ? message : "systemd failed";

	s->scope = scope_job_free(s->scope); /* the start no longer waits for it */
	switch (result) {
	case SCOPE_MADE:
		vm_log(vm, LOG_INFO, 0, "VM %s: QEMU runs in %s", vm->name, unit);
		callback(s, true, NULL);
		return;
	case SCOPE_NO_SYSTEMD:
		if (!m->said_no_systemd)
			log_info("No scope for QEMU (%s): it runs in the daemon's own cgroup",
				 what);
		m->said_no_systemd = true;
		callback(s, true, NULL);
		return;
	case SCOPE_FAILED:
		break;
	}
	char text[1024];
	(void)snprintf(text, sizeof(text),
		       "Cannot give QEMU a scope of its own (%s); its memory would count as the "
		       "daemon's. See `journalctl -u libvfiod` and systemd's own log.",
		       what);
	callback(s, false, text);
}

/* The devices this VM's QEMU may open: DeviceAllow= pairs, NULL-terminated. */
static void device_rules(const VmStart *s, const char *rules[MAX_DEVICE_RULES])
{
	const Vm *vm = s->vm;
	size_t n = 0;
	rules[n++] = "/dev/kvm";
	rules[n++] = "rw";
	rules[n++] = "/dev/vfio/vfio";
	rules[n++] = "rw";
	for (size_t i = 0; i < vm->n_lent && n + 3 < MAX_DEVICE_RULES; i++) {
		rules[n++] = vm->lent[i].path; /* its VFIO groups, kvmfr */
		rules[n++] = "rw";
	}
	if (s->definition.n_usb > 0) {
		rules[n++] = "char-usb_device"; /* usb-host opens /dev/bus/usb/BUS/DEV */
		rules[n++] = "rw";
	}
	rules[n] = NULL;
}

int vm_scope_start(VmStart *s, VmScopeCallback callback)
{
	Vm *vm = s->vm;
	VmManager *m = vm->manager;
	char name[VM_NAME_MAX + 32], description[VM_NAME_MAX + 64];
	const char *rules[MAX_DEVICE_RULES];
	pid_t pids[1 + _VM_HELPER_MAX];
	size_t n_pids = 0;

	pids[n_pids++] = vm->pid;
	for (size_t i = 0; i < _VM_HELPER_MAX; i++)
		if (vm->helpers[i].pidfd >= 0 && vm->helpers[i].pid > 0)
			pids[n_pids++] = vm->helpers[i].pid;
	device_rules(s, rules);
	/* VM names are made of unit-name characters (letters, digits, '_', '.', '-'). */
	(void)snprintf(name, sizeof(name), "libvfio-vm-%s", vm->name);
	(void)snprintf(description, sizeof(description), "libvfio VM %s (QEMU)", vm->name);
	ScopeRequest request = {
		.name = name,
		.description = description,
		.slice = "machine.slice",
		.pids = pids,
		.n_pids = n_pids,
		.device_allow = rules,
	};
	s->scope_callback = callback;
	return scope_start(&m->systemd_bus, m->event, &request, on_scope, s, &s->scope);
}

static int on_registered(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	const char *name = userdata;
	const sd_bus_error *error = sd_bus_message_get_error(reply);
	LogField fields[] = { { "LIBVFIO_VM", name } };
	(void)ret_error;

	if (!error)
		log_full_errno_fields(LOG_DEBUG, 0, fields, 1, "VM %s: registered with machined",
				      name);
	else if (bus_error_is_absent(error))
		log_full_errno_fields(LOG_DEBUG, 0, fields, 1,
				      "VM %s: not registered, machined is not running (install "
				      "systemd-container for `machinectl list`)",
				      name);
	else
		log_full_errno_fields(LOG_WARNING, 0, fields, 1,
				      "VM %s: machined refused to register it: %s", name,
				      error->message ? error->message : error->name);
	return 0;
}

void vm_machine_register(Vm *vm, const VmDefinition *d)
{
	VmManager *m = vm->manager;
	char machine[VM_NAME_MAX + 1];
	sd_id128_t id = SD_ID128_NULL;
	sd_bus *bus = NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
	sd_bus_slot *slot = NULL;

	if (!vm_machine_name(vm->name, machine)) {
		vm_log(vm, LOG_INFO, 0,
		       "VM %s: not registered with machined: its name is not a host name",
		       vm->name);
		return;
	}
	if (d->uuid[0])
		(void)sd_id128_from_string(d->uuid, &id);
	int r = bus_connection_get(&m->system_bus, &bus);
	if (r < 0) {
		if (!m->said_no_system_bus)
			log_full_errno(LOG_INFO, r,
				       "No system bus: VMs are not registered with machined");
		m->said_no_system_bus = true;
		return;
	}
	char *name = strdup(machine);
	r = name ? sd_bus_message_new_method_call(bus, &call, MACHINED_SERVICE, MACHINED_PATH,
						  MACHINED_MANAGER, "RegisterMachine")
		 : -ENOMEM;
	if (r >= 0)
		r = sd_bus_message_append(call, "s", machine);
	if (r >= 0)
		r = sd_bus_message_append_array(call, 'y', id.bytes, sizeof(id.bytes));
	if (r >= 0)
		r = sd_bus_message_append(call, "ssus", "libvfio", "vm", (uint32_t)vm->pid, "");
	if (r >= 0)
		r = sd_bus_call_async(bus, &slot, call, on_registered, name, MACHINED_TIMEOUT_USEC);
	if (r >= 0) {
		/* The bus keeps the call; the name goes with it. */
		(void)sd_bus_slot_set_destroy_callback(slot, free);
		(void)sd_bus_slot_set_floating(slot, 1);
		sd_bus_slot_unref(slot);
		return;
	}
	free(name);
	vm_log(vm, LOG_WARNING, r, "VM %s: cannot ask machined to register it", vm->name);
}
