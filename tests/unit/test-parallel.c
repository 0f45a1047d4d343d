/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of daemon/base/parallel.c: every item done exactly once whatever the
 * count and share size, small counts on the caller's thread alone, and a
 * share's error returned after every share has ended.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "base/parallel.h"

typedef struct Items {
	atomic_int *done; /* how often each item was done */
	atomic_int shares;
	atomic_int other_threads; /* shares run off the caller's thread */
	atomic_size_t smallest; /* the fewest items a share had */
	pthread_t caller;
	size_t fail_at; /* an item whose share fails there (SIZE_MAX: none) */
} Items;

static int count_range(size_t begin, size_t end, void *userdata)
{
	Items *items = userdata;
	atomic_fetch_add(&items->shares, 1);
	for (size_t now = atomic_load(&items->smallest);
	     end - begin < now &&
	     !atomic_compare_exchange_weak(&items->smallest, &now, end - begin);)
		;
	if (!pthread_equal(pthread_self(), items->caller))
		atomic_fetch_add(&items->other_threads, 1);
	for (size_t i = begin; i < end; i++) {
		if (i == items->fail_at)
			return -EIO;
		atomic_fetch_add(&items->done[i], 1);
	}
	return 0;
}

static Items *items_new(size_t n)
{
	Items *items = calloc(1, sizeof(*items));
	assert_non_null(items);
	items->done = calloc(n + 1, sizeof(atomic_int));
	assert_non_null(items->done);
	items->caller = pthread_self();
	items->fail_at = SIZE_MAX;
	atomic_store(&items->smallest, SIZE_MAX);
	return items;
}

static void items_free(Items *items)
{
	free(items->done);
	free(items);
}

static void test_each_item_once(void **state)
{
	static const size_t counts[] = { 0, 1, 63, 64, 65, 255, 1000, 4097 };
	static const size_t shares[] = { 0, 1, 64, 256 };

	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++)
		for (size_t s = 0; s < sizeof(shares) / sizeof(shares[0]); s++) {
			Items *items = items_new(counts[c]);
			assert_int_equal(parallel_ranges(counts[c], shares[s], count_range, items),
					 0);
			for (size_t i = 0; i < counts[c]; i++)
				assert_int_equal(atomic_load(&items->done[i]), 1);
			assert_true(atomic_load(&items->shares) >= 1);
			assert_true(atomic_load(&items->shares) <= 4);
			items_free(items);
		}
}

/* Fewer items than a share: one share, on the caller's thread, no thread made. */
static void test_few_items_stay_on_the_caller(void **state)
{
	Items *items = items_new(10);
	assert_int_equal(parallel_ranges(10, 64, count_range, items), 0);
	assert_int_equal(atomic_load(&items->shares), 1);
	assert_int_equal(atomic_load(&items->other_threads), 0);
	items_free(items);
}

/* A share has at least min_share items: one thread for 127 items of 64, two at most for 128. */
static void test_shares_are_not_smaller_than_asked(void **state)
{
	static const size_t counts[] = { 127, 128, 200, 1000 };

	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		Items *items = items_new(counts[c]);
		assert_int_equal(parallel_ranges(counts[c], 64, count_range, items), 0);
		assert_true(atomic_load(&items->smallest) >= 64);
		if (counts[c] < 128)
			assert_int_equal(atomic_load(&items->shares), 1);
		items_free(items);
	}
}

/* A failing share stops itself; the others finish; the error comes back. */
static void test_error_is_returned(void **state)
{
	Items *items = items_new(1000);
	items->fail_at = 999; /* in the last share */
	assert_int_equal(parallel_ranges(1000, 1, count_range, items), -EIO);
	assert_int_equal(atomic_load(&items->done[0]), 1); /* the first share finished */
	assert_int_equal(atomic_load(&items->done[999]), 0);
	items_free(items);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_item_once),
		cmocka_unit_test(test_few_items_stay_on_the_caller),
		cmocka_unit_test(test_shares_are_not_smaller_than_asked),
		cmocka_unit_test(test_error_is_returned),
	};
	return cmocka_run_group_tests_name("parallel", tests, NULL, NULL);
}
