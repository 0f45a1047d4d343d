/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host/sysfs_plan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct PlanRun {
	SysfsWriter *writer;
	SysfsRoot root;
	SysfsPlan plan;
	size_t next;
	uint64_t timeout_usec;
	SysfsPlanCallback callback;
	SysfsPlanStuckCallback stuck;
	void *userdata;
} PlanRun;

int sysfs_plan_add(SysfsPlan *plan, const char *value, const char *path_format, ...)
{
	if (plan->n_writes >= SYSFS_PLAN_MAX)
		return -E2BIG;
	SysfsPlanWrite *w = &plan->writes[plan->n_writes];
	va_list ap;
	va_start(ap, path_format);
	int n = vsnprintf(w->path, sizeof(w->path), path_format, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(w->path) || strlen(value) >= sizeof(w->value))
		return -ENAMETOOLONG;
	strcpy(w->value, value);
	plan->n_writes++;
	return 0;
}

static void run_free(PlanRun *run)
{
	sysfs_root_done(&run->root);
	free(run);
}

static void on_written(int result, void *userdata);
static void on_late(int result, void *userdata);

static int start_next(PlanRun *run)
{
	const SysfsPlanWrite *w = &run->plan.writes[run->next];
	return sysfs_write_async(run->writer, &run->root, w->path, w->value, run->timeout_usec,
				 on_written, on_late, run);
}

static void finish(PlanRun *run, int result, size_t failed)
{
	run->callback(result, failed, run->userdata);
	run_free(run);
}

/* The stuck write ended: the plan ends here, as a timeout, whatever the write's result. */
static void on_late(int result, void *userdata)
{
	PlanRun *run = userdata;
	finish(run, result == -ECANCELED ? result : -ETIMEDOUT, run->next);
}

static void on_written(int result, void *userdata)
{
	PlanRun *run = userdata;
	size_t done = run->next;

	if (result == -ETIMEDOUT) {
		/* Not over: on_late() ends the plan when the write does. */
		if (run->stuck)
			run->stuck(done, run->userdata);
		return;
	}
	if (result < 0) {
		finish(run, result, done);
		return;
	}
	run->next++;
	if (run->next == run->plan.n_writes) {
		finish(run, 0, 0);
		return;
	}
	int r = start_next(run);
	if (r < 0)
		finish(run, r, run->next);
}

int sysfs_plan_run(SysfsWriter *writer, const SysfsRoot *root, const SysfsPlan *plan,
		   uint64_t timeout_usec, SysfsPlanCallback callback, SysfsPlanStuckCallback stuck,
		   void *userdata)
{
	if (plan->n_writes == 0)
		return -EINVAL;
	PlanRun *run = calloc(1, sizeof(*run));
	if (!run)
		return -ENOMEM;
	*run = (PlanRun){ .writer = writer,
			  .plan = *plan,
			  .timeout_usec = timeout_usec,
			  .callback = callback,
			  .stuck = stuck,
			  .userdata = userdata };
	int r = sysfs_root_init(&run->root, root->path[0] ? root->path : "/");
	if (r >= 0)
		r = start_next(run);
	if (r < 0)
		run_free(run);
	return r;
}
