/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of daemon/base/worker.c: a job runs off the loop's thread, its result
 * comes back on the loop once, its data is freed by the worker; a job given
 * up on is never reported and finishes alone; one finished is waited for.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
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
	data->fixture->freed++;
	free(data);
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
	for (int i = 0; i < 200 && f->freed == 0; i++) {
		assert_true(sd_event_run(f->event, 1000) >= 0);
		usleep(1000);
	}
	assert_int_equal(f->freed, 1);
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
	for (int i = 0; i < 200 && f->freed == 0; i++)
		usleep(1000);
	assert_int_equal(f->freed, 1);
	/* Given up on after it ran: the loop frees it. */
	f->freed = 0;
	assert_int_equal(worker_start_returning(f->event, "test job", work, data_new(f, 0, 0),
						free_data, NULL, &job),
			 0);
	/* Its result is there (it has ended), and not taken: waited for, not dispatched. */
	assert_true(sd_event_prepare(f->event) > 0 || sd_event_wait(f->event, 5000000) > 0);
	assert_null(worker_cancel(job));
	assert_int_equal(f->freed, 1);
}

int main(void)
{
#define FIXTURE_TEST(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	const struct CMUnitTest tests[] = {
		FIXTURE_TEST(test_result_comes_back_on_the_loop),
		FIXTURE_TEST(test_a_cancelled_job_is_never_reported),
		FIXTURE_TEST(test_a_finished_job_has_done_its_work_and_is_never_reported),
		FIXTURE_TEST(test_a_returning_job_hands_its_data_to_done),
		FIXTURE_TEST(test_a_returning_job_given_up_on_frees_its_data),
	};
#undef FIXTURE_TEST
	return cmocka_run_group_tests(tests, NULL, NULL);
}
