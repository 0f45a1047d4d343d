/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm/hugepage_reserve.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

uint64_t hugepage_size_kib(VmHugepages hugepages)
{
	switch (hugepages) {
	case VM_HUGEPAGES_2M:
		return 2048;
	case VM_HUGEPAGES_1G:
		return 1048576;
	default:
		return 0;
	}
}

int hugepage_pool_path(int node, uint64_t size_kib, char *buf, size_t size)
{
	int n;

	if (node >= 1024 || node < -1 || (size_kib != 2048 && size_kib != 1048576))
		return -EINVAL;
	if (node >= 0)
		n = snprintf(buf, size,
			     "sys/devices/system/node/node%d/hugepages/hugepages-%" PRIu64
			     "kB/nr_hugepages",
			     node, size_kib);
	else
		n = snprintf(buf, size,
			     "sys/kernel/mm/hugepages/hugepages-%" PRIu64 "kB/nr_hugepages",
			     size_kib);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static const HugepagePool *find_pool(const HugepagePool *pools, size_t n, uint64_t size_kib)
{
	for (size_t i = 0; i < n; i++)
		if (pools[i].size_kib == size_kib)
			return &pools[i];
	return NULL;
}

bool hugepage_pools_overlap(int node_a, uint64_t size_a, int node_b, uint64_t size_b)
{
	return size_a == size_b && (node_a == node_b || node_a < 0 || node_b < 0);
}

int hugepage_plan(const VmDefinition *definition, const HostModel *model, int node,
		  uint64_t claimed, HugepageReservation *ret)
{
	uint64_t size_kib = hugepage_size_kib(definition->hugepages);
	const HugepagePool *pool = NULL;
	int pool_node = -1;

	*ret = (HugepageReservation){ .node = -1, .size_kib = size_kib };
	if (size_kib == 0)
		return 0;
	for (size_t i = 0; node >= 0 && i < model->n_nodes; i++)
		if (model->nodes[i].id == node) {
			pool = find_pool(model->nodes[i].hugepages, model->nodes[i].n_hugepages,
					 size_kib);
			pool_node = pool ? node : -1;
		}
	if (!pool)
		pool = find_pool(model->facts.hugepages, model->facts.n_hugepages, size_kib);
	if (!pool)
		return -ENOENT;
	ret->node = pool_node;

	/* The definition's memory is a whole number of pages (qemu_cmdline checks). */
	uint64_t needed = (definition->memory / 1024 + size_kib - 1) / size_kib;
	uint64_t free_pages = pool->free > claimed ? pool->free - claimed : 0;
	if (needed <= free_pages)
		return 0;
	*ret = (HugepageReservation){
		.active = true,
		.node = pool_node,
		.size_kib = size_kib,
		.before = pool->total,
		.added = needed - free_pages,
	};
	return 0;
}

uint64_t hugepage_reservation_pages_in(const HugepageReservation *reservation, int node,
				       uint64_t size_kib)
{
	if (!reservation->active || reservation->size_kib != size_kib)
		return 0;
	return node < 0 || reservation->node == node ? reservation->added : 0;
}

HugepageRelease hugepage_release_decide(const HugepageReservation *reservation, bool write_pending,
					uint64_t nr, uint64_t free_pages, uint64_t *ret_target)
{
	if (!reservation->active)
		return HUGEPAGE_RELEASE_NOTHING;
	if (write_pending)
		return HUGEPAGE_RELEASE_KEEP;
	uint64_t target = hugepage_give_back_target(reservation, nr, free_pages);
	if (target == nr)
		return HUGEPAGE_RELEASE_NOTHING;
	*ret_target = target;
	return HUGEPAGE_RELEASE_WRITE;
}

uint64_t hugepage_give_back_target(const HugepageReservation *reservation, uint64_t nr,
				   uint64_t free_pages)
{
	if (!reservation->active || nr <= reservation->before)
		return nr;
	uint64_t ours = nr - reservation->before; /* what the pool grew by since */
	uint64_t back = reservation->added;
	if (back > ours)
		back = ours; /* the kernel gave fewer, or someone took some away */
	if (back > free_pages)
		back = free_pages; /* pages in use are not ours to take */
	return nr - back;
}
