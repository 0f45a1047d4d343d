/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which hugepage pool a VM's memory comes from and how many pages a start
 * adds to it, and how many a stop gives back: pure decisions over the host
 * model and what the pool reads now. The writes are vm_hugepages.c's.
 *
 * The pool is the VM's NUMA node's (QEMU binds the memory there), or the
 * system's when the VM has no node or the host shows no per-node pools. What
 * was added is remembered with what the pool held before, so that giving back
 * never takes the pool below that, never takes pages in use, and never takes
 * pages someone else added since (only our addition, and only its free part).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "host/host.h"
#include "vm_definition.h"

/* A reservation: what a start added to one pool (written down before the write). */
typedef struct HugepageReservation {
	bool active;
	int node; /* -1: the system pool */
	uint64_t size_kib; /* 2048 or 1048576 */
	uint64_t before; /* nr_hugepages before the start's write */
	uint64_t added; /* pages asked for (at most what the write added) */
} HugepageReservation;

/* More pages than any pool holds (16 TiB of 2M pages): a record past it is damaged. */
#define HUGEPAGES_MAX_PAGES (UINT64_C(8) << 20)

/* The page size of `hugepages:` in KiB; 0 when off. */
uint64_t hugepage_size_kib(VmHugepages hugepages);

/* The pool's nr_hugepages below the sysfs root; -EINVAL for a node past 1023 or an odd size. */
int hugepage_pool_path(int node, uint64_t size_kib, char *buf, size_t size);

/*
 * The reservation a start of `definition` on `node` (-1: none) needs: the pool
 * (the node's when the model shows its pools, else the system's) and how many
 * pages to add (0: the free pages suffice; then nothing is active). `claimed`
 * pages of that size are free but promised to other starts whose QEMU has not
 * taken them yet. -ENOENT when the host has no pool of that size at all.
 * *ret_node and *ret_size_kib say which pool, whatever is added.
 */
int hugepage_plan(const VmDefinition *definition, const HostModel *model, int node,
		  uint64_t claimed, HugepageReservation *ret);

/* Whether a claim on one pool may take pages of the other (a node's is part of the system's). */
bool hugepage_pools_overlap(int node_a, uint64_t size_a, int node_b, uint64_t size_b);

/*
 * The pages of `reservation` that pool (`node`, `size_kib`) holds for its VM:
 * its `added` when it is of that size and on that node, or `node` is -1 (the
 * system's pool counts every node's); 0 otherwise or when it is not active.
 */
uint64_t hugepage_reservation_pages_in(const HugepageReservation *reservation, int node,
				       uint64_t size_kib);

/* What a release does with a reservation (hugepage_release_decide()). */
typedef enum HugepageRelease {
	HUGEPAGE_RELEASE_NOTHING, /* nothing of ours above `before`: the record goes */
	HUGEPAGE_RELEASE_KEEP, /* the start's write is still under way: the record stays */
	HUGEPAGE_RELEASE_WRITE, /* write *ret_target to the pool, then the record goes */
} HugepageRelease;

/*
 * The release of `reservation` from the pool's nr_hugepages and free_hugepages
 * now. While the start's write is still under way (`write_pending`: it timed
 * out but the kernel may still grow the pool), nothing can be known of what
 * it adds, so the reservation is kept, recorded, until the write ends (or the
 * next daemon finds it): then hugepage_give_back_target() takes back what the
 * pool holds above `before`, at most `added`. *ret_target is set for WRITE.
 */
HugepageRelease hugepage_release_decide(const HugepageReservation *reservation, bool write_pending,
					uint64_t nr, uint64_t free_pages, uint64_t *ret_target);

/*
 * What to write to the pool to give the reservation back, from the pool's
 * nr_hugepages and free_hugepages now: at most `added` pages, only free ones,
 * never below `before`. Returns the value to write; == nr when there is
 * nothing to give back.
 */
uint64_t hugepage_give_back_target(const HugepageReservation *reservation, uint64_t nr,
				   uint64_t free_pages);
