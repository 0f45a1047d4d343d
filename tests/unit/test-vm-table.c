/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VM table: a lookup finds every name added and no other, the items stay
 * sorted by name through adds and removes in any order, a name is there once,
 * and removals (backward shifts in the hash) never lose a neighbour.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vm/vm_table.h"

typedef struct Item {
	int payload;
	char name[65];
} Item;

static Item *items_new(size_t n)
{
	Item *items = calloc(n, sizeof(Item));
	assert_non_null(items);
	for (size_t i = 0; i < n; i++) {
		items[i].payload = (int)i;
		snprintf(items[i].name, sizeof(items[i].name), "vm-%05zu", i);
	}
	return items;
}

static void assert_sorted(const VmTable *t)
{
	size_t n;
	void *const *items = vm_table_items(t, &n);
	for (size_t i = 1; i < n; i++)
		assert_true(strcmp(((Item *)items[i - 1])->name, ((Item *)items[i])->name) < 0);
}

static void test_empty(void **state)
{
	VmTable t;
	size_t n;
	vm_table_init(&t, offsetof(Item, name));
	assert_null(vm_table_find(&t, "a"));
	(void)vm_table_items(&t, &n);
	assert_int_equal(n, 0);
	Item lone = { .name = "lone" };
	vm_table_remove(&t, &lone); /* not there: nothing happens */
	vm_table_done(&t);
}

static void test_add_find_remove_many(void **state)
{
	enum { N = 3000 };
	Item *items = items_new(N);
	VmTable t;
	vm_table_init(&t, offsetof(Item, name));

	/* In a scrambled order: sorted all the same. */
	for (size_t k = 0; k < N; k++)
		assert_int_equal(vm_table_add(&t, &items[(k * 7919) % N]), 0);
	assert_sorted(&t);
	for (size_t i = 0; i < N; i++)
		assert_ptr_equal(vm_table_find(&t, items[i].name), &items[i]);
	assert_null(vm_table_find(&t, "vm-99999"));
	assert_null(vm_table_find(&t, "vm-0000")); /* a prefix is another name */

	/* The same name twice is refused, the table unchanged. */
	Item twin = { .payload = -1 };
	memcpy(twin.name, items[5].name, sizeof(twin.name));
	assert_int_equal(vm_table_add(&t, &twin), -EEXIST);
	assert_ptr_equal(vm_table_find(&t, twin.name), &items[5]);
	vm_table_remove(&t, &twin); /* another object of that name: not removed */
	assert_ptr_equal(vm_table_find(&t, twin.name), &items[5]);

	/* Every other one removed: the rest are all still found. */
	for (size_t i = 0; i < N; i += 2)
		vm_table_remove(&t, &items[i]);
	size_t n;
	(void)vm_table_items(&t, &n);
	assert_int_equal(n, N / 2);
	assert_sorted(&t);
	for (size_t i = 0; i < N; i++)
		assert_ptr_equal(vm_table_find(&t, items[i].name), i % 2 ? &items[i] : NULL);

	/* Churn: removed and added back many times, nothing piles up or gets lost. */
	for (int round = 0; round < 20; round++) {
		for (size_t i = 1; i < N; i += 4)
			vm_table_remove(&t, &items[i]);
		for (size_t i = 1; i < N; i += 4)
			assert_int_equal(vm_table_add(&t, &items[i]), 0);
	}
	assert_sorted(&t);
	for (size_t i = 1; i < N; i += 2)
		assert_ptr_equal(vm_table_find(&t, items[i].name), &items[i]);
	assert_true(t.n_slots <= 4 * 2048); /* grown for N/2 items only */

	vm_table_done(&t);
	free(items);
}

static void test_first_and_last(void **state)
{
	Item a = { .name = "a" }, z = { .name = "z" }, m = { .name = "m" };
	VmTable t;
	size_t n;
	vm_table_init(&t, offsetof(Item, name));
	assert_int_equal(vm_table_add(&t, &m), 0);
	assert_int_equal(vm_table_add(&t, &z), 0);
	assert_int_equal(vm_table_add(&t, &a), 0);
	void *const *items = vm_table_items(&t, &n);
	assert_int_equal(n, 3);
	assert_ptr_equal(items[0], &a);
	assert_ptr_equal(items[1], &m);
	assert_ptr_equal(items[2], &z);
	vm_table_remove(&t, &a);
	vm_table_remove(&t, &z);
	items = vm_table_items(&t, &n);
	assert_int_equal(n, 1);
	assert_ptr_equal(items[0], &m);
	vm_table_done(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_add_find_remove_many),
		cmocka_unit_test(test_first_and_last),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
