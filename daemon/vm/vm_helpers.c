/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The processes a VM's QEMU needs beside it (swtpm, the audio relay): each is
 * watched through its pidfd and reaped when it ends, asked to end with the
 * VM, and killed at once when a start gives up on it.
 */
#include "vm/vm_internal.h"

#include <signal.h>
#include <sys/pidfd.h>
#include <sys/wait.h>

#include "base/log.h"

static const char *const helper_names[_VM_HELPER_MAX] = {
	[VM_HELPER_TPM] = "swtpm",
	[VM_HELPER_AUDIO] = "the audio relay",
};

static void forget(VmHelper *helper)
{
	helper->exit_source = sd_event_source_disable_unref(helper->exit_source);
	helper->pidfd = safe_close(helper->pidfd);
}

static int on_helper_exit(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	VmHelper *helper = userdata;
	siginfo_t info = { 0 };
	(void)source;
	(void)revents;
	(void)waitid(P_PIDFD, (id_t)fd, &info, WEXITED);
	forget(helper);
	return 0;
}

void vm_helper_kill_now(Vm *vm, VmHelperKind kind)
{
	VmHelper *helper = &vm->helpers[kind];
	siginfo_t info;

	if (helper->pidfd < 0)
		return;
	(void)pidfd_send_signal(helper->pidfd, SIGKILL, NULL, 0);
	(void)waitid(P_PIDFD, (id_t)helper->pidfd, &info, WEXITED); /* dies in microseconds */
	forget(helper);
}

int vm_helper_watch(Vm *vm, VmHelperKind kind, int pidfd)
{
	VmHelper *helper = &vm->helpers[kind];

	vm_helper_kill_now(vm, kind); /* one left by an earlier start, still ending */
	helper->pidfd = pidfd;
	int r = sd_event_add_io(vm->manager->event, &helper->exit_source, pidfd, EPOLLIN,
				on_helper_exit, helper);
	if (r < 0) {
		vm_helper_kill_now(vm, kind);
		return r;
	}
	vm_log(vm, LOG_DEBUG, 0, "VM %s: %s runs", vm->name, helper_names[kind]);
	return 0;
}

void vm_helpers_stop(Vm *vm)
{
	for (size_t i = 0; i < _VM_HELPER_MAX; i++)
		if (vm->helpers[i].pidfd >= 0)
			(void)pidfd_send_signal(vm->helpers[i].pidfd, SIGTERM, NULL, 0);
}

void vm_helpers_forget(Vm *vm)
{
	for (size_t i = 0; i < _VM_HELPER_MAX; i++)
		forget(&vm->helpers[i]);
}
