/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of daemon/vm/hugepage_reserve.c: which pool a VM's hugepages come
 * from (its node's, else the system's), how many pages a start adds, and how
 * many a stop gives back (only free ones, never below the pool's size before,
 * never someone else's).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host_builder.h"
#include "vm/hugepage_reserve.h"

#define GIB (UINT64_C(1) << 30)

static void add_node(HostModel *model, int id, uint64_t total_2m, uint64_t free_2m)
{
	model->nodes = reallocarray(model->nodes, model->n_nodes + 1, sizeof(NumaNode));
	assert_non_null(model->nodes);
	NumaNode *node = &model->nodes[model->n_nodes++];
	*node = (NumaNode){ .id = id, .cpus = strdup("0-3") };
	node->hugepages = calloc(1, sizeof(HugepagePool));
	assert_non_null(node->hugepages);
	node->hugepages[0] = (HugepagePool){ 2048, total_2m, free_2m };
	node->n_hugepages = 1;
}

static VmDefinition definition(uint64_t memory, VmHugepages hugepages)
{
	return (VmDefinition){ .memory = memory, .hugepages = hugepages, .numa = VM_NUMA_AUTO };
}

static void test_pool_paths(void **state)
{
	char path[256];
	(void)state;

	assert_int_equal(hugepage_pool_path(1, 2048, path, sizeof(path)), 0);
	assert_string_equal(
		path, "sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages");
	assert_int_equal(hugepage_pool_path(-1, 1048576, path, sizeof(path)), 0);
	assert_string_equal(path, "sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages");
	assert_int_equal(hugepage_pool_path(0, 4, path, sizeof(path)), -EINVAL);
	assert_int_equal(hugepage_pool_path(1024, 2048, path, sizeof(path)), -EINVAL);
	assert_int_equal(hugepage_pool_path(-2, 2048, path, sizeof(path)), -EINVAL);
	assert_int_equal(hugepage_pool_path(0, 2048, path, 10), -ENAMETOOLONG);
	assert_int_equal(hugepage_size_kib(VM_HUGEPAGES_OFF), 0);
	assert_int_equal(hugepage_size_kib(VM_HUGEPAGES_2M), 2048);
	assert_int_equal(hugepage_size_kib(VM_HUGEPAGES_1G), 1048576);
}

/* A short pool on the VM's node: the node's pool grows by what is missing. */
static void test_plan_on_the_node(void **state)
{
	(void)state;
	HostModel *model = model_new();
	HugepageReservation plan;
	add_node(model, 0, 512, 512);
	add_node(model, 1, 512, 256);
	model_add_hugepages(model, 2048, 1024, 768);

	VmDefinition d = definition(2 * GIB, VM_HUGEPAGES_2M); /* 1024 pages */
	assert_int_equal(hugepage_plan(&d, model, 1, 0, &plan), 0);
	assert_true(plan.active);
	assert_int_equal(plan.node, 1);
	assert_int_equal(plan.size_kib, 2048);
	assert_int_equal(plan.before, 512);
	assert_int_equal(plan.added, 1024 - 256);

	/* Enough free pages there: nothing to add. */
	d = definition(512 * (UINT64_C(1) << 20), VM_HUGEPAGES_2M); /* 256 pages */
	assert_int_equal(hugepage_plan(&d, model, 1, 0, &plan), 0);
	assert_false(plan.active);

	/* No node (numa: off): the system pool. */
	d = definition(2 * GIB, VM_HUGEPAGES_2M);
	assert_int_equal(hugepage_plan(&d, model, -1, 0, &plan), 0);
	assert_true(plan.active);
	assert_int_equal(plan.node, -1);
	assert_int_equal(plan.before, 1024);
	assert_int_equal(plan.added, 1024 - 768);

	/* Free pages another start counts on are not free: 100 of node 1's 256. */
	d = definition(512 * (UINT64_C(1) << 20), VM_HUGEPAGES_2M); /* 256 pages */
	assert_int_equal(hugepage_plan(&d, model, 1, 100, &plan), 0);
	assert_true(plan.active);
	assert_int_equal(plan.added, 100);
	assert_int_equal(hugepage_plan(&d, model, 1, 1000, &plan), 0);
	assert_int_equal(plan.added, 256);
	assert_int_equal(plan.node, 1);

	/* Off: nothing. */
	d = definition(2 * GIB, VM_HUGEPAGES_OFF);
	assert_int_equal(hugepage_plan(&d, model, 1, 0, &plan), 0);
	assert_false(plan.active);
}

/* A host without per-node pools (or a node the model lacks): the system pool. */
static void test_plan_without_nodes(void **state)
{
	(void)state;
	HostModel *model = model_new();
	HugepageReservation plan;
	model_add_hugepages(model, 1048576, 2, 2);

	VmDefinition d = definition(8 * GIB, VM_HUGEPAGES_1G);
	assert_int_equal(hugepage_plan(&d, model, 3, 0, &plan), 0);
	assert_true(plan.active);
	assert_int_equal(plan.node, -1);
	assert_int_equal(plan.size_kib, 1048576);
	assert_int_equal(plan.before, 2);
	assert_int_equal(plan.added, 6);

	/* No 2M pool at all: said, not guessed. */
	d = definition(2 * GIB, VM_HUGEPAGES_2M);
	assert_int_equal(hugepage_plan(&d, model, -1, 0, &plan), -ENOENT);
}

/* Giving back: our addition, its free part only, never below the pool before. */
static void test_give_back(void **state)
{
	(void)state;
	HugepageReservation h = {
		.active = true, .node = 1, .size_kib = 2048, .before = 512, .added = 768
	};

	/* The VM is gone: every page of ours is free again. */
	assert_int_equal(hugepage_give_back_target(&h, 1280, 1024), 512);
	/* Someone else added 100 since: theirs stay. */
	assert_int_equal(hugepage_give_back_target(&h, 1380, 1124), 612);
	/* Someone uses 300 of the pool now: only free pages go. */
	assert_int_equal(hugepage_give_back_target(&h, 1280, 200), 1080);
	/* The kernel gave only 100 of the 768: only those. */
	assert_int_equal(hugepage_give_back_target(&h, 612, 612), 512);
	/* The write never landed, or someone shrank the pool: nothing. */
	assert_int_equal(hugepage_give_back_target(&h, 512, 512), 512);
	assert_int_equal(hugepage_give_back_target(&h, 400, 400), 400);
	/* Nothing reserved: nothing. */
	h.active = false;
	assert_int_equal(hugepage_give_back_target(&h, 1280, 1280), 1280);
}

/* A claim on a node's pool counts against the system's pool too, never another size. */
/* A start's write that timed out, and landed later (or not), at release and recovery. */
static void test_release_decide(void **state)
{
	HugepageReservation h = {
		.active = true, .node = 0, .size_kib = 2048, .before = 8, .added = 32
	};
	uint64_t target = 12345;
	(void)state;

	/* still under way: nothing known of what it adds, the record is kept */
	assert_int_equal(hugepage_release_decide(&h, true, 8, 8, &target), HUGEPAGE_RELEASE_KEEP);
	assert_int_equal(hugepage_release_decide(&h, true, 40, 40, &target), HUGEPAGE_RELEASE_KEEP);
	assert_int_equal(target, 12345);
	/* ended, it landed whole: all of it back, down to `before` */
	assert_int_equal(hugepage_release_decide(&h, false, 40, 40, &target),
			 HUGEPAGE_RELEASE_WRITE);
	assert_int_equal(target, 8);
	/* it landed in part (the kernel found 10): those 10 */
	assert_int_equal(hugepage_release_decide(&h, false, 18, 18, &target),
			 HUGEPAGE_RELEASE_WRITE);
	assert_int_equal(target, 8);
	/* it landed, and someone else added 20 since: only what we asked for */
	assert_int_equal(hugepage_release_decide(&h, false, 60, 60, &target),
			 HUGEPAGE_RELEASE_WRITE);
	assert_int_equal(target, 28);
	/* it landed, and 30 of the pool are in use: only free pages */
	assert_int_equal(hugepage_release_decide(&h, false, 40, 10, &target),
			 HUGEPAGE_RELEASE_WRITE);
	assert_int_equal(target, 30);
	/* it never landed: nothing above `before`, nothing written, the record goes */
	target = 12345;
	assert_int_equal(hugepage_release_decide(&h, false, 8, 8, &target),
			 HUGEPAGE_RELEASE_NOTHING);
	assert_int_equal(hugepage_release_decide(&h, false, 3, 3, &target),
			 HUGEPAGE_RELEASE_NOTHING);
	assert_int_equal(target, 12345);
	/* no reservation */
	h.active = false;
	assert_int_equal(hugepage_release_decide(&h, true, 40, 40, &target),
			 HUGEPAGE_RELEASE_NOTHING);
}

static void test_pages_in(void **state)
{
	HugepageReservation h = {
		.active = true, .node = 1, .size_kib = 2048, .before = 8, .added = 512
	};
	(void)state;

	assert_int_equal(hugepage_reservation_pages_in(&h, 1, 2048), 512);
	assert_int_equal(hugepage_reservation_pages_in(&h, -1, 2048), 512); /* the system's */
	assert_int_equal(hugepage_reservation_pages_in(&h, 0, 2048), 0);
	assert_int_equal(hugepage_reservation_pages_in(&h, 1, 1048576), 0);
	h.node = -1; /* a system pool reservation is no node's */
	assert_int_equal(hugepage_reservation_pages_in(&h, 1, 2048), 0);
	assert_int_equal(hugepage_reservation_pages_in(&h, -1, 2048), 512);
	h.active = false;
	assert_int_equal(hugepage_reservation_pages_in(&h, -1, 2048), 0);
}

static void test_pools_overlap(void **state)
{
	(void)state;
	assert_true(hugepage_pools_overlap(1, 2048, 1, 2048));
	assert_true(hugepage_pools_overlap(-1, 2048, 1, 2048));
	assert_true(hugepage_pools_overlap(0, 2048, -1, 2048));
	assert_false(hugepage_pools_overlap(0, 2048, 1, 2048));
	assert_false(hugepage_pools_overlap(1, 2048, 1, 1048576));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_paths),
		cmocka_unit_test_teardown(test_plan_on_the_node, models_teardown),
		cmocka_unit_test_teardown(test_plan_without_nodes, models_teardown),
		cmocka_unit_test(test_give_back),
		cmocka_unit_test(test_release_decide),
		cmocka_unit_test(test_pages_in),
		cmocka_unit_test(test_pools_overlap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
