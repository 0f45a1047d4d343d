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

typedef struct Data {
	pthread_t loop_thread;
	int *ran_elsewhere;
	int *freed;
	int result;
	useconds_t delay;
} Data;

static int work(void *userdata)
{
	Data *data = userdata;
	usleep(data->delay);
	*data->ran_elsewhere = !pthread_equal(pthread_self(), data->loop_thread);
	return data->result;
}

static void free_data(void *userdata)
{
	Data *data = userdata;
	(*data->freed)++;
	free(data);
}

typedef struct Seen {
	int calls;
	int result;
	sd_event *event;
} Seen;

static void on_done(int result, void *userdata)
{
	Seen *seen = userdata;
	seen->calls++;
	seen->result = result;
	(void)sd_event_exit(seen->event, 0);
}

static Data *data_new(int *ran_elsewhere, int *freed, int result, useconds_t delay)
{
	Data *data = malloc(sizeof(*data));
	assert_non_null(data);
	*data = (Data){ pthread_self(), ran_elsewhere, freed, result, delay };
	return data;
}

static void test_result_comes_back_on_the_loop(void **state)
{
	sd_event *event = NULL;
	WorkerJob *job = NULL;
	int ran_elsewhere = 0, freed = 0;
	(void)state;

	assert_int_equal(sd_event_new(&event), 0);
	Seen seen = { .event = event };
	assert_int_equal(worker_start(event, "test job", work,
				      data_new(&ran_elsewhere, &freed, -ENOSPC, 20000), free_data,
				      on_done, &seen, &job),
			 0);
	assert_int_equal(seen.calls, 0); /* not before the loop runs */
	assert_int_equal(sd_event_loop(event), 0);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.result, -ENOSPC);
	assert_int_equal(ran_elsewhere, 1);
	assert_int_equal(freed, 1);
	sd_event_unref(event);
}

static void test_a_cancelled_job_is_never_reported(void **state)
{
	sd_event *event = NULL;
	WorkerJob *job = NULL;
	int ran_elsewhere = 0, freed = 0;
	(void)state;

	assert_int_equal(sd_event_new(&event), 0);
	Seen seen = { .event = event };
	assert_int_equal(worker_start(event, "test job", work,
				      data_new(&ran_elsewhere, &freed, 0, 50000), free_data,
				      on_done, &seen, &job),
			 0);
	assert_null(worker_cancel(job));
	/* The loop has nothing left to wait for; the thread ends on its own. */
	for (int i = 0; i < 200 && freed == 0; i++) {
		assert_true(sd_event_run(event, 1000) >= 0);
		usleep(1000);
	}
	assert_int_equal(freed, 1);
	assert_int_equal(seen.calls, 0);
	sd_event_unref(event);
}

static void test_a_finished_job_has_done_its_work_and_is_never_reported(void **state)
{
	sd_event *event = NULL;
	WorkerJob *job = NULL;
	int ran_elsewhere = 0, freed = 0;
	(void)state;

	assert_int_equal(sd_event_new(&event), 0);
	Seen seen = { .event = event };
	assert_int_equal(worker_start(event, "test job", work,
				      data_new(&ran_elsewhere, &freed, 0, 50000), free_data,
				      on_done, &seen, &job),
			 0);
	assert_null(worker_finish(job));
	/* Its work is done and its data freed by the time it returns (the daemon's exit). */
	assert_int_equal(ran_elsewhere, 1);
	assert_int_equal(freed, 1);
	assert_true(sd_event_run(event, 10000) >= 0);
	assert_int_equal(seen.calls, 0);
	assert_null(worker_finish(NULL));
	sd_event_unref(event);
}

static Seen returned; /* what on_returned() saw */

static void on_returned(int result, void *userdata)
{
	Data *data = userdata;
	returned.calls++;
	returned.result = result;
	free(data); /* done owns it */
	(void)sd_event_exit(returned.event, 0);
}

static void test_a_returning_job_hands_its_data_to_done(void **state)
{
	sd_event *event = NULL;
	WorkerJob *job = NULL;
	int ran_elsewhere = 0, freed = 0;
	(void)state;

	assert_int_equal(sd_event_new(&event), 0);
	returned = (Seen){ .event = event };
	assert_int_equal(worker_start_returning(event, "test job", work,
						data_new(&ran_elsewhere, &freed, 7, 0), free_data,
						on_returned, &job),
			 0);
	assert_int_equal(sd_event_loop(event), 0);
	assert_int_equal(returned.calls, 1);
	assert_int_equal(returned.result, 7);
	assert_int_equal(ran_elsewhere, 1);
	assert_int_equal(freed, 0); /* done had it, not free_data */
	sd_event_unref(event);
}

static void test_a_returning_job_given_up_on_frees_its_data(void **state)
{
	sd_event *event = NULL;
	WorkerJob *job = NULL;
	int ran_elsewhere = 0, freed = 0;
	(void)state;

	assert_int_equal(sd_event_new(&event), 0);
	/* Given up on while it runs: the thread frees it. */
	assert_int_equal(worker_start_returning(event, "test job", work,
						data_new(&ran_elsewhere, &freed, 0, 50000),
						free_data, NULL, &job),
			 0);
	assert_null(worker_cancel(job));
	for (int i = 0; i < 200 && freed == 0; i++)
		usleep(1000);
	assert_int_equal(freed, 1);
	/* Given up on after it ran: the loop frees it. */
	freed = 0;
	assert_int_equal(worker_start_returning(event, "test job", work,
						data_new(&ran_elsewhere, &freed, 0, 0), free_data,
						NULL, &job),
			 0);
	/* Its result is there (it has ended), and not taken: waited for, not dispatched. */
	assert_true(sd_event_prepare(event) > 0 || sd_event_wait(event, 5000000) > 0);
	assert_null(worker_cancel(job));
	assert_int_equal(freed, 1);
	sd_event_unref(event);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_result_comes_back_on_the_loop),
		cmocka_unit_test(test_a_cancelled_job_is_never_reported),
		cmocka_unit_test(test_a_finished_job_has_done_its_work_and_is_never_reported),
		cmocka_unit_test(test_a_returning_job_hands_its_data_to_done),
		cmocka_unit_test(test_a_returning_job_given_up_on_frees_its_data),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
