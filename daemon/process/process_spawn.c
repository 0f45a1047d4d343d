/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "process/process_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"

/* What the child was doing when it failed, for the parent's message. */
static const char *const stages[] = {
	"setsid", "signals", "fds", "affinity", "memlock", "setgroups", "setgid", "setuid", "exec",
};
enum {
	STAGE_SETSID,
	STAGE_SIGNALS,
	STAGE_FDS,
	STAGE_AFFINITY,
	STAGE_MEMLOCK,
	STAGE_SETGROUPS,
	STAGE_SETGID,
	STAGE_SETUID,
	STAGE_EXEC
};

typedef struct ChildFailure {
	int error; /* errno */
	int stage;
} ChildFailure;

_noreturn_ static void child_fail(int report_fd, int stage)
{
	ChildFailure failure = { .error = errno, .stage = stage };
	(void)!write(report_fd, &failure, sizeof(failure));
	_exit(127);
}

/*
 * Puts the fds the child keeps in place: 0 /dev/null, 1 and 2 the output,
 * 3... the passed ones, then the program to exec (when by descriptor) and the
 * report pipe, both close-on-exec; closes everything else. Each goes through
 * a copy above all targets first, so no source is overwritten before it is
 * copied. Only async-signal-safe calls: we are after fork().
 */
static int child_arrange_fds(const SpawnRequest *request, int *report_fd, int *exec_fd)
{
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0)
		return -1;
	int n_kept = SPAWN_FIRST_PASSED_FD + (int)request->n_pass_fds;
	int n_targets = n_kept + (*exec_fd > 0) + 1;
	int sources[SPAWN_FIRST_PASSED_FD + 64 + 2];
	if (request->n_pass_fds > 64)
		return errno = E2BIG, -1;

	sources[0] = null_fd;
	sources[1] = request->stdout_fd >= 0 ? request->stdout_fd : null_fd;
	sources[2] = request->stderr_fd >= 0 ? request->stderr_fd : null_fd;
	for (size_t i = 0; i < request->n_pass_fds; i++)
		sources[SPAWN_FIRST_PASSED_FD + i] = request->pass_fds[i];
	if (*exec_fd > 0)
		sources[n_kept] = *exec_fd;
	sources[n_targets - 1] = *report_fd;

	for (int i = 0; i < n_targets; i++) {
		sources[i] = fcntl(sources[i], F_DUPFD_CLOEXEC, n_targets);
		if (sources[i] < 0)
			return -1;
	}
	for (int i = 0; i < n_kept; i++)
		if (dup2(sources[i], i) < 0) /* the copy loses close-on-exec */
			return -1;
	for (int i = n_kept; i < n_targets; i++)
		if (dup3(sources[i], i, O_CLOEXEC) < 0)
			return -1;
	if (*exec_fd > 0)
		*exec_fd = n_kept;
	*report_fd = n_targets - 1;
	return close_range((unsigned)n_targets, ~0U, 0);
}

_noreturn_ static void child(const SpawnRequest *request, int report_fd)
{
	int exec_fd = request->exec_fd;
	sigset_t none;

	if (setsid() < 0)
		child_fail(report_fd, STAGE_SETSID);
	for (int sig = 1; sig < _NSIG; sig++)
		(void)signal(sig, SIG_DFL); /* SIGKILL, SIGSTOP and glibc's own refuse: fine */
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		child_fail(report_fd, STAGE_SIGNALS);
	if (child_arrange_fds(request, &report_fd, &exec_fd) < 0)
		child_fail(report_fd, STAGE_FDS);
	if (request->affinity && sched_setaffinity(0, sizeof(cpu_set_t), request->affinity) < 0)
		child_fail(report_fd, STAGE_AFFINITY);
	if (request->memlock_limit > 0) {
		struct rlimit limit = { .rlim_cur = request->memlock_limit,
					.rlim_max = request->memlock_limit };
		if (setrlimit(RLIMIT_MEMLOCK, &limit) < 0)
			child_fail(report_fd, STAGE_MEMLOCK);
	}
	if (request->drop_privileges) {
		if (setgroups(0, NULL) < 0)
			child_fail(report_fd, STAGE_SETGROUPS);
		if (setresgid(request->gid, request->gid, request->gid) < 0)
			child_fail(report_fd, STAGE_SETGID);
		if (setresuid(request->uid, request->uid, request->uid) < 0)
			child_fail(report_fd, STAGE_SETUID);
	}
	if (exec_fd > 0)
		execveat(exec_fd, "", request->argv, request->envp, AT_EMPTY_PATH);
	else
		execve(request->argv[0], request->argv, request->envp);
	child_fail(report_fd, STAGE_EXEC);
}

int process_spawn(const SpawnRequest *request, pid_t *ret_pid, int *ret_pidfd,
		  const char **ret_stage)
{
	int report[2];

	*ret_stage = "fork";
	if (!request->argv || !request->argv[0] || request->argv[0][0] != '/')
		return -EINVAL;
	if (pipe2(report, O_CLOEXEC) < 0)
		return negative_errno();
	pid_t pid = fork();
	if (pid < 0) {
		int r = negative_errno();
		close(report[0]);
		close(report[1]);
		return r;
	}
	if (pid == 0) {
		close(report[0]);
		child(request, report[1]);
	}
	close(report[1]);

	/* Before any wait: the pid cannot have been reused yet. */
	int pidfd = pidfd_open(pid, 0);
	int r = pidfd < 0 ? negative_errno() : 0;

	/* EOF: exec happened (the pipe was close-on-exec). A failure report otherwise. */
	ChildFailure failure;
	ssize_t n;
	do
		n = read(report[0], &failure, sizeof(failure));
	while (n < 0 && errno == EINTR);
	close(report[0]);
	if (n == (ssize_t)sizeof(failure)) {
		*ret_stage = failure.stage >= 0 && failure.stage < (int)ELEMENTSOF(stages)
				     ? stages[failure.stage]
				     : "setup";
		r = failure.error > 0 ? -failure.error : -EIO;
	}
	if (r < 0) {
		if (pidfd >= 0)
			close(pidfd);
		else
			(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		return r;
	}
	*ret_pid = pid;
	*ret_pidfd = pidfd;
	*ret_stage = NULL;
	return 0;
}
