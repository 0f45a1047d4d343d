/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of daemon/process/child_watch.c: our own child's end comes with its
 * status and the child is reaped, by a worker and never by the loop's thread;
 * a process watched as not ours (as a QEMU re-adopted after a restart is) is
 * seen to end, its status unknown.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/worker.h"
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

/* Whether `pid` has been reaped within 5 s (looked at without reaping it ourselves). */
static bool reaped_within_5s(pid_t pid)
{
	for (int i = 0; i < 500; i++) {
		siginfo_t info;
		if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0 &&
		    errno == ECHILD)
			return true;
		(void)nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
	return false;
}

/* A child killed and handed to child_reap_later(), its pidfd closed at once: its pid. */
static pid_t kill_and_reap_later(void)
{
	char *const argv[] = { (char *)"/bin/sleep", (char *)"100", NULL };
	char *const envp[] = { NULL };
	SpawnRequest request = { .argv = argv, .envp = envp, .stdout_fd = -1, .stderr_fd = -1 };
	const char *stage;
	pid_t pid;
	int pidfd;

	if (process_spawn(&request, &pid, &pidfd, &stage) < 0)
		return -1;
	(void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	child_reap_later(pidfd);
	close(pidfd);
	return pid;
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
	assert_true(reaped_within_5s(pid));

	seen = watch("kill -9 $$", true, &pid);
	assert_int_equal(seen.code, CLD_KILLED);
	assert_int_equal(seen.status, SIGKILL);
	assert_true(reaped_within_5s(pid));

	/* One killed and not watched (a helper a start gives up on) */
	pid = kill_and_reap_later();
	assert_true(pid > 0);
	assert_true(reaped_within_5s(pid));
}

/* The low 32 bits of a system call's argument in seccomp's view of it. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG_LOW(n) (offsetof(struct seccomp_data, args) + (n) * sizeof(uint64_t))
#else
#define ARG_LOW(n) (offsetof(struct seccomp_data, args) + (n) * sizeof(uint64_t) + 4)
#endif

/*
 * This thread (only: no SECCOMP_FILTER_FLAG_TSYNC) may look at a child's end
 * (waitid with WNOWAIT) but not reap one: waitid without it, and wait4, fail
 * with EPERM.
 */
static void forbid_reaping_here(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_wait4, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_waitid, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(3)),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, WNOWAIT, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog program = { .len = sizeof(filter) / sizeof(filter[0]), .filter = filter };
	assert_int_equal(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	assert_int_equal(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program), 0);
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

/*
 * The loop's thread never reaps: the kernel's work at a reap (its /proc
 * entries dropped, waiting for the child's last thread to drop its own) is
 * not the loop's to wait for. In a process of its own (this program again: a
 * fork would share this one's worker threads), whose loop thread is
 * forbidden to reap: the child is still reaped, its status still told.
 * So is one killed and handed to child_reap_later(). Exit status: 0, or 3
 * (wrong status), 4 (never reaped) or 5 (the killed one never reaped).
 */
#define REAP_OFF_THE_LOOP "reap-off-the-loop"

static int reap_off_the_loop(void)
{
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	/* Threads made after the filter would inherit it: the workers come first. */
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 || worker_pool_prepare(2) < 0)
		return 2;
	forbid_reaping_here();
	pid_t pid;
	ChildExit seen = watch("exit 7", true, &pid);
	if (!seen.known || seen.code != CLD_EXITED || seen.status != 7)
		return 3;
	if (!reaped_within_5s(pid))
		return 4;
	pid = kill_and_reap_later();
	return pid > 0 && reaped_within_5s(pid) ? 0 : 5;
}

static void test_reaped_off_the_loop(void **state)
{
	(void)state;
	pid_t test = fork();
	assert_true(test >= 0);
	if (test == 0) {
		execl("/proc/self/exe", "test-child-watch", REAP_OFF_THE_LOOP, (char *)NULL);
		_exit(127);
	}
	int status;
	assert_int_equal(waitpid(test, &status, 0), test);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(int argc, char **argv)
{
	/*
	 * _exit: no exit handlers, whose waits the filter would refuse (LeakSanitizer's
	 * check waits for the thread it makes, and hangs).
	 */
	if (argc == 2 && strcmp(argv[1], REAP_OFF_THE_LOOP) == 0)
		_exit(reap_off_the_loop());
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_child_status_and_reaped),
		cmocka_unit_test(test_reaped_off_the_loop),
		cmocka_unit_test(test_not_our_child),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
