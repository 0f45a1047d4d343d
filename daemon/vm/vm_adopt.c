/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * After a daemon restart, one VM from its runtime record: taken back when its
 * QEMU still runs (pid and start time, QMP reconnected), cleaned up after
 * when it does not.
 */
#include "vm/vm_adopt.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>

#include "base/log.h"
#include "json_util.h"
#include "process/process_stat.h"
#include "vm/vm_display.h"
#include "vm/vm_helpers.h"
#include "vm/vm_qemu_user.h"
#include "vm/vm_start.h"
#include "vm/vm_store.h"

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
	if (strcmp(status, "shutdown") == 0) {
		/* Its guest powered off after a reboot was asked, while no daemon ran. */
		vm_log(vm, LOG_NOTICE, 0, "VM %s: its guest shut down; quitting QEMU", vm->name);
		vm->guest_shutdown = true;
		vm->stop_requested = true;
		vm_stop_qemu(vm, true, false, 0);
		return;
	}
	if (strcmp(status, "prelaunch") != 0)
		vm_display_open(vm); /* the guest runs, or ran: its screen is there */
	if (strcmp(status, "paused") == 0)
		vm_set_state(vm, VM_STATE_PAUSED);
	else if (strcmp(status, "prelaunch") == 0) {
		/*
		 * The previous daemon died between spawning QEMU and its cont: the
		 * guest never ran, and where its vCPUs should run was that start's
		 * to decide. The start is failed here as it would have been, so QEMU
		 * is killed and everything it held given back.
		 */
		vm_start_cut_short(vm, "Its start was cut short: libvfiod stopped before the guest "
				       "ran. Start it again.");
	}
}

static void ignore_reply(Qmp *qmp, json_object *result, const char *error_class,
			 const char *description, void *userdata)
{
	(void)qmp;
	(void)result;
	(void)error_class;
	(void)description;
	(void)userdata;
}

static void on_adopted_qmp_ready(Vm *vm)
{
	/*
	 * A reboot the previous daemon asked for may have told QEMU to pause at a
	 * shutdown: nobody here would reset it, so a power-off ends QEMU again.
	 */
	json_object *arguments = json_object_new_object();
	if (arguments && json_add_string(arguments, "shutdown", "poweroff") >= 0)
		(void)qmp_execute(vm->qmp, "set-action", TAKE_PTR(arguments), ignore_reply, vm);
	json_object_put(arguments);
	(void)qmp_execute(vm->qmp, "query-status", NULL, on_status, vm);
}

/*
 * swtpm and the audio relay of a VM whose QEMU is gone: they end with QEMU's
 * connection, but one that never came (the daemon died first) leaves them
 * waiting. They run as QEMU's user and as the VM's owner.
 */
static void end_stray_helpers(Vm *vm)
{
	uid_t uids[2];
	gid_t gid;
	size_t n = 0;
	if (user_ids_lookup(vm->manager->config->qemu_user, &uids[n], &gid) >= 0)
		n++;
	if (user_ids_lookup(vm->owner, &uids[n], &gid) >= 0)
		n++;
	if (n > 0)
		(void)vm_helpers_end_strays(vm->name, uids, n);
}

int vm_adopt(Vm *vm, VmRuntime *runtime)
{
	VmManager *m = vm->manager;
	uint64_t start_time = 0;
	int r;

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
	vm->hugepages = runtime->hugepages;
	vm->started_at_usec = runtime->started_at_usec;

	bool alive = process_start_time(runtime->pid, &start_time) >= 0 &&
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
		end_stray_helpers(vm);
		vm->state = VM_STATE_STOPPING;
		vm->releasing = true;
		vm->end_state = started ? VM_STATE_CRASHED : VM_STATE_FAILED;
		vm_release_next(vm);
		return 0;
	}
	vm->pid = runtime->pid;
	vm->pidfd = pidfd;
	vm->start_time = start_time;
	vm->own_child = false;
	vm->state = VM_STATE_RUNNING;
	/* Not our child: the daemon before this one started it. */
	char description[96];
	snprintf(description, sizeof(description), "QEMU of VM %s (adopted)", vm->name);
	r = child_watch(m->event, &vm->exit_source, pidfd, false, description, vm_on_qemu_exit, vm);
	if (r < 0)
		return r;
	r = vm_connect_qmp(vm);
	if (r < 0) {
		char path[4200];
		vm_qmp_path(vm, path, sizeof(path));
		vm_log(vm, LOG_WARNING, r, "VM %s: cannot connect to QMP at %s", vm->name, path);
	} else
		on_adopted_qmp_ready(vm);
	vm_log(vm, LOG_INFO, 0, "VM %s re-adopted (pid %d)", vm->name, (int)vm->pid);
	return 0;
}
