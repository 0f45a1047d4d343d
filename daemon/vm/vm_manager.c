/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VM table: one entry per defined or running VM, and every vm_manager_*()
 * entry point. It finds the VM, checks that the call fits its state, and
 * hands the work to the file that does it (vm_start.c, vm_control.c,
 * vm_adopt.c); List, Get, Define, Undefine, Watch and the autostart are its
 * own. See vm_internal.h for the call graph.
 */
#include "vm/vm_internal.h"

#include <stdio.h>
#include <string.h>

#include "array.h"
#include "base/log.h"
#include "fs_util.h"
#include "strv.h"
#include "vm/vm_adopt.h"
#include "vm/vm_last_end.h"
#include "vm/vm_logs.h"
#include "vm/vm_qemu_user.h"
#include "vm/vm_start.h"
#include "vm/vm_store.h"

/* RUNTIME/vms/autostarted: the autostart VMs were started since boot. */
#define MARKER_AUTOSTARTED "autostarted"

/* ---- The VM table ---- */

static Vm *vm_find(VmManager *m, const char *name)
{
	for (size_t i = 0; i < m->n_vms; i++)
		if (strcmp(m->vms[i]->name, name) == 0)
			return m->vms[i];
	return NULL;
}

static int vm_add(VmManager *m, const char *name, Vm **ret)
{
	Vm *vm = vm_new(m, name);
	if (!vm)
		return -ENOMEM;
	if (ARRAY_RESERVE(m->vms, m->allocated_vms, m->n_vms + 1) < 0) {
		vm_free(vm);
		return -ENOMEM;
	}
	m->vms[m->n_vms++] = vm;
	*ret = vm;
	return 0;
}

/* A VM leaves the table when its definition is gone: how it last ended goes with it. */
static void vm_remove(VmManager *m, Vm *vm)
{
	vm_forget_end(vm);
	for (size_t i = 0; i < m->n_vms; i++)
		if (m->vms[i] == vm) {
			memmove(&m->vms[i], &m->vms[i + 1], (m->n_vms - i - 1) * sizeof(Vm *));
			m->n_vms--;
			break;
		}
	vm_free(vm);
}

/*
 * Re-reads NAME's definition into the table. Returns the VM (NULL when it
 * neither has a definition nor runs), *ret_message for a definition that does
 * not load (the VM is still listed, with the problem).
 */
static int vm_refresh(VmManager *m, const char *name, Vm **ret)
{
	VmDefinition definition;
	_cleanup_free_ char *error = NULL;
	Vm *vm = vm_find(m, name);

	int r = vm_store_load(m->config->vm_dir, name, &definition, &error);
	if (r == -ENOENT) {
		/* Gone unless it runs. */
		if (vm && !vm_is_active(vm) && !vm->hugepages_write_pending) {
			vm_remove(m, vm);
			vm = NULL;
		}
		*ret = vm;
		return 0;
	}
	if (!vm && (r == 0 || r == -EINVAL)) {
		int k = vm_add(m, name, &vm);
		if (k < 0) {
			if (r == 0)
				vm_definition_done(&definition);
			return k;
		}
	}
	if (r == -EINVAL) {
		if (!vm_is_active(vm))
			vm_set_problem(vm, error);
	} else if (r == 0) {
		r = vm_take_summary(vm, &definition);
		vm_definition_done(&definition);
	}
	*ret = vm;
	return r == -EINVAL ? 0 : r;
}

static int compare_vms(const void *a, const void *b)
{
	return strcmp(((const VmInfo *)a)->name, ((const VmInfo *)b)->name);
}

int vm_manager_list(VmManager *m, VmInfo **ret, size_t *ret_n)
{
	_cleanup_strv_ char **names = NULL;
	int r = vm_store_list(m->config->vm_dir, &names);
	if (r < 0)
		return r;
	for (char **name = names; name && *name; name++) {
		Vm *vm;
		r = vm_refresh(m, *name, &vm);
		if (r < 0)
			return r;
	}
	/* Those whose file went away meanwhile: gone unless they run. */
	for (size_t i = 0; i < m->n_vms;) {
		Vm *vm = m->vms[i];
		if (!strv_contains(names, vm->name) && !vm_is_active(vm) &&
		    !vm->hugepages_write_pending) {
			vm_remove(m, vm);
			continue;
		}
		i++;
	}
	VmInfo *list = calloc(m->n_vms > 0 ? m->n_vms : 1, sizeof(VmInfo));
	if (!list)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_vms; i++)
		vm_info(m->vms[i], &list[i]);
	if (m->n_vms > 0)
		qsort(list, m->n_vms, sizeof(VmInfo), compare_vms);
	*ret = list;
	*ret_n = m->n_vms;
	return 0;
}

uint64_t vm_manager_hugepages_held(const VmManager *m, int node, uint64_t size_kib)
{
	uint64_t held = 0;

	for (size_t i = 0; m && i < m->n_vms; i++) {
		/* A start's write that timed out is counted: it may still add them. */
		held += hugepage_reservation_pages_in(&m->vms[i]->hugepages, node, size_kib);
	}
	return held;
}

/* Finds NAME for an operation, or calls back NoSuchVM and returns NULL. */
static Vm *vm_lookup(VmManager *m, const char *name, VmCallback callback, void *userdata)
{
	Vm *vm = NULL;
	int r = vm_name_is_valid(name) ? vm_refresh(m, name, &vm) : 0;
	if (r < 0) {
		vm_fail_now(callback, userdata, VM_FAIL_INTERNAL, "Cannot read the VM %s: %s.",
			    name, strerror(-r));
		return NULL;
	}
	if (!vm)
		vm_fail_now(callback, userdata, VM_FAIL_NO_SUCH_VM,
			    "There is no VM named '%s'; 'vfioctl list' shows the VMs, 'vfioctl "
			    "define FILE' adds one.",
			    name);
	return vm;
}

void vm_manager_log_file(const VmManager *m, const char *name, char *buf, size_t size)
{
	(void)snprintf(buf, size, "%s/vms/%s/qemu.log", m->config->state_dir, name);
}

int vm_manager_log_open(const VmManager *m, const char *name, VmLog **ret)
{
	char file[4200];
	QemuUser user = { .uid = 0 };
	_cleanup_free_ char *message = NULL;
	vm_manager_log_file(m, name, file, sizeof(file));
	(void)qemu_user_lookup(m->config->qemu_user, &user, &message); /* none: root's lines */
	return vm_log_open(name, file, user.uid, ret);
}

void vm_manager_get(VmManager *m, const char *name, VmCallback callback, void *userdata)
{
	Vm *vm = vm_lookup(m, name, callback, userdata);
	if (vm) {
		Waiter w = { callback, userdata };
		vm_call_back(&w, vm, VM_OK, NULL, NULL);
	}
}

static void vm_wrong_state(Vm *vm, VmCallback callback, void *userdata, const char *what)
{
	char text[512];
	snprintf(text, sizeof(text), "%s is %s: %s.", vm->name, vm_state_to_string(vm->state),
		 what);
	Waiter w = { callback, userdata };
	vm_call_back(&w, vm, VM_FAIL_WRONG_STATE, text, NULL);
}

/* ---- Define, Undefine ---- */

void vm_manager_define(VmManager *m, const char *text, size_t size, VmCallback callback,
		       void *userdata)
{
	VmDefinition definition;
	_cleanup_free_ char *error = NULL;
	Vm *vm;

	int r = vm_store_define(m->config->vm_dir, text, size, &definition, &error);
	if (r == -EINVAL || r == -EEXIST) {
		vm_fail_now(callback, userdata,
			    r == -EINVAL ? VM_FAIL_INVALID_DEFINITION : VM_FAIL_EXISTS, "%s",
			    error);
		return;
	}
	if (r < 0) {
		vm_fail_now(callback, userdata, VM_FAIL_INTERNAL,
			    "Cannot store the definition in %s: %s.", m->config->vm_dir,
			    strerror(-r));
		return;
	}
	vm = vm_find(m, definition.name);
	r = vm ? 0 : vm_add(m, definition.name, &vm);
	if (r >= 0)
		r = vm_take_summary(vm, &definition);
	/* A problem of the old definition is gone; why it last ended stays. */
	if (r >= 0 && !vm_is_active(vm))
		vm_set_problem(vm, vm->end_problem);
	LogField fields[] = { { "LIBVFIO_VM", definition.name } };
	log_full_errno_fields(LOG_INFO, 0, fields, 1, "VM %s defined (uuid %s)", definition.name,
			      definition.uuid);
	vm_definition_done(&definition);
	if (r < 0) {
		vm_fail_now(callback, userdata, VM_FAIL_INTERNAL, "The daemon ran out of memory.");
		return;
	}
	Waiter w = { callback, userdata };
	vm_call_back(&w, vm, VM_OK, NULL, NULL);
	vm_notify(m, vm);
}

void vm_manager_undefine(VmManager *m, const char *name, VmCallback callback, void *userdata)
{
	Vm *vm = vm_lookup(m, name, callback, userdata);
	if (!vm)
		return;
	if (vm_is_active(vm)) {
		vm_wrong_state(vm, callback, userdata, "stop it first (vfioctl stop)");
		return;
	}
	if (vm->hugepages_write_pending) {
		vm_wrong_state(vm, callback, userdata,
			       "its last start's hugepage pool write has not ended; try again in a "
			       "moment");
		return;
	}
	int r = vm_store_undefine(m->config->vm_dir, name);
	if (r < 0 && r != -ENOENT) {
		vm_fail_now(callback, userdata, VM_FAIL_INTERNAL, "Cannot remove %s/%s.yaml: %s.",
			    m->config->vm_dir, name, strerror(-r));
		return;
	}
	vm_log(vm, LOG_INFO, 0, "VM %s undefined", name);
	vm->state = VM_STATE_UNDEFINED;
	vm_notify(m, vm);
	vm_remove(m, vm);
	Waiter w = { callback, userdata };
	vm_call_back(&w, NULL, VM_OK, NULL, NULL);
}

/* ---- Start, Stop, Kill, Pause, Resume ---- */

void vm_manager_start(VmManager *m, const char *name, VmCallback callback, void *userdata)
{
	Vm *vm = vm_lookup(m, name, callback, userdata);
	if (!vm)
		return;
	if (vm_is_active(vm)) {
		vm_wrong_state(vm, callback, userdata, "it is already started");
		return;
	}
	vm_start(vm, callback, userdata);
}

/*
 * What Stop and Kill share: a VM whose QEMU runs, a waiter for its end, and
 * a start under way ended at once (`how`: "stopped", "killed"). Returns the
 * VM when the caller goes on, NULL when the call was answered or is taken
 * care of.
 */
static Vm *begin_end(VmManager *m, const char *name, const char *how, VmCallback callback,
		     void *userdata)
{
	Vm *vm = vm_lookup(m, name, callback, userdata);
	if (!vm)
		return NULL;
	if (!vm_is_active(vm) || vm->pid <= 0 || vm->releasing) {
		vm_wrong_state(vm, callback, userdata,
			       vm_is_active(vm) ? "wait until QEMU runs" : "it does not run");
		return NULL;
	}
	if (vm_add_stop_waiter(vm, callback, userdata) < 0) {
		vm_fail_now(callback, userdata, VM_FAIL_INTERNAL, "The daemon ran out of memory.");
		return NULL;
	}
	vm->stop_requested = true;
	if (vm->start) { /* QEMU is killed; the waiters hear when it is gone */
		vm_start_cancel(vm, how);
		return NULL;
	}
	return vm;
}

void vm_manager_stop(VmManager *m, const char *name, bool force, uint64_t timeout_usec,
		     VmCallback callback, void *userdata)
{
	Vm *vm = vm_find(m, name);
	bool already = vm && vm->stop_requested && vm->state == VM_STATE_STOPPING;

	vm = begin_end(m, name, "stopped", callback, userdata);
	if (!vm)
		return;
	vm_stop_qemu(vm, force, already,
		     timeout_usec == UINT64_MAX ? m->config->stop_timeout_usec : timeout_usec);
}

void vm_manager_kill(VmManager *m, const char *name, VmCallback callback, void *userdata)
{
	Vm *vm = begin_end(m, name, "killed", callback, userdata);
	if (vm)
		vm_kill_qemu(vm);
}

static void pause_or_resume(VmManager *m, const char *name, bool pause, VmCallback callback,
			    void *userdata)
{
	Vm *vm = vm_lookup(m, name, callback, userdata);
	if (!vm)
		return;
	VmState from = pause ? VM_STATE_RUNNING : VM_STATE_PAUSED;
	if (vm->state != from || !vm->qmp) {
		vm_wrong_state(vm, callback, userdata,
			       pause ? "only a running VM can be paused"
				     : "only a paused VM can be resumed");
		return;
	}
	vm_pause_qemu(vm, pause, callback, userdata);
}

void vm_manager_pause(VmManager *m, const char *name, VmCallback callback, void *userdata)
{
	pause_or_resume(m, name, true, callback, userdata);
}

void vm_manager_resume(VmManager *m, const char *name, VmCallback callback, void *userdata)
{
	pause_or_resume(m, name, false, callback, userdata);
}

static void reset_or_reboot(VmManager *m, const char *name, bool reboot, VmCallback callback,
			    void *userdata)
{
	Vm *vm = vm_lookup(m, name, callback, userdata);
	if (!vm)
		return;
	if (vm->state != VM_STATE_RUNNING || !vm->qmp || vm->start || vm->rebooting) {
		vm_wrong_state(vm, callback, userdata,
			       reboot ? "only a running VM can be rebooted"
				      : "only a running VM can be reset");
		return;
	}
	vm_reset_qemu(vm, reboot, callback, userdata);
}

void vm_manager_reset(VmManager *m, const char *name, VmCallback callback, void *userdata)
{
	reset_or_reboot(m, name, false, callback, userdata);
}

void vm_manager_reboot(VmManager *m, const char *name, VmCallback callback, void *userdata)
{
	reset_or_reboot(m, name, true, callback, userdata);
}

/* ---- Adoption after a daemon restart, autostart ---- */

static int adopt_record(VmManager *m, VmRuntime *runtime)
{
	Vm *vm = vm_find(m, runtime->name);
	int r;

	if (!vm && (r = vm_add(m, runtime->name, &vm)) < 0)
		return r;
	return vm_adopt(vm, runtime);
}

/*
 * How the VMs that were not re-adopted last ended (vm_last_end.h): failed,
 * crashed or stopped, with the reason, rather than "defined" as if never
 * started. A record whose definition is gone is removed. Only running out of
 * memory fails: what cannot be read is said, and the VMs show as defined.
 */
static int restore_ends(VmManager *m)
{
	VmLastEnd *ends = NULL;
	size_t n = 0;
	_cleanup_strv_ char **problems = NULL;

	/* Root's alone: the reasons may name paths and devices of other users' VMs. */
	int r = mkdir_p_mode(m->ends_dir, 0700);
	if (r < 0) {
		log_warning_errno(r, "Cannot create %s; how VMs end is not kept", m->ends_dir);
		return 0;
	}
	r = vm_last_end_load_all(m->ends_dir, &ends, &n, &problems);
	for (char **p = problems; p && *p; p++)
		log_warning("VM states: %s", *p);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		Vm *vm = vm_find(m, ends[i].name);
		if (vm) /* re-adopted, or being cleaned up after: its record says more */
			continue;
		r = vm_refresh(m, ends[i].name, &vm);
		if (r < 0 && r != -ENOMEM) {
			log_warning_errno(r, "Cannot read the VM %s", ends[i].name);
			r = 0;
			continue;
		}
		if (r < 0)
			break;
		if (!vm) {
			(void)vm_last_end_remove(m->ends_dir, ends[i].name);
			continue;
		}
		vm->state = ends[i].state;
		vm->end_problem = TAKE_PTR(ends[i].problem);
		if (!vm->problem) /* a definition that does not load says so first */
			vm_set_problem(vm, vm->end_problem);
	}
	for (size_t i = 0; i < n; i++)
		vm_last_end_done(&ends[i]);
	free(ends);
	if (r == -ENOMEM)
		return log_error_errno(r, "Cannot read how the VMs last ended");
	if (r < 0)
		log_warning_errno(r, "Cannot read %s", m->ends_dir);
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
		r = adopt_record(m, &records[i]);
	for (size_t i = 0; i < n; i++)
		vm_runtime_done(&records[i]);
	free(records);
	if (r < 0)
		return log_error_errno(r, "Cannot re-adopt the running VMs");
	r = restore_ends(m);
	if (r < 0)
		return r;
	release_orphans(m);
	autostart(m);
	return 0;
}

/* ---- Watchers, the manager itself ---- */

int vm_manager_watch(VmManager *m, int (*callback)(const VmInfo *vm, void *userdata),
		     void (*drop)(void *userdata), void *userdata)
{
	if (ARRAY_RESERVE(m->watchers, m->allocated_watchers, m->n_watchers + 1) < 0)
		return -ENOMEM;
	m->watchers[m->n_watchers++] = (Watcher){ callback, drop, userdata };
	return 0;
}

int vm_manager_new(sd_event *event, PartitionEngine *engine, HostCache *host,
		   const DaemonConfig *config, VmManager **ret)
{
	VmManager *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->event = sd_event_ref(event);
	m->engine = engine;
	m->host = host;
	m->config = config;
	m->systemd_bus = (BusConnection){ .event = event, .kind = BUS_SYSTEMD_PRIVATE };
	m->system_bus = (BusConnection){ .event = event, .kind = BUS_SYSTEM };
	if (asprintf(&m->records_dir, "%s/vms", config->runtime_dir) < 0) {
		sd_event_unref(m->event);
		free(m);
		return -ENOMEM;
	}
	if (asprintf(&m->ends_dir, "%s/vm-states", config->runtime_dir) < 0) {
		free(m->records_dir);
		sd_event_unref(m->event);
		free(m);
		return -ENOMEM;
	}
	int r = sysfs_writer_new(event, &m->writer);
	if (r < 0) {
		free(m->ends_dir);
		free(m->records_dir);
		sd_event_unref(m->event);
		free(m);
		return r;
	}
	*ret = m;
	return 0;
}

VmManager *vm_manager_free(VmManager *m)
{
	if (!m)
		return NULL;
	/* First: writes under way hear -ECANCELED while their VMs still exist. */
	m->writer = sysfs_writer_free(m->writer);
	for (size_t i = 0; i < m->n_watchers; i++)
		m->watchers[i].drop(m->watchers[i].userdata);
	free(m->watchers);
	for (size_t i = 0; i < m->n_vms; i++) {
		Vm *vm = m->vms[i];
		/* Whoever waits hears it now; what QEMU holds stays, for the next daemon. */
		static const char stopping[] =
			"libvfiod is stopping; a QEMU that runs goes on, and "
			"the next libvfiod takes it back.";
		vm->releasing = true; /* nothing may start a release any more */
		vm_start_abandon(vm, stopping);
		for (size_t k = 0; k < vm->n_stop_waiters; k++)
			vm_call_back(&vm->stop_waiters[k], vm, VM_FAIL_INTERNAL, stopping, NULL);
		vm->n_stop_waiters = 0;
		vm_free(vm);
	}
	free(m->vms);
	bus_connection_close(&m->systemd_bus);
	bus_connection_close(&m->system_bus);
	free(m->records_dir);
	free(m->ends_dir);
	sd_event_unref(m->event);
	free(m);
	return NULL;
}
