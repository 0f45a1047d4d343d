/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One blocking job (a file copied and fsynced, ...) on a thread of its own,
 * its end told on the event loop: the loop goes on serving while the disk
 * works. The job's data belongs to the thread; the caller may give up waiting
 * (worker_cancel()) at any time, and the thread then finishes alone. The
 * threads are kept for the next jobs (a few wait; one is made when none does).
 */
#pragma once

#include <systemd/sd-event.h>

typedef struct WorkerJob WorkerJob;

/* Runs on the worker thread: 0 or a negative errno. It must not touch the loop. */
typedef int (*WorkerFunction)(void *data);

/* Runs on the loop, once, with what the function returned; the job is gone after. */
typedef void (*WorkerDone)(int result, void *userdata);

/*
 * Makes `threads` threads that wait for jobs (at most a few): at the start,
 * before any other thread, so that the loop does not make one while workers
 * run. 0, or < 0 when one cannot be made.
 */
int worker_pool_prepare(unsigned threads);

/*
 * Runs work(data) on a waiting thread (or a new one), then free_data(data) there (may be NULL),
 * then done(result, userdata) on the loop. `description` names the job in
 * the loop's watchdog lines. Returns 0 with *ret, or < 0 (data then freed).
 */
int worker_start(sd_event *event, const char *description, WorkerFunction work, void *data,
		 void (*free_data)(void *data), WorkerDone done, void *userdata, WorkerJob **ret);

/*
 * As worker_start(), for a job whose data carries its results back: `data`
 * is not freed after work() but handed to done(result, data) on the loop,
 * which then owns it. A job given up on (worker_cancel()) has its data freed
 * with free_data() by whichever side is last: the thread, or the loop.
 */
int worker_start_returning(sd_event *event, const char *description, WorkerFunction work,
			   void *data, void (*free_data)(void *data), WorkerDone done,
			   WorkerJob **ret);

/*
 * Runs function(data) on a worker thread and forgets it: for work that tells
 * its end its own way (sysfs_write.h's writes, which may never end). 0, or
 * < 0 when no thread can be had (function is then not called).
 */
int worker_run_detached(void (*function)(void *data), void *data);

/* Stops waiting: done is not called. Accepts NULL; returns NULL. */
WorkerJob *worker_cancel(WorkerJob *job);

/*
 * Waits, blocking, until the job's function has returned, then as
 * worker_cancel(): for the daemon's exit, where a job cut off would lose
 * what it was writing. Accepts NULL; returns NULL.
 */
WorkerJob *worker_finish(WorkerJob *job);
