/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Stop, Kill, Pause, Resume of a VM whose QEMU runs (the table has checked
 * the state), and the end of QEMU however it comes: seen through its pidfd,
 * it releases the partitions, the lent devices and the runtime record, then
 * tells whoever waits.
 */
#include "base/loop_watch.h"
#include "vm/vm_internal.h"

#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>

#include "array.h"
#include "base/log.h"
#include "json_util.h"
#include "string_table.h"
#include "strv.h"
#include "vm/vm_dirs.h"
#include "vm/vm_display.h"
#include "vm/vm_hugepages.h"
#include "vm/vm_lent.h"
#include "vm/vm_looking_glass.h"
#include "vm/vm_qemu_log.h"
#include "vm/vm_reboot.h"
#include "vm/vm_runtime.h"

static const char *const vm_ended_table[_VM_ENDED_MAX] = {
	[VM_ENDED_SHUTDOWN] = "shutdown",
	[VM_ENDED_QUIT] = "quit",
	[VM_ENDED_KILLED] = "killed",
};

DEFINE_STRING_TABLE_LOOKUP(vm_ended, VmEnded)

/* ---- The end of QEMU: release everything, then tell everyone ---- */

static void finish_release(Vm *vm)
{
	VmManager *m = vm->manager;
	char path[4096];

	/* swtpm ends by itself with QEMU's connection; the relay does not. */
	vm_helpers_stop(vm->helpers);
	for (size_t i = vm->n_lent; i > 0; i--) /* last lent, first returned */
		vm_lent_return(&vm->lent[i - 1]);
	vm_lent_done(vm->lent, vm->n_lent);
	vm->lent = NULL;
	vm->n_lent = vm->allocated_lent = 0;
	looking_glass_shm_path(vm->name, path, sizeof(path));
	(void)unlink(path); /* made for this VM's life (a client that has it mapped keeps it) */
	vm->partitions = strv_free(vm->partitions);
	vm->pid = 0;
	if (vm->hugepages.active)
		/* A pool write that timed out may still add pages: recorded until it ends. */
		(void)vm_save_runtime(vm);
	else
		(void)vm_runtime_remove(m->records_dir, vm->name);
	vm_qmp_path(vm, path, sizeof(path));
	(void)unlink(path);
	snprintf(path, sizeof(path), "%s/%s", m->records_dir, vm->name);
	vm_dir_remove(path);
	vm->releasing = false;
	vm->pid = 0;
	vm->stop_requested = false;
	vm->guest_shutdown = false;
	VmEnded ended = vm->ended;
	vm->ended = VM_ENDED_NONE;
	vm->reboot_pending = vm->qemu_pauses = vm->rebooting = false;

	/* Who waited: a failed start (it reports and ends), then those who asked for the stop. */
	if (vm->start)
		vm->start_hooks->released(vm);
	else
		vm_set_state(vm, vm->end_state);

	Waiter *waiters = TAKE_PTR(vm->stop_waiters);
	size_t n = vm->n_stop_waiters;
	vm->n_stop_waiters = vm->allocated_stop_waiters = 0;
	VmInfo info;
	vm_info(vm, &info);
	VmOutcome outcome = {
		.vm = &info,
		.ended = vm_ended_to_string(ended),
		.final = true,
	};
	for (size_t i = 0; i < n; i++)
		if (waiters[i].callback)
			waiters[i].callback(&outcome, waiters[i].userdata);
	free(waiters);
}

static void on_partition_released(const PartitionOutcome *outcome, void *userdata)
{
	Vm *vm = userdata;
	if (outcome->result < 0)
		vm_log(vm, LOG_WARNING, outcome->result, "Cannot release a partition of %s: %s",
		       vm->name, outcome->message ? outcome->message : "");
	vm_release_next(vm);
}

/* Gives back the partitions one by one (the engine serializes them anyway), newest first. */
void vm_release_next(Vm *vm)
{
	size_t n = strv_length(vm->partitions);
	while (n > 0) {
		char *id = vm->partitions[n - 1];
		vm->partitions[n - 1] = NULL;
		int r = partition_engine_destroy(vm->manager->engine, id, on_partition_released,
						 vm);
		if (r >= 0) {
			free(id);
			return;
		}
		if (r != -ENOENT)
			vm_log(vm, LOG_WARNING, r, "Cannot release partition %s of %s", id,
			       vm->name);
		free(id);
		n--;
	}
	/* The hugepages last: QEMU's memory is free once QEMU is gone. */
	if (vm_hugepages_give_back(vm, finish_release) > 0)
		return;
	finish_release(vm);
}

void vm_release_all(Vm *vm, VmState end_state)
{
	vm->releasing = true;
	vm->end_state = end_state;
	vm->timer = sd_event_source_disable_unref(vm->timer);
	vm_display_close(vm);
	vm->qmp = qmp_free(vm->qmp);
	vm->qmp_status = mfree(vm->qmp_status);
	vm->exit_source = sd_event_source_disable_unref(vm->exit_source);
	if (vm->pidfd >= 0) {
		close(vm->pidfd);
		vm->pidfd = -1;
	}
	vm_release_next(vm);
}

/* How QEMU ended, as a sentence; and whether that was a clean end. */
static bool describe_exit(Vm *vm, const ChildExit *info, char *buf, size_t size)
{
	if (!info->known) {
		snprintf(buf, size, "QEMU ended (its status is unknown: it was adopted)");
		return vm->guest_shutdown;
	}
	if (info->code == CLD_EXITED) {
		snprintf(buf, size, "QEMU exited with status %d", info->status);
		return info->status == 0;
	}
	snprintf(buf, size, "QEMU was killed by signal %d (%s)", info->status,
		 sigabbrev_np(info->status) ? sigabbrev_np(info->status) : "?");
	return false;
}

void vm_on_qemu_exit(const ChildExit *exit, void *userdata)
{
	Vm *vm = userdata;
	char how[256], last[320] = "";
	bool crashed = false;

	bool clean = describe_exit(vm, exit, how, sizeof(how));
	if (vm->ended == VM_ENDED_NONE) /* no event said: QMP was not there */
		vm->ended = clean ? VM_ENDED_SHUTDOWN : VM_ENDED_KILLED;
	if (vm->log_path)
		log_file_last_line(vm->log_path, vm->log_offset, last, sizeof(last));

	if (vm->start) {
		/* Not a crash: the start failed (unless it had failed already, and killed it). */
		char text[1024], hint[128] = "";
		if (!last[0]) /* its output went to the journal */
			snprintf(hint, sizeof(hint), "; see its log: journalctl -t qemu-%s",
				 vm->name);
		snprintf(text, sizeof(text), "%s before the guest ran%s%s%s", how,
			 last[0] ? ": " : "", last, hint);
		vm->start_hooks->qemu_ended(vm, text);
	} else if (vm->stop_requested || clean) {
		vm_log_event(vm, LOG_INFO, MESSAGE_ID_VM_STOPPED, "VM %s stopped: %s", vm->name,
			     how);
		vm_set_problem(vm, NULL);
	} else {
		char text[1024];
		snprintf(text, sizeof(text), "%s%s%s", how, last[0] ? ": " : "", last);
		vm_log_event(vm, LOG_ERR, MESSAGE_ID_VM_CRASHED, "VM %s crashed: %s", vm->name,
			     text);
		vm_set_problem(vm, text);
		crashed = true;
	}
	vm_release_all(vm, crashed ? VM_STATE_CRASHED : VM_STATE_STOPPED);
}

/* ---- Stop, Kill, Pause, Resume ---- */

int vm_add_stop_waiter(Vm *vm, VmCallback callback, void *userdata)
{
	if (ARRAY_RESERVE(vm->stop_waiters, vm->allocated_stop_waiters, vm->n_stop_waiters + 1) < 0)
		return -ENOMEM;
	vm->stop_waiters[vm->n_stop_waiters++] = (Waiter){ callback, userdata };
	return 0;
}

/* For commands whose answer changes nothing: what follows comes as events or QEMU's exit. */
static void ignore_reply(Qmp *qmp, json_object *result, const char *error_class,
			 const char *description, void *userdata)
{
	Vm *vm = userdata;
	(void)qmp;
	(void)result;
	if (error_class && strcmp(error_class, "Disconnected") != 0)
		vm_log(vm, LOG_WARNING, 0, "VM %s: QEMU refused a command: %s", vm->name,
		       description ? description : error_class);
}

static void kill_qemu(Vm *vm)
{
	if (vm->ended != VM_ENDED_SHUTDOWN)
		vm->ended = VM_ENDED_KILLED;
	if (vm->pidfd >= 0 && pidfd_send_signal(vm->pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
		vm_log(vm, LOG_ERR, -errno, "VM %s: cannot kill QEMU (pid %d)", vm->name,
		       (int)vm->pid);
}

static int on_kill_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
	loop_watch_enter(source);
	Vm *vm = userdata;
	(void)usec;
	vm_log(vm, LOG_WARNING, 0, "VM %s: QEMU did not quit; killing it", vm->name);
	kill_qemu(vm);
	return 0;
}

static void arm_timer(Vm *vm, uint64_t usec, sd_event_time_handler_t handler)
{
	vm->timer = sd_event_source_disable_unref(vm->timer);
	if (sd_event_add_time_relative(vm->manager->event, &vm->timer, CLOCK_MONOTONIC, usec,
				       USEC_PER_MSEC, handler, vm) < 0)
		kill_qemu(vm); /* no way to wait: the sure way */
	else
		(void)sd_event_source_set_description(vm->timer, "VM stop, timeout");
}

/*
 * QEMU told to exit now: SIGTERM through its pidfd, which QEMU handles as QMP's
 * "quit" (an orderly exit, whatever shutdown action is set), but straight away:
 * no command to send, parse and answer first, and whether QMP answers or not.
 * QMP's "quit" where there is no pidfd; SIGKILL if QEMU is still there after
 * the grace time.
 */
static void quit_qemu(Vm *vm)
{
	if (vm->ended == VM_ENDED_NONE)
		vm->ended = VM_ENDED_QUIT;
	if (vm->pidfd >= 0 && pidfd_send_signal(vm->pidfd, SIGTERM, NULL, 0) >= 0) {
		arm_timer(vm, QUIT_GRACE_USEC, on_kill_timer);
		return;
	}
	if (!vm->qmp || qmp_execute(vm->qmp, "quit", NULL, ignore_reply, vm) < 0) {
		kill_qemu(vm);
		return;
	}
	arm_timer(vm, QUIT_GRACE_USEC, on_kill_timer);
}

static int on_powerdown_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
	loop_watch_enter(source);
	Vm *vm = userdata;
	(void)usec;
	vm_log(vm, LOG_NOTICE, 0, "VM %s: the guest did not power down in time; quitting QEMU",
	       vm->name);
	quit_qemu(vm);
	return 0;
}

/* QEMU told to exit again at a shutdown, as it was started (after a reboot was asked). */
static void shutdown_is_poweroff(Vm *vm)
{
	vm->reboot_pending = false;
	if (!vm->qemu_pauses || !vm->qmp)
		return;
	json_object *arguments = json_object_new_object();
	if (!arguments || json_add_string(arguments, "shutdown", "poweroff") < 0) {
		json_object_put(arguments);
		return; /* QEMU pauses: vm_on_shutdown() quits it */
	}
	if (qmp_execute(vm->qmp, "set-action", arguments, ignore_reply, vm) >= 0)
		vm->qemu_pauses = false;
}

/*
 * A reboot the guest has not answered within the time a stop gives it is given
 * up: a power-off it makes later (hours later, by the user) ends the VM.
 */
static int on_reboot_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
	loop_watch_enter(source);
	Vm *vm = userdata;
	(void)usec;
	if (!vm->reboot_pending)
		return 0;
	vm_log(vm, LOG_NOTICE, 0,
	       "VM %s: the guest did not answer the reboot in time; its next power-off ends it",
	       vm->name);
	shutdown_is_poweroff(vm);
	return 0;
}

static void arm_reboot_timer(Vm *vm)
{
	vm->timer = sd_event_source_disable_unref(vm->timer);
	int r = sd_event_add_time_relative(vm->manager->event, &vm->timer, CLOCK_MONOTONIC,
					   vm->manager->config->stop_timeout_usec, USEC_PER_MSEC,
					   on_reboot_timer, vm);
	if (r >= 0)
		(void)sd_event_source_set_description(vm->timer, "VM reboot, timeout");
	if (r < 0) /* the reboot stays asked until the guest answers or a stop */
		vm_log(vm, LOG_WARNING, r, "VM %s: no time limit for its reboot", vm->name);
}

void vm_stop_qemu(Vm *vm, bool force, bool again, uint64_t timeout_usec)
{
	vm_set_state(vm, VM_STATE_STOPPING);
	shutdown_is_poweroff(vm);
	if (force || vm->rebooting) /* a guest being reset cannot answer the power button */
		quit_qemu(vm);
	else if (!again) {
		if (!vm->qmp ||
		    qmp_execute(vm->qmp, "system_powerdown", NULL, ignore_reply, vm) < 0) {
			quit_qemu(vm);
			return;
		}
		arm_timer(vm, timeout_usec, on_powerdown_timer);
	}
}

void vm_kill_qemu(Vm *vm)
{
	vm_set_state(vm, VM_STATE_STOPPING);
	kill_qemu(vm);
}

typedef struct PauseCall {
	Vm *vm;
	Waiter waiter;
	bool pause;
} PauseCall;

static void on_pause_reply(Qmp *qmp, json_object *result, const char *error_class,
			   const char *description, void *userdata)
{
	PauseCall *call = userdata;
	Vm *vm = call->vm;
	(void)qmp;
	(void)result;
	if (error_class) {
		char text[512];
		snprintf(text, sizeof(text), "QEMU refused to %s %s: %s.",
			 call->pause ? "pause" : "resume", vm->name,
			 description ? description : error_class);
		vm_call_back(&call->waiter, vm, VM_FAIL_WRONG_STATE, text, NULL);
	} else {
		/* The STOP/RESUME event may come after the reply: the state is set now. */
		if (vm->state == (call->pause ? VM_STATE_RUNNING : VM_STATE_PAUSED)) {
			vm_set_qmp_status(vm, call->pause ? "paused" : "running");
			vm_set_state(vm, call->pause ? VM_STATE_PAUSED : VM_STATE_RUNNING);
		}
		vm_call_back(&call->waiter, vm, VM_OK, NULL, NULL);
	}
	free(call);
}

void vm_pause_qemu(Vm *vm, bool pause, VmCallback callback, void *userdata)
{
	PauseCall *call = malloc(sizeof(*call));
	if (!call) {
		vm_fail_now(callback, userdata, VM_FAIL_INTERNAL, "The daemon ran out of memory.");
		return;
	}
	*call = (PauseCall){ vm, { callback, userdata }, pause };
	if (qmp_execute(vm->qmp, pause ? "stop" : "cont", NULL, on_pause_reply, call) < 0) {
		free(call);
		vm_fail_now(callback, userdata, VM_FAIL_INTERNAL, "Cannot reach QEMU over QMP.");
	}
}

/* ---- Reset, Reboot ---- */

typedef struct ResetCall {
	Vm *vm;
	Waiter waiter;
	bool reboot;
} ResetCall;

static void on_reset_reply(Qmp *qmp, json_object *result, const char *error_class,
			   const char *description, void *userdata)
{
	ResetCall *call = userdata;
	Vm *vm = call->vm;
	(void)qmp;
	(void)result;
	if (error_class) {
		char text[512];
		if (call->reboot)
			vm->reboot_pending = false;
		snprintf(text, sizeof(text), "QEMU refused to %s %s: %s.",
			 call->reboot ? "reboot" : "reset", vm->name,
			 description ? description : error_class);
		vm_call_back(&call->waiter, vm, VM_FAIL_WRONG_STATE, text, NULL);
	} else {
		vm_log(vm, LOG_INFO, 0, "VM %s: %s", vm->name,
		       call->reboot ? "the guest was asked to reboot (ACPI power button)"
				    : "reset");
		if (call->reboot && vm->reboot_pending)
			arm_reboot_timer(vm);
		vm_call_back(&call->waiter, vm, VM_OK, NULL, NULL);
	}
	free(call);
}

void vm_reset_qemu(Vm *vm, bool reboot, VmCallback callback, void *userdata)
{
	ResetCall *call = malloc(sizeof(*call));
	if (!call) {
		vm_fail_now(callback, userdata, VM_FAIL_INTERNAL, "The daemon ran out of memory.");
		return;
	}
	*call = (ResetCall){ vm, { callback, userdata }, reboot };
	if (reboot && !vm->qemu_pauses) {
		/* First: a guest that powers off pauses QEMU instead of ending it. */
		json_object *arguments = json_object_new_object();
		if (!arguments || json_add_string(arguments, "shutdown", "pause") < 0 ||
		    qmp_execute(vm->qmp, "set-action", TAKE_PTR(arguments), ignore_reply, vm) < 0) {
			json_object_put(arguments);
			free(call);
			vm_fail_now(callback, userdata, VM_FAIL_INTERNAL,
				    "Cannot reach QEMU over QMP.");
			return;
		}
		vm->qemu_pauses = true;
	}
	if (reboot)
		vm->reboot_pending = true;
	if (qmp_execute(vm->qmp, reboot ? "system_powerdown" : "system_reset", NULL, on_reset_reply,
			call) < 0) {
		vm->reboot_pending = false;
		free(call);
		vm_fail_now(callback, userdata, VM_FAIL_INTERNAL, "Cannot reach QEMU over QMP.");
	}
}

static void on_reboot_cont(Qmp *qmp, json_object *result, const char *error_class,
			   const char *description, void *userdata)
{
	Vm *vm = userdata;
	(void)qmp;
	(void)result;
	vm->rebooting = false;
	if (error_class) {
		if (strcmp(error_class, "Disconnected") != 0) {
			vm_log(vm, LOG_WARNING, 0,
			       "VM %s: QEMU did not run the guest again after its reboot (%s); "
			       "quitting it",
			       vm->name, description ? description : error_class);
			quit_qemu(vm);
		}
		return;
	}
	vm_set_qmp_status(vm, "running");
	vm_log(vm, LOG_INFO, 0, "VM %s rebooted", vm->name);
}

void vm_on_shutdown(Vm *vm, bool guest)
{
	VmShutdownAction action =
		vm_shutdown_action(vm->reboot_pending, vm->stop_requested, guest, vm->qemu_pauses);
	if (action == VM_SHUTDOWN_LET_END) {
		if (guest && vm->ended == VM_ENDED_NONE)
			vm->ended = VM_ENDED_SHUTDOWN;
		return;
	}
	if (action == VM_SHUTDOWN_QUIT) {
		if (guest && vm->ended == VM_ENDED_NONE)
			vm->ended = VM_ENDED_SHUTDOWN;
		quit_qemu(vm);
		return;
	}
	/*
	 * The reboot: QEMU paused in "shutdown"; reset, and once QEMU says the reset
	 * is done (its RESET event: a cont before it is refused), run again.
	 */
	vm->reboot_pending = false;
	vm->rebooting = true;
	vm->timer = sd_event_source_disable_unref(vm->timer); /* the reboot's time limit */
	if (qmp_execute(vm->qmp, "system_reset", NULL, ignore_reply, vm) < 0) {
		vm->rebooting = false;
		quit_qemu(vm);
		return;
	}
	shutdown_is_poweroff(vm); /* exit at the next power-off */
}

void vm_on_reset(Vm *vm)
{
	if (!vm->rebooting || vm->stop_requested)
		return;
	if (qmp_execute(vm->qmp, "cont", NULL, on_reboot_cont, vm) < 0) {
		vm->rebooting = false;
		quit_qemu(vm);
	}
}
