/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Starting a program the way a daemon must: fork and exec with a pidfd kept
 * for the parent, and in the child a new session, default signal handling
 * and an empty signal mask, only the fds asked for (stdin from /dev/null),
 * a fixed environment, an optional CPU affinity, an optional locked-memory
 * limit, and privileges dropped to the given user before exec. A failure in the child before exec
 * reaches the parent as an errno through a close-on-exec pipe, so the caller learns "no such
 * binary" or "cannot become that user" at once.
 */
#pragma once

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Where the first of `pass_fds` lands in the child (after stdin, stdout, stderr). */
#define SPAWN_FIRST_PASSED_FD 3

typedef struct SpawnRequest {
	char *const *argv; /* argv[0] is an absolute path */
	/*
	 * > 0: exec this open file (O_PATH is enough) instead of argv[0]'s path:
	 * for a program the user the child becomes could not reach by path (a
	 * build tree in root's home).
	 */
	int exec_fd;
	char *const *envp; /* the whole environment */
	int stdout_fd, stderr_fd; /* -1: /dev/null */
	const int *pass_fds; /* become fds SPAWN_FIRST_PASSED_FD, +1, ... in the child */
	size_t n_pass_fds;
	bool drop_privileges; /* to uid/gid, with no supplementary groups */
	uid_t uid;
	gid_t gid;
	const cpu_set_t *affinity; /* NULL: inherited */
	/*
	 * > 0: RLIMIT_MEMLOCK (soft and hard) in bytes, set while still root, so
	 * that it can exceed the parent's own limit (CAP_SYS_RESOURCE). 0: inherited.
	 */
	uint64_t memlock_limit;
} SpawnRequest;

/* A child held before exec, and the means to let it go on. */
typedef struct SpawnHold {
	int release_fd; /* a byte here: exec; closed: the child exits */
	int report_fd; /* EOF at exec, or the child's failure */
} SpawnHold;

/*
 * Runs `request`. Returns 0 with the child's pid and a pidfd (close-on-exec),
 * or a negative errno: from fork, or what the child failed at before exec
 * (then the child has been reaped; *ret_stage names the step, e.g. "exec").
 */
int process_spawn(const SpawnRequest *request, pid_t *ret_pid, int *ret_pidfd,
		  const char **ret_stage);

/*
 * As process_spawn(), but the child stops just before exec, its setup done,
 * until process_release(): the caller can place it first (in a cgroup of its
 * own, so that what the program allocates is charged there). The child's
 * pid and pidfd are returned at once; a failure of its setup is reported by
 * process_release().
 */
int process_spawn_held(const SpawnRequest *request, pid_t *ret_pid, int *ret_pidfd,
		       SpawnHold *ret_hold, const char **ret_stage);

/*
 * Lets a held child exec and waits until it has (or has failed: its errno,
 * *ret_stage naming the step; the caller then kills and reaps it through its
 * pidfd). Takes the hold's descriptors either way.
 */
int process_release(SpawnHold *hold, const char **ret_stage);

/*
 * process_release() in two halves, for a caller that must not wait (the event
 * loop): process_let_go() lets the held child exec and returns at once;
 * hold->report_fd becomes readable when the child has exec'd or failed, and
 * then process_exec_result() says which (as process_release() does) and takes
 * the hold's descriptors. The child's exec takes milliseconds, tens of them on
 * a busy machine: a wait the loop must not make.
 */
void process_let_go(SpawnHold *hold);
int process_exec_result(SpawnHold *hold, const char **ret_stage);

/* Gives up a hold: the child exits without exec (the caller reaps it). Accepts a done one. */
void spawn_hold_done(SpawnHold *hold);
