/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfioctl topology: the NUMA nodes (CPUs, memory, hugepages, GPUs on each)
 * and the system-wide hugepage pools, from io.libvfio.Host.GetTopology; GPU
 * names come from one ListGPUs call.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "json_util.h"
#include "macro.h"
#include "model_name.h"
#include "output.h"

/* The GPU with this address in a ListGPUs reply, or NULL. */
static json_object *find_gpu(json_object *gpus, const char *address)
{
	for (size_t i = 0; address && i < json_array_size(gpus); i++) {
		json_object *gpu = json_object_array_get_idx(gpus, i);
		const char *a = json_get_string(gpu, "address");
		if (a && strcmp(a, address) == 0)
			return gpu;
	}
	return NULL;
}

/* "2 MiB pages: 512 of 1024 free" for each pool, one line each, after `indent` spaces. */
static void print_hugepages(json_object *pools, int indent)
{
	if (json_array_size(pools) == 0) {
		printf("%*snone\n", indent, "");
		return;
	}
	for (size_t i = 0; i < json_array_size(pools); i++) {
		json_object *pool = json_object_array_get_idx(pools, i);
		int64_t size = -1, total = 0, free_pages = 0;
		char size_text[32], total_text[32];

		(void)json_get_int(pool, "total", &total);
		(void)json_get_int(pool, "free", &free_pages);
		if (json_get_int(pool, "sizeKiB", &size) < 0 || size <= 0 || total < 0 ||
		    free_pages < 0) {
			printf("%*s?\n", indent, "");
			continue;
		}
		format_kib(size_text, sizeof(size_text), (uint64_t)size);
		if (total == 0) {
			printf("%*s%s pages: none reserved\n", indent, "", size_text);
			continue;
		}
		printf("%*s%s pages: %" PRId64 " of %" PRId64 " free (%s reserved", indent, "",
		       size_text, free_pages, total,
		       format_kib(total_text, sizeof(total_text),
				  (uint64_t)total * (uint64_t)size));
		/* What libvfio added for VMs that run (GetTopology only). */
		int64_t held = 0;
		if (json_get_int(pool, "heldForVMs", &held) >= 0 && held > 0)
			printf("; %" PRId64 " added by libvfio for VMs", held);
		printf(")\n");
	}
}

/* "  0000:01:00.0  NVIDIA GeForce RTX 3090" */
static void print_gpu_line(json_object *gpus, const char *address)
{
	char model[256];
	json_object *gpu = find_gpu(gpus, address);

	printf("    %s", address ? address : "?");
	if (gpu)
		printf("  %s", function_model_name(model, sizeof(model), gpu));
	printf("\n");
}

/* A GPU of a ListGPUs reply whose numaNode is null: sysfs says -1, no affinity. */
static bool gpu_is_unplaced(json_object *gpu)
{
	int64_t node;
	return json_get_string(gpu, "address") && json_get_int(gpu, "numaNode", &node) < 0;
}

static void print_node(json_object *node, json_object *gpus)
{
	json_object *node_gpus = json_get_array(node, "gpus");
	const char *cpus = json_get_string(node, "cpus");
	int64_t id, total, available;
	char buf[32];

	if (json_get_int(node, "id", &id) >= 0)
		printf("%sNUMA node %" PRId64 "%s\n", colour_on(COLOUR_BOLD), id, colour_off());
	else
		printf("%sNUMA node ?%s\n", colour_on(COLOUR_BOLD), colour_off());
	printf("  CPUs:       %s\n", cpus && cpus[0] ? cpus : "none");
	printf("  Memory:     ");
	if (json_get_int(node, "memoryTotalKiB", &total) >= 0 && total >= 0)
		printf("%s total", format_kib(buf, sizeof(buf), (uint64_t)total));
	else
		printf("? total");
	if (json_get_int(node, "memoryFreeKiB", &available) >= 0 && available >= 0)
		printf(", %s free\n", format_kib(buf, sizeof(buf), (uint64_t)available));
	else
		printf(", ? free\n");
	printf("  Hugepages:\n");
	print_hugepages(json_get_array(node, "hugepages"), 4);
	/*
	 * The daemon lists a GPU without affinity under the node of a one-node
	 * machine already (host_json.c): the node's list is the whole answer.
	 */
	printf("  GPUs:%s\n", json_array_size(node_gpus) == 0 ? "       none" : "");
	for (size_t i = 0; i < json_array_size(node_gpus); i++) {
		json_object *address = json_object_array_get_idx(node_gpus, i);
		if (json_object_is_type(address, json_type_string))
			print_gpu_line(gpus, json_object_get_string(address));
	}
}

/* GPUs the firmware ties to no node, on a machine of several. */
static void print_unplaced_gpus(json_object *gpus)
{
	bool heading = false;

	for (size_t i = 0; i < json_array_size(gpus); i++) {
		json_object *gpu = json_object_array_get_idx(gpus, i);
		if (!gpu_is_unplaced(gpu))
			continue;
		if (!heading)
			printf("\n%sGPUs on no NUMA node%s (the firmware gives them no affinity)\n",
			       colour_on(COLOUR_BOLD), colour_off());
		heading = true;
		print_gpu_line(gpus, json_get_string(gpu, "address"));
	}
}

static void print_topology(json_object *topology, json_object *gpus_reply)
{
	json_object *nodes = json_get_array(topology, "nodes");
	json_object *gpus = json_get_array(gpus_reply, "gpus");

	if (json_array_size(nodes) == 0)
		printf("No NUMA node found.\n");
	for (size_t i = 0; i < json_array_size(nodes); i++) {
		if (i > 0)
			printf("\n");
		print_node(json_object_array_get_idx(nodes, i), gpus);
	}
	if (json_array_size(nodes) != 1)
		print_unplaced_gpus(gpus);
	printf("\n%sHugepages, whole system%s\n", colour_on(COLOUR_BOLD), colour_off());
	print_hugepages(json_get_array(topology, "hugepages"), 2);
}

static int run_topology(const ClientOptions *options, int argc, char *argv[])
{
	_cleanup_json_ json_object *topology = NULL;
	_cleanup_json_ json_object *gpus = NULL;

	int r = request_call(options, "io.libvfio.Host.GetTopology", NULL, &topology);
	if (r != EXIT_OK)
		return r;
	if (options->json) {
		print_json(topology);
		return EXIT_OK;
	}
	/* The GPUs' names; the topology names GPUs by address only. */
	r = request_call(options, "io.libvfio.Host.ListGPUs", NULL, &gpus);
	if (r != EXIT_OK)
		return r;
	print_topology(topology, gpus);
	return EXIT_OK;
}

const Command command_topology = {
	.name = "topology",
	.summary = "Show the NUMA nodes with their CPUs, memory, hugepages and GPUs",
	.usage = "Usage: vfioctl [--json] topology\n"
		 "Shows each NUMA node of this machine: its CPUs, memory, hugepages and\n"
		 "the GPUs attached to it, then the hugepage pools of the whole system.\n"
		 "A VM runs best on the CPUs and memory of its GPU's node.\n",
	.run = run_topology,
};
