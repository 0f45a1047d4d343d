/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NUMA topology from sysfs (sys/devices/system/node/nodeN: cpulist, meminfo,
 * hugepages/hugepages-SIZEkB/{nr,free}_hugepages), the same files libnuma
 * reads, read below the sysfs root so fixture hosts work.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_internal.h"
#include "macro.h"
#include "strv.h"

#define NUMA_MAX_NODES 1024
#define MAX_HUGEPAGE_SIZES 16

typedef struct PoolScan {
	const SysfsRoot *root;
	const char *directory;
	HugepagePool *pools;
	size_t n;
} PoolScan;

static int add_pool(const char *name, void *userdata)
{
	PoolScan *scan = userdata;
	uint64_t size_kib;
	char path[512];
	int64_t total, free_pages;

	if (sscanf(name, "hugepages-%" SCNu64 "kB", &size_kib) != 1 ||
	    scan->n >= MAX_HUGEPAGE_SIZES)
		return 0;
	snprintf(path, sizeof(path), "%s/%s/nr_hugepages", scan->directory, name);
	if (sysfs_read_int(scan->root, path, &total) < 0 || total < 0)
		return 0;
	snprintf(path, sizeof(path), "%s/%s/free_hugepages", scan->directory, name);
	if (sysfs_read_int(scan->root, path, &free_pages) < 0 || free_pages < 0)
		return 0;
	HugepagePool *p = reallocarray(scan->pools, scan->n + 1, sizeof(HugepagePool));
	if (!p)
		return -ENOMEM;
	scan->pools = p;
	p[scan->n++] = (HugepagePool){ size_kib, (uint64_t)total, (uint64_t)free_pages };
	return 0;
}

static int compare_pools(const void *a, const void *b)
{
	uint64_t x = ((const HugepagePool *)a)->size_kib, y = ((const HugepagePool *)b)->size_kib;
	return (x > y) - (x < y);
}

int hugepages_read_pools(const SysfsRoot *root, const char *directory, HugepagePool **ret,
			 size_t *ret_n)
{
	PoolScan scan = { .root = root, .directory = directory };
	int r = sysfs_list_dir(root, directory, 64, add_pool, &scan);
	if (r == -ENOMEM) {
		free(scan.pools);
		return r;
	}
	if (scan.n > 0) /* qsort's base must not be NULL, even for no elements */
		qsort(scan.pools, scan.n, sizeof(HugepagePool), compare_pools);
	*ret = scan.pools;
	*ret_n = scan.n;
	return 0;
}

/* "Node 0 MemTotal:       32768000 kB" */
static uint64_t meminfo_value(const char *meminfo, const char *key)
{
	const char *p = strstr(meminfo, key);
	uint64_t value = 0;
	if (p)
		(void)sscanf(p + strlen(key), " %" SCNu64, &value);
	return value;
}

typedef struct NodeScan {
	const SysfsRoot *root;
	HostModel *model;
} NodeScan;

static int add_node(const char *name, void *userdata)
{
	NodeScan *scan = userdata;
	HostModel *model = scan->model;
	char directory[128], path[160], *end;

	if (strncmp(name, "node", 4) != 0)
		return 0;
	long id = strtol(name + 4, &end, 10);
	if (end == name + 4 || *end || id < 0 || id >= NUMA_MAX_NODES)
		return 0;

	NumaNode *nodes = reallocarray(model->nodes, model->n_nodes + 1, sizeof(NumaNode));
	if (!nodes)
		return -ENOMEM;
	model->nodes = nodes;
	NumaNode *node = &nodes[model->n_nodes++];
	*node = (NumaNode){ .id = (int)id };

	snprintf(directory, sizeof(directory), "sys/devices/system/node/node%ld", id);
	snprintf(path, sizeof(path), "%s/cpulist", directory);
	int r = sysfs_read_text(scan->root, path, 4096, &node->cpus);
	if (r == -ENOMEM)
		return r;
	if (r < 0 &&
	    strv_appendf(&model->warnings, "NUMA node %ld: its cpulist is unreadable", id) < 0)
		return -ENOMEM;

	_cleanup_free_ char *meminfo = NULL;
	snprintf(path, sizeof(path), "%s/meminfo", directory);
	if (sysfs_read_text(scan->root, path, 64 * 1024, &meminfo) == 0) {
		node->memory_total_kib = meminfo_value(meminfo, "MemTotal:");
		node->memory_free_kib = meminfo_value(meminfo, "MemFree:");
	}
	snprintf(path, sizeof(path), "%s/hugepages", directory);
	return hugepages_read_pools(scan->root, path, &node->hugepages, &node->n_hugepages);
}

static int compare_nodes(const void *a, const void *b)
{
	int x = ((const NumaNode *)a)->id, y = ((const NumaNode *)b)->id;
	return (x > y) - (x < y);
}

int numa_read_nodes(const SysfsRoot *root, HostModel *model)
{
	NodeScan scan = { .root = root, .model = model };
	int r = sysfs_list_dir(root, "sys/devices/system/node", 4 * NUMA_MAX_NODES, add_node,
			       &scan);
	if (r == -ENOMEM)
		return r;
	if (r < 0 && strv_append(&model->warnings,
				 "sys/devices/system/node is unreadable: no NUMA topology") < 0)
		return -ENOMEM;
	if (model->n_nodes > 0)
		qsort(model->nodes, model->n_nodes, sizeof(NumaNode), compare_nodes);
	return 0;
}
