/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * After a daemon restart: the VMs whose QEMU still runs are taken back
 * (pid and start time, QMP reconnected), the others cleaned up after; on
 * the first start since boot, the autostart VMs are started.
 */
#include "vm/vm_internal.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>

#include "base/log.h"
#include "fs_util.h"
#include "json_util.h"
#include "strv.h"
#include "vm/vm_runtime.h"
#include "vm/vm_store.h"

/* ---- Adoption after a daemon restart, autostart ---- */

static void on_status(Qmp *qmp, json_object *result, const char *error_class,
		      const char *description, void *userdata)
{
	Vm *vm = userdata;
	(void)qmp;
	(void)description;
	const char *status = error_class ? NULL : json_get_string(result, "status");
	if (!status)
		return;
	vm_set_qmp_status(vm, status);
	if (vm->state != VM_STATE_RUNNING)
		return;
	if (strcmp(status, "paused") == 0)
		vm_set_state(vm, VM_STATE_PAUSED);
	else if (strcmp(status, "prelaunch") == 0) {
		/*
		 * The previous daemon died between spawning QEMU and its cont: the
		 * guest never ran, and where its vCPUs should run was that start's
		 * to decide. The start is failed here as it would have been, so QEMU
		 * is killed and everything it held given back.
		 */
		vm->start_waiter = (Waiter){ 0 };
		vm->start_pending = true;
		vm_set_state(vm, VM_STATE_STOPPING);
		vm_start_failed(vm, VM_FAIL_START,
				"Its start was cut short: libvfiod stopped before the guest ran. "
				"Start it again.",
				NULL);
	}
}

static void on_adopted_qmp_ready(Vm *vm)
{
	(void)qmp_execute(vm->qmp, "query-status", NULL, on_status, vm);
}

static int adopt_one(VmManager *m, VmRuntime *runtime)
{
	uint64_t start_time = 0;
	Vm *vm = vm_find(m, runtime->name);
	int r;

	if (!vm && (r = vm_add(m, runtime->name, &vm)) < 0)
		return r;
	VmDefinition definition;
	_cleanup_free_ char *error = NULL;
	if (vm_store_load(m->config->vm_dir, vm->name, &definition, &error) >= 0) {
		(void)vm_take_summary(vm, &definition);
		vm_definition_done(&definition);
	}
	vm->partitions = TAKE_PTR(runtime->partitions);
	vm->lent = TAKE_PTR(runtime->lent);
	vm->n_lent = vm->allocated_lent = runtime->n_lent;
	runtime->n_lent = 0;
	vm->started_at_usec = runtime->started_at_usec;

	bool alive = process_start_time("/proc", runtime->pid, &start_time) >= 0 &&
		     start_time == runtime->start_time;
	int pidfd = alive ? pidfd_open(runtime->pid, 0) : -1;
	/* A pidfd that reads as ended already: a zombie nobody reaped yet. */
	struct pollfd poll_fd = { .fd = pidfd, .events = POLLIN };
	if (pidfd >= 0 && poll(&poll_fd, 1, 0) > 0)
		pidfd = safe_close(pidfd);
	if (pidfd < 0) {
		/* pid 0: the daemon died while it was preparing the start. */
		bool started = runtime->pid > 0;
		vm_log(vm, LOG_NOTICE, 0, "VM %s %s; giving back what it held", vm->name,
		       started ? "ended while libvfiod was not running"
			       : "was being started when libvfiod stopped");
		vm_set_problem(vm,
			       started ? "QEMU ended while libvfiod was not running."
				       : "Its start was cut short: libvfiod stopped before QEMU "
					 "ran. Start it again.");
		vm->state = VM_STATE_STOPPING;
		vm->releasing = true;
		vm->end_state = started ? VM_STATE_CRASHED : VM_STATE_STOPPED;
		vm_release_next(vm);
		return 0;
	}
	vm->pid = runtime->pid;
	vm->pidfd = pidfd;
	vm->start_time = start_time;
	vm->own_child = false;
	vm->state = VM_STATE_RUNNING;
	r = sd_event_add_io(m->event, &vm->exit_source, pidfd, EPOLLIN, vm_on_qemu_exit, vm);
	if (r < 0)
		return r;
	if (vm_connect_qmp(vm) >= 0)
		on_adopted_qmp_ready(vm);
	vm_log(vm, LOG_INFO, 0, "VM %s re-adopted (pid %d)", vm->name, (int)vm->pid);
	return 0;
}

/* Partitions held for a VM that has no QEMU (the daemon died while starting it). */
static void release_orphans(VmManager *m)
{
	size_t n;
	const PartitionRecord *records = partition_engine_records(m->engine, &n);
	_cleanup_strv_ char **orphans = NULL;

	for (size_t i = 0; i < n; i++) {
		const char *holder = records[i].holder;
		if (strncmp(holder, "vm:", 3) != 0)
			continue;
		Vm *vm = vm_find(m, holder + 3);
		if (vm && strv_contains(vm->partitions, records[i].id))
			continue;
		if (strv_append(&orphans, records[i].id) < 0)
			return;
	}
	for (char **id = orphans; id && *id; id++) {
		log_notice("Releasing partition %s: its VM has no QEMU", *id);
		(void)partition_engine_destroy(m->engine, *id, NULL, NULL);
	}
}

static void autostart(VmManager *m)
{
	_cleanup_strv_ char **names = NULL;
	char marker[4096];

	/* The runtime directory is a tmpfs: no marker means the first start since boot. */
	snprintf(marker, sizeof(marker), "%s/" MARKER_AUTOSTARTED, m->records_dir);
	if (access(marker, F_OK) == 0)
		return;
	if (write_file_atomic(m->records_dir, MARKER_AUTOSTARTED, "", 0, 0600) < 0)
		return;
	if (vm_store_list(m->config->vm_dir, &names) < 0)
		return;
	for (char **name = names; name && *name; name++) {
		Vm *vm;
		if (vm_refresh(m, *name, &vm) < 0 || !vm || !vm->autostart || vm_is_active(vm))
			continue;
		log_info("Autostarting VM %s", *name);
		vm_manager_start(m, *name, NULL, NULL);
	}
}

int vm_manager_adopt(VmManager *m)
{
	VmRuntime *records = NULL;
	size_t n = 0;
	_cleanup_strv_ char **problems = NULL;

	/* QEMU's user passes through it to its own directory below. */
	int r = mkdir_p_mode(m->records_dir, 0711);
	if (r < 0)
		return log_error_errno(r, "Cannot create %s", m->records_dir);
	r = vm_runtime_load_all(m->records_dir, &records, &n, &problems);
	for (char **p = problems; p && *p; p++)
		log_warning("VM records: %s", *p);
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = adopt_one(m, &records[i]);
	for (size_t i = 0; i < n; i++)
		vm_runtime_done(&records[i]);
	free(records);
	if (r < 0)
		return log_error_errno(r, "Cannot re-adopt the running VMs");
	release_orphans(m);
	autostart(m);
	return 0;
}
