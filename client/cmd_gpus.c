/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfioctl gpus: one line per GPU with its driver, NUMA node, IOMMU group and
 * the partition modes it offers now, from io.libvfio.Host.ListGPUs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "json_util.h"
#include "macro.h"
#include "model_name.h"
#include "output.h"

enum {
	COLUMN_ADDRESS,
	COLUMN_MODEL,
	COLUMN_DRIVER,
	COLUMN_NODE,
	COLUMN_GROUP,
	COLUMN_MODES,
	_COLUMN_MAX,
};

/* A cut model name still says whose it is: "NVIDIA GeForce…". */
#define MODEL_MINIMUM_WIDTH 16

/*
 * The modes a GPU offers now with how much is free, "; " between them:
 * "mdev i915-GVTg_V5_4: 2 free; passthrough". Returns a new string, or NULL
 * when out of memory.
 */
static char *modes_text(json_object *gpu)
{
	json_object *modes = json_get_array(gpu, "modes");
	char *text = NULL;
	size_t length = 0, n = 0;
	FILE *f = open_memstream(&text, &length);

	if (!f)
		return NULL;
	for (size_t i = 0; i < json_array_size(modes); i++) {
		json_object *mode = json_object_array_get_idx(modes, i);
		const char *name = json_get_string(mode, "mode");
		const char *capacity = json_get_string(mode, "capacity");
		bool available = false;

		if (!name || json_get_bool(mode, "available", &available) < 0 || !available)
			continue;
		fputs(n++ ? "; " : "", f);
		if (strcmp(name, "passthrough") == 0 || !capacity)
			/* Its capacity is always the whole GPU: nothing to add. */
			fputs(name, f);
		else if (strcmp(name, "mdev") == 0)
			/* The capacity names the types, "i915-GVTg_V5_4: 2 free, ...". */
			fprintf(f, "%s %s", name, capacity);
		else
			fprintf(f, "%s: %s", name, capacity);
	}
	if (n == 0)
		fputs("none", f);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static int add_gpu_row(Table *table, json_object *gpu)
{
	char model[256], node[24], group[24];
	const char *cells[_COLUMN_MAX];
	const char *address = json_get_string(gpu, "address");

	_cleanup_free_ char *modes = modes_text(gpu);
	if (!modes)
		return -ENOMEM;
	cells[COLUMN_ADDRESS] = address ? address : "?";
	cells[COLUMN_MODEL] = json_get_string(gpu, "sysfsPath")
				      ? "mdev parent (not PCI)"
				      : function_model_name(model, sizeof(model), gpu);
	cells[COLUMN_DRIVER] = json_get_string(gpu, "driver");
	cells[COLUMN_NODE] = format_optional_int(node, sizeof(node), gpu, "numaNode");
	cells[COLUMN_GROUP] = format_optional_int(group, sizeof(group), gpu, "iommuGroup");
	cells[COLUMN_MODES] = modes;
	return table_add_row(table, cells);
}

static int print_gpus(json_object *reply)
{
	static const char *const headers[_COLUMN_MAX] = {
		"ADDRESS", "MODEL", "DRIVER", "NODE", "GROUP", "MODES",
	};
	json_object *gpus = json_get_array(reply, "gpus");
	size_t n = json_array_size(gpus);
	Table table;

	if (n == 0) {
		print_legend("No GPU found.\n");
		return EXIT_OK;
	}
	table_init(&table, _COLUMN_MAX, headers);
	table.shrink_column = COLUMN_MODEL;
	table.shrink_minimum = MODEL_MINIMUM_WIDTH;
	table.wrap_last = true;
	return table_show_rows(&table, gpus, add_gpu_row);
}

static int run_gpus(const ClientOptions *options, int argc, char *argv[])
{
	/* Printed, then vfioctl ends: see request_keep_until_exit(). */
	_cleanup_keep_until_exit_ json_object *reply = NULL;

	int r = request_call(options, "io.libvfio.Host.ListGPUs", NULL, &reply);
	if (r != EXIT_OK)
		return r;
	if (options->json) {
		print_json(reply);
		return EXIT_OK;
	}
	return print_gpus(reply);
}

const Command command_gpus = {
	.name = "gpus",
	.summary = "List the GPUs and the partition modes each offers",
	.usage = "Usage: vfioctl [--json] gpus\n"
		 "Lists the GPUs of this machine, one per line: PCI address, model, host\n"
		 "driver, NUMA node, IOMMU group, and the partition modes it offers now\n"
		 "with what is free (mdev types, SR-IOV virtual functions, passthrough).\n"
		 "Virtual functions are not listed; 'vfioctl gpu ADDRESS' shows them.\n",
	.run = run_gpus,
};
