/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/loop_watch.h"
#include "macro.h"

struct WorkerJob {
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

static void *run(void *userdata)
{
	WorkerJob *job = userdata;
	int result = job->work(job->data);
	ssize_t n;

	if (!job->returning) {
		if (job->free_data)
			job->free_data(job->data);
		job->data = NULL;
	}
	do
		n = write(job->pipe[1], &result, sizeof(result));
	while (n < 0 && errno == EINTR);
	job_unref(job);
	return NULL;
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
	pthread_attr_t attr;
	pthread_t thread;
	int r;

	if (!job || pipe2(job->pipe, O_CLOEXEC) < 0) {
		r = job ? negative_errno() : -ENOMEM;
		free(job);
		if (free_data)
			free_data(data);
		return r;
	}
	*job = (WorkerJob){ .refs = 1,
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
	if (r >= 0)
		r = -pthread_attr_init(&attr);
	if (r >= 0) {
		(void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		job->refs = 2;
		r = -pthread_create(&thread, &attr, run, job);
		(void)pthread_attr_destroy(&attr);
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
