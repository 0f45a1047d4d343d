/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One VM: its state and who hears of a change (waiters, watchers), its log
 * lines, what List and Get show of it, and its runtime record. The table of
 * VMs is vm_manager.c's.
 */
#include "vm/vm_internal.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "error_message.h"
#include "string_table.h"
#include "strv.h"
#include "vm/vm_display.h"
#include "vm/vm_hugepages.h"
#include "vm/vm_last_end.h"
#include "vm/vm_lent.h"
#include "vm/vm_runtime.h"

static const char *const vm_state_table[_VM_STATE_MAX] = {
	[VM_STATE_DEFINED] = "defined",     [VM_STATE_STARTING] = "starting",
	[VM_STATE_RUNNING] = "running",     [VM_STATE_PAUSED] = "paused",
	[VM_STATE_STOPPING] = "stopping",   [VM_STATE_STOPPED] = "stopped",
	[VM_STATE_CRASHED] = "crashed",     [VM_STATE_FAILED] = "failed",
	[VM_STATE_UNDEFINED] = "undefined",
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
		.display = vm->display_path,
		.console = vm->console_path,
		.looking_glass = vm->looking_glass_path,
		.hugepages = vm->hugepages,
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

/* An end is written down, so that a daemon that restarts still tells it (vm_last_end.h). */
static void save_end(Vm *vm)
{
	struct timespec now;
	(void)clock_gettime(CLOCK_REALTIME, &now);
	VmLastEnd end = {
		.state = vm->state,
		.problem = vm->problem,
		.at_usec = (uint64_t)now.tv_sec * USEC_PER_SEC + (uint64_t)now.tv_nsec / 1000,
	};
	snprintf(end.name, sizeof(end.name), "%s", vm->name);
	free(vm->end_problem);
	vm->end_problem = vm->problem ? strdup(vm->problem) : NULL;
	int r = vm_last_end_save(vm->manager->ends_dir, &end);
	if (r < 0)
		vm_log(vm, LOG_WARNING, r,
		       "Cannot write down how VM %s ended in %s; a restarted libvfiod will not "
		       "know it",
		       vm->name, vm->manager->ends_dir);
}

void vm_set_state(Vm *vm, VmState state)
{
	if (vm->state == state)
		return;
	vm->state = state;
	vm_log(vm, LOG_INFO, 0, "VM %s is %s", vm->name, vm_state_to_string(state));
	if (vm_last_end_state_is_valid(state))
		save_end(vm);
	vm_notify(vm->manager, vm);
}

void vm_forget_end(Vm *vm)
{
	int r = vm_last_end_remove(vm->manager->ends_dir, vm->name);
	if (r < 0)
		vm_log(vm, LOG_WARNING, r, "Cannot remove %s/%s.json", vm->manager->ends_dir,
		       vm->name);
	vm->end_problem = mfree(vm->end_problem);
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

/* ---- The VM itself ---- */

Vm *vm_new(VmManager *m, const char *name)
{
	Vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return NULL;
	vm->manager = m;
	vm->pidfd = -1;
	for (size_t i = 0; i < _VM_HELPER_MAX; i++)
		vm->helpers[i].pidfd = -1;
	vm->state = VM_STATE_DEFINED;
	snprintf(vm->name, sizeof(vm->name), "%s", name);
	return vm;
}

Vm *vm_free(Vm *vm)
{
	if (!vm)
		return NULL;
	qmp_free(vm->qmp);
	vm_display_close(vm);
	sd_event_source_disable_unref(vm->exit_source);
	vm_helpers_forget(vm->helpers); /* they end with their QEMU */
	sd_event_source_disable_unref(vm->timer);
	vm_hugepages_forget(vm);
	if (vm->pidfd >= 0)
		close(vm->pidfd);
	free(vm->problem);
	free(vm->end_problem);
	free(vm->owner);
	free(vm->log_path);
	free(vm->qmp_status);
	strv_free(vm->partitions);
	vm_lent_done(vm->lent, vm->n_lent);
	free(vm->stop_waiters);
	free(vm);
	return NULL;
}

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

int vm_save_runtime(const Vm *vm)
{
	VmRuntime runtime = {
		.pid = vm->pid,
		.start_time = vm->start_time,
		.started_at_usec = vm->started_at_usec,
		.partitions = vm->partitions,
		.lent = vm->lent,
		.n_lent = vm->n_lent,
		.hugepages = vm->hugepages,
	};
	snprintf(runtime.name, sizeof(runtime.name), "%s", vm->name);
	return vm_runtime_save(vm->manager->records_dir, &runtime);
}

int vm_save_runtime_error(const Vm *vm, int r, char **ret_message)
{
	return error_message(ret_message, r,
			     "Cannot write the runtime record of %s in %s: %s. Free space there "
			     "and start it again.",
			     vm->name, vm->manager->records_dir, strerror(-r));
}

/* ---- Define, Undefine ---- */
