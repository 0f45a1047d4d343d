/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of daemon/process/child_watch.c: our own child's end comes with its
 * status and the child is reaped; a process watched as not ours (as a QEMU
 * re-adopted after a restart is) is seen to end, its status unknown.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "process/child_watch.h"
#include "process/process_spawn.h"

static void on_exit_noted(const ChildExit *exit, void *userdata)
{
	ChildExit *seen = userdata;
	*seen = *exit;
	seen->code = exit->known ? exit->code : -1;
}

/* Spawns `sh -c SCRIPT`, watches it (`own` or not), runs the loop until it ended. */
static ChildExit watch(const char *script, bool own, pid_t *ret_pid)
{
	char *const argv[] = { (char *)"/bin/sh", (char *)"-c", (char *)script, NULL };
	char *const envp[] = { NULL };
	SpawnRequest request = { .argv = argv, .envp = envp, .stdout_fd = -1, .stderr_fd = -1 };
	sd_event *event = NULL;
	sd_event_source *source = NULL;
	ChildExit seen = { .code = 0 };
	const char *stage;
	pid_t pid;
	int pidfd;

	assert_int_equal(sd_event_new(&event), 0);
	assert_int_equal(process_spawn(&request, &pid, &pidfd, &stage), 0);
	assert_int_equal(
		child_watch(event, &source, pidfd, own, "test child", on_exit_noted, &seen), 0);
	for (int i = 0; i < 100 && seen.code == 0; i++)
		assert_true(sd_event_run(event, 100 * 1000) >= 0);
	sd_event_source_disable_unref(source);
	sd_event_unref(event);
	close(pidfd);
	*ret_pid = pid;
	return seen;
}

static void test_own_child_status_and_reaped(void **state)
{
	(void)state;
	pid_t pid;
	sigset_t mask;

	/* sd-event watches children with SIGCHLD blocked, as the daemon runs */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	assert_int_equal(sigprocmask(SIG_BLOCK, &mask, NULL), 0);
	ChildExit seen = watch("exit 3", true, &pid);
	assert_true(seen.known);
	assert_int_equal(seen.code, CLD_EXITED);
	assert_int_equal(seen.status, 3);
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1); /* already reaped */
	assert_int_equal(errno, ECHILD);

	seen = watch("kill -9 $$", true, &pid);
	assert_int_equal(seen.code, CLD_KILLED);
	assert_int_equal(seen.status, SIGKILL);
}

static void test_not_our_child(void **state)
{
	(void)state;
	pid_t pid;

	ChildExit seen = watch("exit 5", false, &pid);
	assert_false(seen.known);
	assert_int_equal(seen.code, -1);
	assert_int_equal(waitpid(pid, NULL, 0), pid); /* left to its parent (here, us) */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_child_status_and_reaped),
		cmocka_unit_test(test_not_our_child),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
