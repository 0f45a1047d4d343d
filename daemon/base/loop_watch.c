/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/loop_watch.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "macro.h"

/* A budget past a minute is a typing error, not a budget. */
#define BUDGET_MAX_MS 60000.0

static struct {
	uint64_t budget_usec;
	int schedstat_fd; /* this thread's scheduler statistics, -1 when unknown */
	char source[64];
	char detail[96];
} watch = { .schedstat_fd = -1 };

int loop_watch_setup(void)
{
	const char *value = getenv(LOOP_BUDGET_ENV);
	char *end;

	watch.budget_usec = 0;
	if (!value || !value[0])
		return 0;
	errno = 0;
	double ms = strtod(value, &end);
	if (errno != 0 || *end != '\0' || !(ms >= 0.0 && ms <= BUDGET_MAX_MS))
		return -EINVAL;
	watch.budget_usec = (uint64_t)(ms * 1000.0);
	if (watch.budget_usec > 0 && watch.schedstat_fd < 0)
		/* Time on a CPU, then runnable but waiting for one (ns): sched-stats.rst. */
		watch.schedstat_fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
	return 0;
}

uint64_t loop_watch_budget_usec(void)
{
	return watch.budget_usec;
}

void loop_watch_enter(sd_event_source *source)
{
	const char *description = NULL;

	if (watch.budget_usec == 0 || !source)
		return;
	if (sd_event_source_get_description(source, &description) < 0 || !description)
		description = "an unnamed event source";
	snprintf(watch.source, sizeof(watch.source), "%s", description);
	watch.detail[0] = '\0';
}

void loop_watch_name(const char *name)
{
	if (watch.budget_usec == 0)
		return;
	snprintf(watch.source, sizeof(watch.source), "%s", name);
	watch.detail[0] = '\0';
}

void loop_watch_detail(const char *format, ...)
{
	va_list ap;

	if (watch.budget_usec == 0)
		return;
	va_start(ap, format);
	vsnprintf(watch.detail, sizeof(watch.detail), format, ap);
	va_end(ap);
}

static uint64_t now_usec(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * This thread's time so far, in µs: on a CPU, and runnable but waiting for
 * one (0 when unknown). The first from the thread's CPU clock, which counts up
 * to now: schedstat's first field is only brought up to date at a tick or a
 * switch, so it misses up to a tick of the current run (4 ms at 250 Hz), time
 * that would pass for blocked. The wait is complete in schedstat: it ended
 * when the thread got its CPU.
 */
typedef struct ThreadTimes {
	uint64_t ran, waited;
	uint64_t kernel; /* of `ran`, in the kernel: sampled at the tick, so roughly */
	long blocks, faults; /* times it went to sleep; page faults that read a disk */
	long preempted; /* times it was switched out while it could run */
} ThreadTimes;

static ThreadTimes thread_times(void)
{
	char text[128];
	uint64_t wait_ns;
	struct timespec cpu;

	if (watch.schedstat_fd < 0 || clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) < 0)
		return (ThreadTimes){ 0 };
	ssize_t n = pread(watch.schedstat_fd, text, sizeof(text) - 1, 0);
	if (n <= 0)
		return (ThreadTimes){ 0 };
	text[n] = '\0';
	if (sscanf(text, "%*s %" SCNu64, &wait_ns) != 1)
		return (ThreadTimes){ 0 };
	struct rusage usage = { 0 };
	(void)getrusage(RUSAGE_THREAD, &usage);
	return (ThreadTimes){ .ran = (uint64_t)cpu.tv_sec * 1000000u +
				     (uint64_t)cpu.tv_nsec / 1000u,
			      .waited = wait_ns / 1000u,
			      .kernel = (uint64_t)usage.ru_stime.tv_sec * 1000000u +
					(uint64_t)usage.ru_stime.tv_usec,
			      .blocks = usage.ru_nvcsw,
			      .faults = usage.ru_majflt,
			      .preempted = usage.ru_nivcsw };
}

/*
 * A dispatch past the budget is logged, unless the excess was not the
 * daemon's: time the thread was runnable but waiting for a CPU (a busy
 * machine), and, in a dispatch that never blocked, time it was neither on a
 * CPU nor waiting for one (the hypervisor or interrupts took the CPU). What
 * is left is the daemon's own: its work on a CPU and what it blocked on (a
 * file, a lock, a thread).
 */
static void check(const char *what, uint64_t began, ThreadTimes before)
{
	uint64_t took = now_usec() - began;

	if (took <= watch.budget_usec)
		return; /* the common case: one clock read, no more */
	ThreadTimes after = thread_times();
	uint64_t waited = after.waited - before.waited, ran = after.ran - before.ran;
	uint64_t kernel = after.kernel > before.kernel ? after.kernel - before.kernel : 0;
	long blocks = after.blocks - before.blocks, faults = after.faults - before.faults;
	uint64_t runnable = took > waited ? took - waited : 0;
	uint64_t taken = blocks == 0 && faults == 0 && runnable > ran ? runnable - ran : 0;
	uint64_t held = runnable - taken;
	if (held <= watch.budget_usec)
		return;
	log_warning(
		"loop held %.1f ms by %s%s%s%s (budget %g ms; %.1f ms of it on a CPU, about %.0f "
		"in the kernel; blocked %ld times, preempted %ld, %ld page faults read a disk; "
		"not counted: %.1f ms waiting for a CPU)",
		(double)held / 1000.0, what, watch.detail[0] ? " (" : "", watch.detail,
		watch.detail[0] ? ")" : "", (double)watch.budget_usec / 1000.0,
		(double)MIN(ran, held) / 1000.0, (double)MIN(kernel, ran) / 1000.0, blocks,
		after.preempted - before.preempted, faults, (double)waited / 1000.0);
}

int loop_watch_run(sd_event *event)
{
	int r, code = 0;

	if (watch.budget_usec == 0)
		return sd_event_loop(event);

	/* What sd_event_run() does, with a stopwatch around the parts that run our code. */
	while ((r = sd_event_get_state(event)) != SD_EVENT_FINISHED) {
		if (r < 0)
			return r;
		ThreadTimes times = thread_times();
		uint64_t began = now_usec();
		snprintf(watch.source, sizeof(watch.source), "%s", "the loop's preparation");
		watch.detail[0] = '\0';
		r = sd_event_prepare(event);
		check(watch.source, began, times);
		if (r == 0)
			r = sd_event_wait(event, UINT64_MAX);
		if (r > 0) {
			times = thread_times();
			began = now_usec();
			snprintf(watch.source, sizeof(watch.source), "%s",
				 "an unnamed event source");
			watch.detail[0] = '\0';
			r = sd_event_dispatch(event);
			check(watch.source, began, times);
		}
		if (r < 0)
			return r;
	}
	r = sd_event_get_exit_code(event, &code);
	return r < 0 ? r : code;
}
