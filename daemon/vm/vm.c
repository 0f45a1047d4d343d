/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VM table (one entry per defined or running VM), the state of each and
 * who hears of changes (waiters, watchers); List, Get, Define, Undefine.
 */
#include "vm/vm_internal.h"

#include <stdio.h>
#include <string.h>

#include "array.h"
#include "base/log.h"
#include "string_table.h"
#include "strv.h"
#include "vm/vm_store.h"

static const char *const vm_state_table[_VM_STATE_MAX] = {
	[VM_STATE_DEFINED] = "defined",   [VM_STATE_STARTING] = "starting",
	[VM_STATE_RUNNING] = "running",   [VM_STATE_PAUSED] = "paused",
	[VM_STATE_STOPPING] = "stopping", [VM_STATE_STOPPED] = "stopped",
	[VM_STATE_CRASHED] = "crashed",   [VM_STATE_UNDEFINED] = "undefined",
};

DEFINE_STRING_TABLE_LOOKUP(vm_state, VmState)

bool vm_is_active(const Vm *vm)
{
	return vm->state == VM_STATE_STARTING || vm->state == VM_STATE_RUNNING ||
	       vm->state == VM_STATE_PAUSED || vm->state == VM_STATE_STOPPING;
}

void vm_log(const Vm *vm, int level, int error, const char *format, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, format);
	(void)vsnprintf(text, sizeof(text), format, ap);
	va_end(ap);
	LogField fields[] = { { "LIBVFIO_VM", vm->name } };
	log_full_errno_fields(level, error, fields, 1, "%s", text);
}

void vm_log_event(const Vm *vm, int level, const char *message_id, const char *format, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, format);
	(void)vsnprintf(text, sizeof(text), format, ap);
	va_end(ap);
	LogField fields[] = { { "LIBVFIO_VM", vm->name }, { "MESSAGE_ID", message_id } };
	log_full_errno_fields(level, 0, fields, 2, "%s", text);
}

/* ---- Info and notifications ---- */

void vm_info(const Vm *vm, VmInfo *ret)
{
	*ret = (VmInfo){
		.name = vm->name,
		.uuid = vm->uuid,
		.state = vm->state,
		.pid = vm->pid,
		.started_at_usec = vm->pid > 0 ? vm->started_at_usec : 0,
		.partitions = vm->partitions,
		.qmp_status = vm->qmp ? vm->qmp_status : NULL,
		.autostart = vm->autostart,
		.owner = vm->owner,
		.problem = vm->problem,
	};
}

void vm_notify(VmManager *m, const Vm *vm)
{
	VmInfo info;
	vm_info(vm, &info);
	for (size_t i = 0; i < m->n_watchers;) {
		if (m->watchers[i].callback(&info, m->watchers[i].userdata) >= 0) {
			i++;
			continue;
		}
		m->watchers[i].drop(m->watchers[i].userdata);
		memmove(&m->watchers[i], &m->watchers[i + 1],
			(m->n_watchers - i - 1) * sizeof(Watcher));
		m->n_watchers--;
	}
}

void vm_set_state(Vm *vm, VmState state)
{
	if (vm->state == state)
		return;
	vm->state = state;
	vm_log(vm, LOG_INFO, 0, "VM %s is %s", vm->name, vm_state_to_string(state));
	vm_notify(vm->manager, vm);
}

void vm_set_problem(Vm *vm, const char *problem)
{
	free(vm->problem);
	vm->problem = problem ? strdup(problem) : NULL;
}

void vm_call_back(const Waiter *w, const Vm *vm, VmFailure failure, const char *message,
		  const PartitionOutcome *partition)
{
	VmInfo info;
	if (!w->callback)
		return;
	if (vm)
		vm_info(vm, &info);
	VmOutcome outcome = {
		.failure = failure,
		.message = message,
		.partition = partition,
		.vm = vm ? &info : NULL,
		.final = true,
	};
	w->callback(&outcome, w->userdata);
}

_printf_(4, 5) void vm_fail_now(VmCallback callback, void *userdata, VmFailure failure,
				const char *format, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, format);
	(void)vsnprintf(text, sizeof(text), format, ap);
	va_end(ap);
	Waiter w = { callback, userdata };
	vm_call_back(&w, NULL, failure, text, NULL);
}

void vm_progress(Vm *vm, const char *phase)
{
	VmInfo info;
	if (!vm->start_pending || !vm->start_waiter.callback)
		return;
	vm_info(vm, &info);
	VmOutcome outcome = { .vm = &info, .phase = phase };
	vm->start_waiter.callback(&outcome, vm->start_waiter.userdata);
}

/* ---- The VM table ---- */

Vm *vm_find(VmManager *m, const char *name)
{
	for (size_t i = 0; i < m->n_vms; i++)
		if (strcmp(m->vms[i]->name, name) == 0)
			return m->vms[i];
	return NULL;
}

static Vm *vm_free(Vm *vm)
{
	if (!vm)
		return NULL;
	qmp_free(vm->qmp);
	sd_event_source_disable_unref(vm->exit_source);
	vm_helpers_forget(vm); /* they end with their QEMU */
	sd_event_source_disable_unref(vm->timer);
	sd_event_source_disable_unref(vm->start_timer);
	if (vm->pidfd >= 0)
		close(vm->pidfd);
	if (vm->has_definition)
		vm_definition_done(&vm->definition);
	free(vm->problem);
	free(vm->owner);
	free(vm->vcpu_cpus);
	free(vm->log_path);
	free(vm->failure_message);
	free((char *)vm->failed_partition.message);
	free(vm->qmp_status);
	strv_free(vm->partitions);
	vm_lent_done(vm->lent, vm->n_lent);
	free(vm->stop_waiters);
	free(vm);
	return NULL;
}

int vm_add(VmManager *m, const char *name, Vm **ret)
{
	Vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->manager = m;
	vm->pidfd = -1;
	for (size_t i = 0; i < _VM_HELPER_MAX; i++)
		vm->helpers[i].pidfd = -1;
	vm->state = VM_STATE_DEFINED;
	snprintf(vm->name, sizeof(vm->name), "%s", name);
	if (ARRAY_RESERVE(m->vms, m->allocated_vms, m->n_vms + 1) < 0) {
		vm_free(vm);
		return -ENOMEM;
	}
	m->vms[m->n_vms++] = vm;
	*ret = vm;
	return 0;
}

static void vm_remove(VmManager *m, Vm *vm)
{
	for (size_t i = 0; i < m->n_vms; i++)
		if (m->vms[i] == vm) {
			memmove(&m->vms[i], &m->vms[i + 1], (m->n_vms - i - 1) * sizeof(Vm *));
			m->n_vms--;
			break;
		}
	vm_free(vm);
}

/* Keeps what List and Get show of the definition. */
int vm_take_summary(Vm *vm, const VmDefinition *definition)
{
	char *owner = definition->owner ? strdup(definition->owner) : NULL;
	if (definition->owner && !owner)
		return -ENOMEM;
	memcpy(vm->uuid, definition->uuid, sizeof(vm->uuid));
	vm->autostart = definition->autostart;
	free(vm->owner);
	vm->owner = owner;
	return 0;
}

/*
 * Re-reads NAME's definition into the table. Returns the VM (NULL when it
 * neither has a definition nor runs), *ret_error for a definition that does
 * not load (the VM is still listed, with the problem).
 */
int vm_refresh(VmManager *m, const char *name, Vm **ret)
{
	VmDefinition definition;
	_cleanup_free_ char *error = NULL;
	Vm *vm = vm_find(m, name);

	int r = vm_store_load(m->config->vm_dir, name, &definition, &error);
	if (r == -ENOENT) {
		/* Gone unless it runs. */
		if (vm && !vm_is_active(vm)) {
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
		if (!strv_contains(names, vm->name) && !vm_is_active(vm)) {
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

/* Finds NAME for an operation, or calls back NoSuchVM. */
Vm *vm_lookup(VmManager *m, const char *name, VmCallback callback, void *userdata)
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

void vm_manager_get(VmManager *m, const char *name, VmCallback callback, void *userdata)
{
	Vm *vm = vm_lookup(m, name, callback, userdata);
	if (vm) {
		Waiter w = { callback, userdata };
		vm_call_back(&w, vm, VM_OK, NULL, NULL);
	}
}

void vm_wrong_state(Vm *vm, VmCallback callback, void *userdata, const char *what)
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
	if (r >= 0 && !vm_is_active(vm))
		vm_set_problem(vm, NULL);
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
	if (asprintf(&m->records_dir, "%s/vms", config->runtime_dir) < 0) {
		sd_event_unref(m->event);
		free(m);
		return -ENOMEM;
	}
	*ret = m;
	return 0;
}

VmManager *vm_manager_free(VmManager *m)
{
	if (!m)
		return NULL;
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
		if (vm->start_pending) {
			vm->start_pending = false;
			vm_call_back(&vm->start_waiter, vm, VM_FAIL_INTERNAL, stopping, NULL);
		}
		for (size_t k = 0; k < vm->n_stop_waiters; k++)
			vm_call_back(&vm->stop_waiters[k], vm, VM_FAIL_INTERNAL, stopping, NULL);
		vm->n_stop_waiters = 0;
		vm_free(vm);
	}
	free(m->vms);
	free(m->records_dir);
	sd_event_unref(m->event);
	free(m);
	return NULL;
}
