/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The processes a VM's QEMU needs beside it (swtpm, the audio relay): each is
 * watched through its pidfd and reaped when it ends, asked to end with the
 * VM, and killed at once when a start gives up on it.
 */
#include "vm/vm_helpers.h"

#include <signal.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "macro.h"
#include "process/child_watch.h"

static const char *const helper_names[_VM_HELPER_MAX] = {
	[VM_HELPER_TPM] = "swtpm",
	[VM_HELPER_AUDIO] = "the audio relay",
};

static void forget(VmHelper *helper)
{
	helper->exit_source = sd_event_source_disable_unref(helper->exit_source);
	helper->pidfd = safe_close(helper->pidfd);
	helper->pid = 0;
}

static void on_helper_exit(const ChildExit *exit, void *userdata)
{
	(void)exit;
	forget(userdata);
}

void vm_helper_kill_now(VmHelper helpers[_VM_HELPER_MAX], VmHelperKind kind)
{
	VmHelper *helper = &helpers[kind];
	siginfo_t info;

	if (helper->pidfd < 0)
		return;
	(void)pidfd_send_signal(helper->pidfd, SIGKILL, NULL, 0);
	(void)waitid(P_PIDFD, (id_t)helper->pidfd, &info, WEXITED); /* dies in microseconds */
	forget(helper);
}

int vm_helper_watch(VmHelper helpers[_VM_HELPER_MAX], VmHelperKind kind, sd_event *event,
		    const char *vm_name, pid_t pid, int pidfd)
{
	VmHelper *helper = &helpers[kind];

	vm_helper_kill_now(helpers, kind); /* one left by an earlier start, still ending */
	helper->pid = pid;
	helper->pidfd = pidfd;
	int r = child_watch(event, &helper->exit_source, pidfd, true, on_helper_exit, helper);
	if (r < 0) {
		vm_helper_kill_now(helpers, kind);
		return r;
	}
	LogField fields[] = { { "LIBVFIO_VM", vm_name } };
	log_full_errno_fields(LOG_DEBUG, 0, fields, 1, "VM %s: %s runs", vm_name,
			      helper_names[kind]);
	return 0;
}

void vm_helpers_stop(VmHelper helpers[_VM_HELPER_MAX])
{
	for (size_t i = 0; i < _VM_HELPER_MAX; i++)
		if (helpers[i].pidfd >= 0)
			(void)pidfd_send_signal(helpers[i].pidfd, SIGTERM, NULL, 0);
}

void vm_helpers_forget(VmHelper helpers[_VM_HELPER_MAX])
{
	for (size_t i = 0; i < _VM_HELPER_MAX; i++)
		forget(&helpers[i]);
}
