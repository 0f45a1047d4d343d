/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/loop_watch.h"
#include "macro.h"

/* What a thread takes from the pipe: a job, or a detached task. */
typedef struct PoolTask {
	void (*run)(struct PoolTask *task);
} PoolTask;

struct WorkerJob {
	PoolTask task; /* first: the pipe carries its address */
	int refs; /* the thread's and the loop's; atomic */
	int result;
	int pipe[2]; /* the thread writes its result into [1], the loop reads [0] */
	WorkerFunction work;
	void *data; /* freed with the job when still here (a returning job given up on) */
	void (*free_data)(void *data);
	bool returning; /* data goes to done(), not to free_data() after work() */
	sd_event_source *source;
	WorkerDone done;
	void *userdata;
};

/*
 * Threads kept waiting for jobs. Making a thread maps its stack, which waits
 * for the process's memory map lock; a worker holding that lock (a large
 * free, a page fault) and waiting for a CPU then held the loop for tens of
 * milliseconds on a busy machine. Threads made at the start, and kept, take
 * the jobs instead; one is made on the loop only when none waits.
 *
 * Jobs go to the threads through a pipe, one pointer per write, which the
 * waiting threads read; the loop never waits on them (a condition variable's
 * signal can wait for a woken thread to get a CPU). `available` counts the
 * waiting threads not yet promised a job: the loop takes one before it
 * writes, or makes a thread.
 */
#define POOL_IDLE_MAX 4

static struct {
	pthread_once_t once;
	int error;
	int pipe[2];
	int available; /* atomic */
} pool = { .once = PTHREAD_ONCE_INIT };

/* This thread's state in its current task: counted as waiting again, or leaving. */
static _Thread_local bool offered, leaving;

static void job_unref(WorkerJob *job)
{
	if (__atomic_sub_fetch(&job->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	if (job->data && job->free_data)
		job->free_data(job->data);
	safe_close(job->pipe[0]);
	safe_close(job->pipe[1]);
	free(job);
}

/* Counts this thread among the waiting ones, unless enough wait already. */
static bool pool_offer(void)
{
	int available = __atomic_load_n(&pool.available, __ATOMIC_ACQUIRE);
	do
		if (available >= POOL_IDLE_MAX)
			return false;
	while (!__atomic_compare_exchange_n(&pool.available, &available, available + 1, false,
					    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	return true;
}

/*
 * Counts this thread as waiting again (once per task), or marks it leaving:
 * a job calls it before it tells its end, so that when the loop hears of it
 * the thread is free for the next.
 */
static void pool_ready(void)
{
	if (offered || leaving)
		return;
	/* A task that lowered its thread's priority (the host model's): raised back, or
	 * the thread leaves (raising needs CAP_SYS_NICE). */
	errno = 0;
	int nice = getpriority(PRIO_PROCESS, (id_t)gettid());
	if ((nice != 0 || errno != 0) && setpriority(PRIO_PROCESS, (id_t)gettid(), 0) < 0)
		leaving = true;
	else if (pool_offer())
		offered = true;
	else
		leaving = true;
}

static void job_run(PoolTask *task)
{
	WorkerJob *job = (WorkerJob *)task;
	int result = job->work(job->data);
	ssize_t n;

	if (!job->returning) {
		if (job->free_data)
			job->free_data(job->data);
		job->data = NULL;
	}
	pool_ready();
	do
		n = write(job->pipe[1], &result, sizeof(result));
	while (n < 0 && errno == EINTR);
	job_unref(job);
}

/* Counted already by the loop that made it: waiting, or made for a task. */
static void *pool_thread(void *userdata)
{
	for (;;) {
		PoolTask *task;
		ssize_t n;
		do
			n = read(pool.pipe[0], &task, sizeof(task));
		while (n < 0 && errno == EINTR);
		if (n != (ssize_t)sizeof(task))
			return NULL; /* cannot happen: every write is one pointer */
		offered = false;
		task->run(task);
		pool_ready();
		if (leaving)
			return NULL;
	}
}

static void pool_init(void)
{
	/* Blocking reads for the threads; the loop's writes never fill it (a pointer
	 * per thread promised, a few hundred threads at most). */
	pool.error = pipe2(pool.pipe, O_CLOEXEC) < 0 ? negative_errno() : 0;
}

static int thread_new(void)
{
	pthread_attr_t attr;
	pthread_t thread;

	int r = -pthread_once(&pool.once, pool_init);
	if (r >= 0)
		r = pool.error;
	if (r >= 0)
		r = -pthread_attr_init(&attr);
	if (r < 0)
		return r;
	/* Signals are the loop's (signalfd): a worker never takes one, even one made
	 * before the loop blocks them. */
	sigset_t all;
	(void)sigfillset(&all);
	(void)pthread_attr_setsigmask_np(&attr, &all);
	(void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = -pthread_create(&thread, &attr, pool_thread, NULL);
	(void)pthread_attr_destroy(&attr);
	return r;
}

int worker_pool_prepare(unsigned threads)
{
	for (unsigned i = 0; i < threads && i < POOL_IDLE_MAX; i++) {
		/* Waiting from now on, even before it first runs (a busy machine may not
		 * give it a CPU before the first job comes). */
		int r = thread_new();
		if (r < 0)
			return r;
		__atomic_add_fetch(&pool.available, 1, __ATOMIC_ACQ_REL);
	}
	return 0;
}

/* Hands the task to a waiting thread, or to a new one when none waits. */
static int pool_queue(PoolTask *task)
{
	int available = __atomic_load_n(&pool.available, __ATOMIC_ACQUIRE);
	bool taken = false;
	while (available > 0 && !taken)
		taken = __atomic_compare_exchange_n(&pool.available, &available, available - 1,
						    false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	if (!taken) {
		int r = thread_new();
		if (r < 0)
			return r;
	}
	ssize_t n;
	do
		n = write(pool.pipe[1], &task, sizeof(task));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(task) ? 0 : -EIO; /* a pipe write of a pointer is whole */
}

typedef struct DetachedTask {
	PoolTask task;
	void (*function)(void *data);
	void *data;
} DetachedTask;

static void detached_run(PoolTask *task)
{
	DetachedTask *detached = (DetachedTask *)task;
	detached->function(detached->data);
	free(detached);
}

int worker_run_detached(void (*function)(void *data), void *data)
{
	DetachedTask *detached = malloc(sizeof(*detached));
	if (!detached)
		return -ENOMEM;
	*detached = (DetachedTask){ { detached_run }, function, data };
	int r = pool_queue(&detached->task);
	if (r < 0)
		free(detached);
	return r;
}

static int on_result(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	WorkerJob *job = userdata;
	int result = -EIO;
	ssize_t n;

	loop_watch_enter(source);
	do
		n = read(fd, &result, sizeof(result));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(result))
		result = -EIO; /* cannot happen: the thread always writes it */
	job->source = sd_event_source_disable_unref(job->source);
	WorkerDone done = job->done;
	void *done_userdata = job->returning ? TAKE_PTR(job->data) : job->userdata;
	job_unref(job);
	done(result, done_userdata);
	return 0;
}

static int start(sd_event *event, const char *description, WorkerFunction work, void *data,
		 void (*free_data)(void *data), WorkerDone done, void *userdata, bool returning,
		 WorkerJob **ret)
{
	WorkerJob *job = calloc(1, sizeof(*job));
	int r;

	if (!job || pipe2(job->pipe, O_CLOEXEC) < 0) {
		r = job ? negative_errno() : -ENOMEM;
		free(job);
		if (free_data)
			free_data(data);
		return r;
	}
	*job = (WorkerJob){ .task = { job_run },
			    .refs = 1,
			    .pipe = { job->pipe[0], job->pipe[1] },
			    .work = work,
			    .data = data,
			    .free_data = free_data,
			    .returning = returning,
			    .done = done,
			    .userdata = userdata };
	r = sd_event_add_io(event, &job->source, job->pipe[0], EPOLLIN, on_result, job);
	if (r >= 0)
		(void)sd_event_source_set_description(job->source, description);
	if (r >= 0) {
		job->refs = 2;
		r = pool_queue(&job->task);
		if (r < 0)
			job->refs = 1;
	}
	if (r < 0) {
		job->source = sd_event_source_disable_unref(job->source);
		job_unref(job); /* and the data with it */
		return r;
	}
	*ret = job;
	return 0;
}

int worker_start(sd_event *event, const char *description, WorkerFunction work, void *data,
		 void (*free_data)(void *data), WorkerDone done, void *userdata, WorkerJob **ret)
{
	return start(event, description, work, data, free_data, done, userdata, false, ret);
}

int worker_start_returning(sd_event *event, const char *description, WorkerFunction work,
			   void *data, void (*free_data)(void *data), WorkerDone done,
			   WorkerJob **ret)
{
	return start(event, description, work, data, free_data, done, NULL, true, ret);
}

WorkerJob *worker_cancel(WorkerJob *job)
{
	if (!job)
		return NULL;
	job->source = sd_event_source_disable_unref(job->source);
	job_unref(job);
	return NULL;
}

WorkerJob *worker_finish(WorkerJob *job)
{
	int result;
	ssize_t n;

	if (!job)
		return NULL;
	do /* the thread writes its result last, once its function has returned */
		n = read(job->pipe[0], &result, sizeof(result));
	while (n < 0 && errno == EINTR);
	return worker_cancel(job);
}
