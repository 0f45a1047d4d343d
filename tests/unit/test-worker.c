/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of daemon/base/worker.c: a job runs off the loop's thread, its result
 * comes back on the loop once, its data is freed by the worker; a job given
 * up on is never reported and finishes alone; one finished is waited for;
 * jobs run on the threads made at the start, one is made only when none
 * waits, a thread a job lowered is raised back, and no worker takes a signal.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/worker.h"

/*
 * One test's loop and what its jobs did: a job's data points at `ran_elsewhere`
 * and `freed`; on_done() and on_returned() fill `calls` and `result`.
 */
typedef struct Fixture {
	sd_event *event;
	int ran_elsewhere, freed;
	int calls, result;
} Fixture;

typedef struct Data {
	pthread_t loop_thread;
	Fixture *fixture;
	int result;
	useconds_t delay;
} Data;

static int work(void *userdata)
{
	Data *data = userdata;
	usleep(data->delay);
	data->fixture->ran_elsewhere = !pthread_equal(pthread_self(), data->loop_thread);
	return data->result;
}

static void free_data(void *userdata)
{
	Data *data = userdata;
	__atomic_add_fetch(&data->fixture->freed, 1, __ATOMIC_RELEASE);
	free(data);
}

/* Waits up to 2 s for `n` data freed, by whichever side is last: a thread, or the loop. */
static int freed_after_a_while(Fixture *f, int n)
{
	for (int i = 0; i < 2000 && __atomic_load_n(&f->freed, __ATOMIC_ACQUIRE) < n; i++)
		usleep(1000);
	return __atomic_load_n(&f->freed, __ATOMIC_ACQUIRE);
}

static void on_done(int result, void *userdata)
{
	Fixture *f = userdata;
	f->calls++;
	f->result = result;
	(void)sd_event_exit(f->event, 0);
}

/* For a returning job: the data comes back, and done owns it. */
static void on_returned(int result, void *userdata)
{
	Data *data = userdata;
	Fixture *f = data->fixture;
	free(data);
	on_done(result, f);
}

/* A job's data: it returns `result` after `delay` µs. */
static Data *data_new(Fixture *f, int result, useconds_t delay)
{
	Data *data = malloc(sizeof(*data));
	assert_non_null(data);
	*data = (Data){ pthread_self(), f, result, delay };
	return data;
}

static int setup(void **state)
{
	Fixture *f = calloc(1, sizeof(*f));
	if (!f || sd_event_new(&f->event) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	Fixture *f = *state;
	sd_event_unref(f->event);
	free(f);
	return 0;
}

static void test_result_comes_back_on_the_loop(void **state)
{
	Fixture *f = *state;
	WorkerJob *job = NULL;

	assert_int_equal(worker_start(f->event, "test job", work, data_new(f, -ENOSPC, 20000),
				      free_data, on_done, f, &job),
			 0);
	assert_int_equal(f->calls, 0); /* not before the loop runs */
	assert_int_equal(sd_event_loop(f->event), 0);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->result, -ENOSPC);
	assert_int_equal(f->ran_elsewhere, 1);
	assert_int_equal(f->freed, 1);
}

static void test_a_cancelled_job_is_never_reported(void **state)
{
	Fixture *f = *state;
	WorkerJob *job = NULL;

	assert_int_equal(worker_start(f->event, "test job", work, data_new(f, 0, 50000), free_data,
				      on_done, f, &job),
			 0);
	assert_null(worker_cancel(job));
	/* The loop has nothing left to wait for; the thread ends on its own. */
	for (int i = 0; i < 200 && __atomic_load_n(&f->freed, __ATOMIC_ACQUIRE) == 0; i++) {
		assert_true(sd_event_run(f->event, 1000) >= 0);
		usleep(1000);
	}
	assert_int_equal(freed_after_a_while(f, 1), 1);
	assert_int_equal(f->calls, 0);
}

static void test_a_finished_job_has_done_its_work_and_is_never_reported(void **state)
{
	Fixture *f = *state;
	WorkerJob *job = NULL;

	assert_int_equal(worker_start(f->event, "test job", work, data_new(f, 0, 50000), free_data,
				      on_done, f, &job),
			 0);
	assert_null(worker_finish(job));
	/* Its work is done and its data freed by the time it returns (the daemon's exit). */
	assert_int_equal(f->ran_elsewhere, 1);
	assert_int_equal(f->freed, 1);
	assert_true(sd_event_run(f->event, 10000) >= 0);
	assert_int_equal(f->calls, 0);
	assert_null(worker_finish(NULL));
}

static void test_a_returning_job_hands_its_data_to_done(void **state)
{
	Fixture *f = *state;
	WorkerJob *job = NULL;

	assert_int_equal(worker_start_returning(f->event, "test job", work, data_new(f, 7, 0),
						free_data, on_returned, &job),
			 0);
	assert_int_equal(sd_event_loop(f->event), 0);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->result, 7);
	assert_int_equal(f->ran_elsewhere, 1);
	assert_int_equal(f->freed, 0); /* done had it, not free_data */
}

static void test_a_returning_job_given_up_on_frees_its_data(void **state)
{
	Fixture *f = *state;
	WorkerJob *job = NULL;

	/* Given up on while it runs: the thread frees it. */
	assert_int_equal(worker_start_returning(f->event, "test job", work, data_new(f, 0, 50000),
						free_data, NULL, &job),
			 0);
	assert_null(worker_cancel(job));
	assert_int_equal(freed_after_a_while(f, 1), 1);
	/* Given up on after it ran: freed by the loop, or by the thread if it has not let go of
	 * the job yet (it tells its result, then lets go). */
	f->freed = 0;
	assert_int_equal(worker_start_returning(f->event, "test job", work, data_new(f, 0, 0),
						free_data, NULL, &job),
			 0);
	/* Its result is there (it has ended), and not taken: waited for, not dispatched. */
	assert_true(sd_event_prepare(f->event) > 0 || sd_event_wait(f->event, 5000000) > 0);
	assert_null(worker_cancel(job));
	assert_int_equal(freed_after_a_while(f, 1), 1);
}

/* Threads of this process now. */
static int thread_count(void)
{
	DIR *tasks = opendir("/proc/self/task");
	int n = 0;
	assert_non_null(tasks);
	for (struct dirent *e; (e = readdir(tasks));)
		n += e->d_name[0] != '.';
	closedir(tasks);
	return n;
}

static void on_counted(int result, void *userdata)
{
	Fixture *f = userdata;
	f->calls++;
}

/* Runs `n` jobs at once (each `delay` µs) and waits for all of them. */
static void run_jobs(Fixture *f, int n, useconds_t delay)
{
	f->calls = 0;
	for (int i = 0; i < n; i++) {
		WorkerJob *job = NULL;
		assert_int_equal(worker_start(f->event, "test job", work, data_new(f, 0, delay),
					      free_data, on_counted, f, &job),
				 0);
	}
	while (f->calls < n)
		assert_true(sd_event_run(f->event, 1000) >= 0);
	assert_int_equal(f->freed, n);
	f->freed = 0;
}

/* The first test: the pool is the process's, and still empty. */
static void test_jobs_take_the_threads_made_at_the_start(void **state)
{
	Fixture *f = *state;
	int before = thread_count();

	assert_int_equal(worker_pool_prepare(2), 0);
	assert_int_equal(thread_count(), before + 2);
	/* One after the other, and two at once: the two threads take them all. */
	for (int i = 0; i < 5; i++)
		run_jobs(f, 1, 0);
	run_jobs(f, 2, 20000);
	assert_int_equal(thread_count(), before + 2);
	/* Three at once: one more thread, made for the third. */
	run_jobs(f, 3, 20000);
	assert_int_equal(thread_count(), before + 3);
}

static int lower_own_priority(void *userdata)
{
	(void)userdata;
	return setpriority(PRIO_PROCESS, (id_t)gettid(), 5) < 0 ? -errno : 0;
}

/* The nice value of every thread of this process, as `nice` when all are equal, else -100. */
static int threads_nice(void)
{
	DIR *tasks = opendir("/proc/self/task");
	int nice = 0, seen = 0;
	assert_non_null(tasks);
	for (struct dirent *e; (e = readdir(tasks));) {
		if (e->d_name[0] == '.')
			continue;
		errno = 0;
		int value = getpriority(PRIO_PROCESS, (id_t)atoi(e->d_name));
		if (errno != 0)
			continue; /* gone meanwhile */
		if (seen++ && value != nice)
			nice = -100;
		else if (seen == 1)
			nice = value;
	}
	closedir(tasks);
	return nice;
}

/* What `function` (no data) returns on a worker, back on the loop. */
static int result_of(Fixture *f, WorkerFunction function)
{
	WorkerJob *job = NULL;
	assert_int_equal(worker_start(f->event, "test job", function, NULL, NULL, on_done, f, &job),
			 0);
	assert_int_equal(sd_event_loop(f->event), 0);
	return f->result;
}

static void test_a_thread_a_job_lowered_is_raised_back(void **state)
{
	Fixture *f = *state;

	assert_int_equal(result_of(f, lower_own_priority), 0);
	/* Raised back (or gone) right after it has told its result. */
	for (int i = 0; i < 1000 && threads_nice() != 0; i++)
		usleep(1000);
	assert_int_equal(threads_nice(), 0);
}

static void detached(void *userdata)
{
	Data *data = userdata;
	__atomic_store_n(&data->fixture->ran_elsewhere,
			 !pthread_equal(pthread_self(), data->loop_thread), __ATOMIC_RELEASE);
	free_data(data);
}

/* A detached task runs on a worker and tells nobody: the task itself says it ran. */
static void test_a_detached_task_runs_on_a_worker(void **state)
{
	Fixture *f = *state;

	assert_int_equal(worker_run_detached(detached, data_new(f, 0, 0)), 0);
	assert_int_equal(freed_after_a_while(f, 1), 1);
	assert_int_equal(__atomic_load_n(&f->ran_elsewhere, __ATOMIC_ACQUIRE), 1);
}

static int signals_blocked(void *userdata)
{
	sigset_t mask;
	(void)userdata;
	if (pthread_sigmask(SIG_BLOCK, NULL, &mask) != 0)
		return -EIO;
	return sigismember(&mask, SIGTERM) && sigismember(&mask, SIGCHLD) &&
	       sigismember(&mask, SIGHUP);
}

/* The loop takes signals through signalfd: a worker taking one would kill the daemon. */
static void test_workers_take_no_signal(void **state)
{
	assert_int_equal(result_of(*state, signals_blocked), 1);
}

int main(void)
{
#define FIXTURE_TEST(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		FIXTURE_TEST(test_jobs_take_the_threads_made_at_the_start),
		FIXTURE_TEST(test_a_thread_a_job_lowered_is_raised_back),
		FIXTURE_TEST(test_workers_take_no_signal),
		FIXTURE_TEST(test_a_detached_task_runs_on_a_worker),
		FIXTURE_TEST(test_result_comes_back_on_the_loop),
		FIXTURE_TEST(test_a_cancelled_job_is_never_reported),
		FIXTURE_TEST(test_a_finished_job_has_done_its_work_and_is_never_reported),
		FIXTURE_TEST(test_a_returning_job_hands_its_data_to_done),
		FIXTURE_TEST(test_a_returning_job_given_up_on_frees_its_data),
	};
#undef FIXTURE_TEST
	return cmocka_run_group_tests(tests, NULL, NULL);
}
