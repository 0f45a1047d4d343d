/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of daemon/process_spawn.c with real programs: the child gets exactly
 * the environment given, only the fds asked for, a session of its own, the
 * user it is dropped to; an exec that fails is reported with its errno. A
 * held child waits before exec until it is released, and exits when given up.
 * A process's start time tells it from one started later.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "process/process_spawn.h"
#include "process/process_stat.h"

static char *const environment[] = { (char *)"PATH=/usr/bin:/bin", (char *)"ONLY=this", NULL };

/*
 * Runs `request` (argv and what the test is about) with the environment above,
 * its output into a pipe, and nobody as the user to drop to; returns the output
 * and the exit status.
 */
static char *run(SpawnRequest request, int *ret_status)
{
	int out[2];
	pid_t pid;
	int pidfd;
	const char *stage;
	siginfo_t info = { 0 };
	static char buffer[8192];

	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	request.envp = environment;
	request.stdout_fd = request.stderr_fd = out[1];
	request.uid = request.gid = 65534;
	assert_int_equal(process_spawn(&request, &pid, &pidfd, &stage), 0);
	close(out[1]);
	size_t n = 0;
	for (ssize_t k; (k = read(out[0], buffer + n, sizeof(buffer) - 1 - n)) > 0;)
		n += (size_t)k;
	buffer[n] = '\0';
	close(out[0]);
	assert_int_equal(waitid(P_PIDFD, (id_t)pidfd, &info, WEXITED), 0);
	close(pidfd);
	*ret_status = info.si_status;
	return buffer;
}

static void test_environment_is_exactly_the_given_one(void **state)
{
	(void)state;
	int status;
	char *const argv[] = { (char *)"/usr/bin/env", NULL };
	setenv("SECRET_OF_THE_DAEMON", "leak", 1);
	char *output = run((SpawnRequest){ .argv = argv }, &status);
	assert_int_equal(status, 0);
	assert_string_equal(output, "PATH=/usr/bin:/bin\nONLY=this\n");
}

static void test_only_passed_fds_are_open(void **state)
{
	(void)state;
	int status;
	/* Not close-on-exec, to prove that only what is passed survives. */
	int stray = open("/dev/null", O_RDONLY);
	int passed = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	assert_true(stray >= 0 && passed >= 0);
	char *const argv[] = { (char *)"/usr/bin/ls", (char *)"/proc/self/fd", NULL };
	char *output =
		run((SpawnRequest){ .argv = argv, .pass_fds = &passed, .n_pass_fds = 1 }, &status);
	assert_int_equal(status, 0);
	/* 0, 1, 2, the passed one as 3, and ls's own directory fd */
	assert_string_equal(output, "0\n1\n2\n3\n4\n");
	close(stray);
	close(passed);
}

static void test_new_session_and_dropped_user(void **state)
{
	(void)state;
	int status;
	char *const argv[] = { (char *)"/usr/bin/cat", (char *)"/proc/self/stat",
			       (char *)"/proc/self/status", NULL };
	char *output =
		run((SpawnRequest){ .argv = argv, .drop_privileges = geteuid() == 0 }, &status);
	assert_int_equal(status, 0);
	int pid = 0, session = 0;
	/* pid (comm) state ppid pgrp session */
	assert_int_equal(sscanf(output, "%d (cat) %*c %*d %*d %d", &pid, &session), 2);
	assert_int_equal(pid, session);
	if (geteuid() == 0) {
		assert_non_null(strstr(output, "Uid:\t65534\t65534\t65534\t65534"));
		const char *groups = strstr(output, "Groups:");
		assert_non_null(groups); /* no supplementary groups: only blanks follow */
		groups += strlen("Groups:");
		assert_int_equal(groups[strspn(groups, "\t ")], '\n');
	}
}

/* The CPU affinity asked for (the NUMA node's CPUs) is the child's from its first instruction. */
static void test_affinity(void **state)
{
	(void)state;
	int status;
	cpu_set_t one;
	char *const argv[] = { (char *)"/usr/bin/cat", (char *)"/proc/self/status", NULL };

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	char *output = run((SpawnRequest){ .argv = argv, .affinity = &one }, &status);
	assert_int_equal(status, 0);
	assert_non_null(strstr(output, "Cpus_allowed_list:\t0\n"));
}

/* Whether this process may raise a hard limit: CAP_SYS_RESOURCE (some sandboxes lack it). */
static bool may_raise_limits(void)
{
	char line[4096];
	unsigned long long effective = 0;
	FILE *f = fopen("/proc/self/status", "re");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &effective) == 1)
			break;
	fclose(f);
	return effective & (1ULL << 24);
}

static const char *memlock_line(const char *limits)
{
	const char *line = strstr(limits, "Max locked memory");
	assert_non_null(line);
	return line;
}

/*
 * VFIO pins all guest RAM against QEMU's RLIMIT_MEMLOCK: the limit asked for
 * is the child's, after dropping to another user, and above the parent's own
 * where the parent may raise it (CAP_SYS_RESOURCE, which some sandboxes lack).
 */
static void test_memlock_limit(void **state)
{
	(void)state;
	int status;
	struct rlimit own;
	char *const argv[] = { (char *)"/usr/bin/cat", (char *)"/proc/self/limits", NULL };
	char expected[128];

	assert_int_equal(getrlimit(RLIMIT_MEMLOCK, &own), 0);
	if (own.rlim_max != RLIM_INFINITY && own.rlim_max > (1 << 20)) {
		/* Below the hard limit, anyone may set it. */
		char *output = run((SpawnRequest){ .argv = argv,
						   .drop_privileges = geteuid() == 0,
						   .memlock_limit = 1 << 20 },
				   &status);
		assert_int_equal(status, 0);
		assert_true(strncmp(memlock_line(output),
				    "Max locked memory         1048576              1048576 ",
				    53) == 0);
	}
	if (may_raise_limits()) {
		struct rlimit low = { .rlim_cur = 8 << 20, .rlim_max = 8 << 20 };
		assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &low), 0); /* systemd's default */
		char *output = run((SpawnRequest){ .argv = argv,
						   .drop_privileges = geteuid() == 0,
						   .memlock_limit = 3ULL << 30 },
				   &status);
		assert_int_equal(status, 0);
		snprintf(expected, sizeof(expected), "Max locked memory         %-20s %-20s ",
			 "3221225472", "3221225472");
		assert_true(strncmp(memlock_line(output), expected, strlen(expected)) == 0);
		assert_int_equal(setrlimit(RLIMIT_MEMLOCK, &own), 0);
	} else if (own.rlim_max != RLIM_INFINITY) {
		/* Above the hard limit, the child reports the failure, before exec. */
		pid_t pid;
		int pidfd;
		const char *stage;
		SpawnRequest request = { .argv = argv,
					 .envp = environment,
					 .stdout_fd = -1,
					 .stderr_fd = -1,
					 .memlock_limit = own.rlim_max + 4096 };
		assert_int_equal(process_spawn(&request, &pid, &pidfd, &stage), -EPERM);
		assert_string_equal(stage, "memlock");
	}
	/* Not asked for: inherited. */
	char *output = run((SpawnRequest){ .argv = argv }, &status);
	assert_int_equal(status, 0);
	snprintf(expected, sizeof(expected), "Max locked memory         %-20llu %-20llu ",
		 (unsigned long long)own.rlim_cur, (unsigned long long)own.rlim_max);
	if (own.rlim_max != RLIM_INFINITY)
		assert_true(strncmp(memlock_line(output), expected, strlen(expected)) == 0);
}

/* Nothing blocked or ignored in the daemon (it blocks SIGTERM, SIGCHLD...) reaches QEMU. */
static void test_signals_start_afresh(void **state)
{
	(void)state;
	int status;
	sigset_t block, old;
	struct sigaction ignore = { .sa_handler = SIG_IGN }, old_action;
	char *const argv[] = { (char *)"/usr/bin/cat", (char *)"/proc/self/status", NULL };

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGCHLD);
	assert_int_equal(sigprocmask(SIG_BLOCK, &block, &old), 0);
	assert_int_equal(sigaction(SIGUSR1, &ignore, &old_action), 0);
	char *output = run((SpawnRequest){ .argv = argv }, &status);
	assert_int_equal(sigaction(SIGUSR1, &old_action, NULL), 0);
	assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);
	assert_int_equal(status, 0);
	assert_non_null(strstr(output, "SigBlk:\t0000000000000000\n"));
	assert_non_null(strstr(output, "SigIgn:\t0000000000000000\n"));
}

/*
 * A program exec'd through a descriptor the daemon opened: the user the child
 * becomes need not reach its path (a build tree in root's 0700 home).
 */
static void test_exec_through_a_descriptor(void **state)
{
	(void)state;
	int status;
	char dir[] = "/tmp/spawn-exec.XXXXXX", program[64];

	if (geteuid() != 0) {
		skip();
		return;
	}
	assert_non_null(mkdtemp(dir)); /* 0700, root's: nobody cannot reach inside */
	snprintf(program, sizeof(program), "%s/id", dir);
	assert_int_equal(link("/usr/bin/id", program) == 0 || symlink("/usr/bin/id", program) == 0,
			 1);
	char *const argv[] = { program, (char *)"-u", NULL };
	int fd = open("/usr/bin/id", O_PATH | O_CLOEXEC);
	assert_true(fd > 0);
	char *output = run((SpawnRequest){ .argv = argv, .exec_fd = fd, .drop_privileges = true },
			   &status);
	assert_int_equal(status, 0);
	assert_string_equal(output, "65534\n");
	/* by its path, as nobody, it cannot be reached */
	pid_t pid;
	int pidfd;
	const char *stage;
	SpawnRequest by_path = { .argv = argv,
				 .envp = environment,
				 .stdout_fd = -1,
				 .stderr_fd = -1,
				 .drop_privileges = true,
				 .uid = 65534,
				 .gid = 65534 };
	assert_int_equal(process_spawn(&by_path, &pid, &pidfd, &stage), -EACCES);
	assert_string_equal(stage, "exec");
	close(fd);
	unlink(program);
	rmdir(dir);
}

static void test_exec_failure_is_reported(void **state)
{
	(void)state;
	pid_t pid;
	int pidfd;
	const char *stage;
	char *const missing[] = { (char *)"/nonexistent/qemu", NULL };
	char *const relative[] = { (char *)"qemu", NULL };
	SpawnRequest request = {
		.argv = missing, .envp = environment, .stdout_fd = -1, .stderr_fd = -1
	};

	assert_int_equal(process_spawn(&request, &pid, &pidfd, &stage), -ENOENT);
	assert_string_equal(stage, "exec");
	request.argv = relative;
	assert_int_equal(process_spawn(&request, &pid, &pidfd, &stage), -EINVAL);
	/* no child is left behind */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

/* Reads what is there now, without waiting. */
static char *read_available(int fd)
{
	static char buffer[4096];
	int flags = fcntl(fd, F_GETFL);
	assert_int_equal(fcntl(fd, F_SETFL, flags | O_NONBLOCK), 0);
	ssize_t n = read(fd, buffer, sizeof(buffer) - 1);
	buffer[n > 0 ? n : 0] = '\0';
	assert_int_equal(fcntl(fd, F_SETFL, flags), 0);
	return buffer;
}

/* The whole output of a child that has exec'd, and its exit status. */
static int finish(int out, int pidfd, char *output, size_t size)
{
	siginfo_t info = { 0 };
	size_t n = 0;
	for (ssize_t k; n < size - 1 && (k = read(out, output + n, size - 1 - n)) > 0;)
		n += (size_t)k;
	output[n] = '\0';
	assert_int_equal(waitid(P_PIDFD, (id_t)pidfd, &info, WEXITED), 0);
	close(pidfd);
	return info.si_code == CLD_EXITED ? info.si_status : 128 + info.si_status;
}

static void test_held_child_execs_only_when_released(void **state)
{
	(void)state;
	int out[2], pidfd;
	pid_t pid;
	const char *stage;
	SpawnHold hold;
	char output[4096], path[64], exe[4096], self[4096];
	char *const argv[] = { (char *)"/usr/bin/ls", (char *)"/proc/self/fd", NULL };

	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	SpawnRequest request = {
		.argv = argv, .envp = environment, .stdout_fd = out[1], .stderr_fd = out[1]
	};
	assert_int_equal(process_spawn_held(&request, &pid, &pidfd, &hold, &stage), 0);
	close(out[1]);
	/* Held: still this program, nothing written, however long we wait. */
	usleep(100 * 1000);
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	ssize_t n = readlink(path, exe, sizeof(exe) - 1);
	ssize_t m = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0 && m > 0);
	exe[n] = self[m] = '\0';
	assert_string_equal(exe, self);
	assert_string_equal(read_available(out[0]), "");

	assert_int_equal(process_release(&hold, &stage), 0);
	assert_int_equal(hold.release_fd, -1);
	assert_int_equal(finish(out[0], pidfd, output, sizeof(output)), 0);
	/* The hold's descriptors are not inherited: only 0, 1, 2 and ls's own. */
	assert_string_equal(output, "0\n1\n2\n3\n");
	close(out[0]);
}

static void test_held_child_given_up_exits(void **state)
{
	(void)state;
	int out[2], pidfd;
	pid_t pid;
	const char *stage;
	SpawnHold hold;
	char output[256];
	char *const argv[] = { (char *)"/usr/bin/echo", (char *)"ran", NULL };

	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	SpawnRequest request = {
		.argv = argv, .envp = environment, .stdout_fd = out[1], .stderr_fd = out[1]
	};
	assert_int_equal(process_spawn_held(&request, &pid, &pidfd, &hold, &stage), 0);
	close(out[1]);
	spawn_hold_done(&hold);
	spawn_hold_done(&hold); /* a done one is accepted */
	assert_int_equal(finish(out[0], pidfd, output, sizeof(output)), 127);
	assert_string_equal(output, "");
	close(out[0]);
}

static void test_held_child_failure_is_reported_at_release(void **state)
{
	(void)state;
	int pidfd;
	pid_t pid;
	const char *stage;
	SpawnHold hold;
	char output[16];
	char *const missing[] = { (char *)"/nonexistent/qemu", NULL };
	SpawnRequest request = {
		.argv = missing, .envp = environment, .stdout_fd = -1, .stderr_fd = -1
	};

	assert_int_equal(process_spawn_held(&request, &pid, &pidfd, &hold, &stage), 0);
	assert_int_equal(process_release(&hold, &stage), -ENOENT);
	assert_string_equal(stage, "exec");
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_int_equal(finish(devnull, pidfd, output, sizeof(output)), 127);
	close(devnull);

	/* A setup step that fails before the hold: reported at release, too. */
	char *const argv[] = { (char *)"/usr/bin/true", NULL };
	int fds[65];
	for (size_t i = 0; i < 65; i++)
		fds[i] = 0;
	request = (SpawnRequest){ .argv = argv,
				  .envp = environment,
				  .stdout_fd = -1,
				  .stderr_fd = -1,
				  .pass_fds = fds,
				  .n_pass_fds = 65 };
	assert_int_equal(process_spawn_held(&request, &pid, &pidfd, &hold, &stage), 0);
	assert_int_equal(process_release(&hold, &stage), -E2BIG);
	assert_string_equal(stage, "fds");
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_int_equal(finish(devnull, pidfd, output, sizeof(output)), 127);
	close(devnull);
}

static void test_process_start_time(void **state)
{
	(void)state;
	uint64_t t = 0, child_t = 0;
	assert_int_equal(process_start_time(getpid(), &t), 0);
	assert_true(t > 0);
	/* A child started later, from a name with spaces and parentheses. */
	int pidfd;
	pid_t pid;
	const char *stage;
	char *const argv[] = { (char *)"/usr/bin/sleep", (char *)"10", NULL };
	SpawnRequest request = {
		.argv = argv, .envp = environment, .stdout_fd = -1, .stderr_fd = -1
	};
	usleep(20 * 1000); /* two clock ticks */
	assert_int_equal(process_spawn(&request, &pid, &pidfd, &stage), 0);
	assert_int_equal(process_start_time(pid, &child_t), 0);
	assert_true(child_t > t);
	siginfo_t info;
	assert_int_equal(pidfd_send_signal(pidfd, SIGKILL, NULL, 0), 0);
	assert_int_equal(waitid(P_PIDFD, (id_t)pidfd, &info, WEXITED), 0);
	close(pidfd);
	assert_int_equal(process_start_time(pid, &child_t), -ESRCH);
	assert_int_equal(process_start_time(0x3fffffff, &t), -ESRCH);

	/* A command name may hold spaces and ") (": fields count from the last ')'. */
	assert_int_equal(process_stat_start_time("77 (qemu ) (x y) S 1 77 77 0 -1 4194560 100 0 0 "
						 "0 5 3 0 0 20 0 3 0 424242 1000 100\n",
						 &t),
			 0);
	assert_int_equal(t, 424242);
	assert_int_equal(process_stat_start_time("77 (qemu) S 1 77 77 0 -1 4194560 100 0 0 0 5 3 "
						 "0 0 20 0 3 0",
						 &t),
			 -EBADMSG);
	assert_int_equal(process_stat_start_time("77 qemu S 1", &t), -EBADMSG);
	assert_int_equal(process_stat_start_time("77 (a) S 1 77 77 0 -1 4 1 0 0 0 5 3 0 0 20 0 3 "
						 "0 12x 1\n",
						 &t),
			 -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_environment_is_exactly_the_given_one),
		cmocka_unit_test(test_only_passed_fds_are_open),
		cmocka_unit_test(test_new_session_and_dropped_user),
		cmocka_unit_test(test_affinity),
		cmocka_unit_test(test_memlock_limit),
		cmocka_unit_test(test_signals_start_afresh),
		cmocka_unit_test(test_exec_through_a_descriptor),
		cmocka_unit_test(test_exec_failure_is_reported),
		cmocka_unit_test(test_held_child_execs_only_when_released),
		cmocka_unit_test(test_held_child_given_up_exits),
		cmocka_unit_test(test_held_child_failure_is_reported_at_release),
		cmocka_unit_test(test_process_start_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
