/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfioctl partitions, partition create, partition destroy, vfs: the GPU
 * partitions on this machine (libvfio's and others'), making or removing
 * manual ones, and VF counts, through io.libvfio.Partitions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arguments.h"
#include "commands.h"
#include "json_util.h"
#include "macro.h"
#include "output.h"

static const char *or_dash(const char *text)
{
	return text && text[0] ? text : "-";
}

static void print_partition_line(json_object *p)
{
	printf("%s: %s on %s (%s)\n", or_dash(json_get_string(p, "id")),
	       or_dash(json_get_string(p, "mode")), or_dash(json_get_string(p, "gpu")),
	       or_dash(json_get_string(p, "device")));
}

static int add_partition_row(Table *table, json_object *p)
{
	const char *holder = json_get_string(p, "holder");
	const char *cells[] = {
		or_dash(json_get_string(p, "id")),   or_dash(json_get_string(p, "mode")),
		or_dash(json_get_string(p, "gpu")),  or_dash(json_get_string(p, "device")),
		or_dash(json_get_string(p, "type")), holder ? holder : "(not libvfio's)",
	};
	return table_add_row(table, cells);
}

static int run_partitions(const ClientOptions *options, int argc, char *argv[])
{
	static const char *const headers[] = { "ID", "MODE", "GPU", "DEVICE", "TYPE", "HOLDER" };
	_cleanup_json_ json_object *reply = NULL;
	Table table;

	int r = request_call(options, "io.libvfio.Partitions.List", NULL, &reply);
	if (r != EXIT_OK)
		return r;
	if (options->json) {
		print_json(reply);
		return EXIT_OK;
	}
	json_object *list = json_get_array(reply, "partitions");
	if (json_array_size(list) == 0) {
		print_legend("No partitions.\n");
		return EXIT_OK;
	}
	table_init(&table, ELEMENTSOF(headers), headers);
	return table_show_rows(&table, list, add_partition_row);
}

const Command command_partitions = {
	.name = "partitions",
	.summary = "List the GPU partitions: libvfio's and those others made",
	.usage = "Usage: vfioctl [--json] partitions\n"
		 "Lists the GPU partitions of this machine: mediated devices, SR-IOV VFs and\n"
		 "whole GPUs on vfio-pci, with the id, holder and type of those libvfio holds.\n",
	.run = run_partitions,
};

enum {
	OPTION_MODE,
	OPTION_GPU,
	OPTION_VENDOR,
	OPTION_TYPE,
	OPTION_MIN_FRAMEBUFFER,
	OPTION_MAX_INSTANCES,
	OPTION_NODE,
	OPTION_VFS,
	OPTION_FORCE,
};

static const CommandOption partition_options[] = {
	[OPTION_MODE] = { "mode", true },
	[OPTION_GPU] = { "gpu", true },
	[OPTION_VENDOR] = { "vendor", true },
	[OPTION_TYPE] = { "type", true },
	[OPTION_MIN_FRAMEBUFFER] = { "min-framebuffer", true },
	[OPTION_MAX_INSTANCES] = { "max-instances", true },
	[OPTION_NODE] = { "node", true },
	[OPTION_VFS] = { "vfs", true },
	[OPTION_FORCE] = { "force", false },
	{ 0 },
};
_Static_assert(ELEMENTSOF(partition_options) - 1 <= COMMAND_MAX_OPTIONS,
	       "raise COMMAND_MAX_OPTIONS");

/* Adds a whole number option, when given; false (after a message) when it is not one. */
static bool add_number(json_object *parameters, const char *key, const char *option,
		       const char *text, long long max)
{
	char what[64];
	long long value;

	if (!text)
		return true;
	snprintf(what, sizeof(what), "--%s", option);
	return argument_whole_number(what, text, max, &value) >= 0 &&
	       json_add_int(parameters, key, value) >= 0;
}

static int create(const ClientOptions *options)
{
	const char *const *v = options->values;
	const char *mode = v[OPTION_MODE] ? v[OPTION_MODE] : v[OPTION_TYPE] ? "mdev" : NULL;
	_cleanup_json_ json_object *parameters = json_object_new_object();
	_cleanup_json_ json_object *reply = NULL;
	char address[ARGUMENT_GPU_SIZE];

	if (!mode) {
		fprintf(stderr, "vfioctl: say which kind of partition: --mode mdev, sriov or "
				"passthrough (or --type TYPE for an mdev).\n");
		return EXIT_USAGE;
	}
	if (v[OPTION_GPU] && argument_gpu(v[OPTION_GPU], address) < 0)
		return EXIT_USAGE;
	if (!parameters || json_add_string(parameters, "mode", mode) < 0 ||
	    (v[OPTION_GPU] && json_add_string(parameters, "gpu", address) < 0) ||
	    (v[OPTION_VENDOR] && json_add_string(parameters, "vendor", v[OPTION_VENDOR]) < 0) ||
	    (v[OPTION_TYPE] && json_add_string(parameters, "type", v[OPTION_TYPE]) < 0) ||
	    (v[OPTION_FORCE] && json_add_bool(parameters, "force", true) < 0))
		return EXIT_FAILED;
	if (!add_number(parameters, "minFramebufferMiB", "min-framebuffer",
			v[OPTION_MIN_FRAMEBUFFER], 1LL << 30) ||
	    !add_number(parameters, "maxInstances", "max-instances", v[OPTION_MAX_INSTANCES],
			4096) ||
	    !add_number(parameters, "node", "node", v[OPTION_NODE], 1023) ||
	    !add_number(parameters, "vfs", "vfs", v[OPTION_VFS], 4096))
		return EXIT_USAGE;

	int r = request_call(options, "io.libvfio.Partitions.Create", TAKE_PTR(parameters), &reply);
	if (r != EXIT_OK)
		return r;
	if (options->json)
		print_json(reply);
	else {
		printf("Created ");
		print_partition_line(json_get_object(reply, "partition"));
	}
	return EXIT_OK;
}

static int destroy(const ClientOptions *options, const char *id)
{
	json_object *parameters = json_object_new_object();
	_cleanup_json_ json_object *reply = NULL;

	if (!parameters || json_add_string(parameters, "id", id) < 0) {
		json_object_put(parameters);
		return EXIT_FAILED;
	}
	int r = request_call(options, "io.libvfio.Partitions.Destroy", parameters, &reply);
	if (r != EXIT_OK)
		return r;
	if (options->json)
		print_json(reply);
	else
		printf("Destroyed %s.\n", id);
	return EXIT_OK;
}

static int run_partition(const ClientOptions *options, int argc, char *argv[])
{
	if (argc >= 1 && strcmp(argv[0], "create") == 0 && argc == 1)
		return create(options);
	if (argc == 2 && strcmp(argv[0], "destroy") == 0)
		return destroy(options, argv[1]);
	fprintf(stderr, "vfioctl: use 'partition create [OPTION]...' or 'partition destroy ID'. "
			"Try 'vfioctl partition --help'.\n");
	return EXIT_USAGE;
}

const Command command_partition = {
	.name = "partition",
	.summary = "Create or destroy a manual GPU partition",
	.usage =
		"Usage: vfioctl [--json] partition create [OPTION]...\n"
		"       vfioctl [--json] partition destroy ID\n"
		"Makes a partition that lives until it is destroyed (like mdevctl start), or\n"
		"removes one, giving its devices back to their drivers. Needs root.\n"
		"\n"
		"  --mode MODE             mdev, sriov or passthrough (mdev when --type is given)\n"
		"  --gpu ADDRESS           this GPU (0000:01:00.0) or mdev parent (mbochs);\n"
		"                          default: the best fit\n"
		"  --vendor VENDOR         intel, nvidia, amd, 10de or 10de:1eb8\n"
		"  --type TYPE             an mdev type id or name (i915-GVTg_V5_4, GRID T4-2Q)\n"
		"  --min-framebuffer MIB   an mdev type with at least this much video memory\n"
		"  --max-instances N       an mdev type of which one GPU holds N at most\n"
		"  --node N                prefer GPUs on NUMA node N\n"
		"  --vfs N                 VFs to enable when the GPU has none yet (default: all)\n"
		"  --force                 pass through the boot display, or a device in use, "
		"too\n",
	.max_arguments = 2,
	.options = partition_options,
	.run = run_partition,
};

static int run_vfs(const ClientOptions *options, int argc, char *argv[])
{
	_cleanup_json_ json_object *reply = NULL;
	json_object *parameters;
	char address[PCI_ADDRESS_TEXT_SIZE];
	long long count;

	if (argc != 2) {
		fprintf(stderr,
			"vfioctl: use 'vfs ADDRESS COUNT', e.g. 'vfioctl vfs 0000:03:00.0 4'.\n");
		return EXIT_USAGE;
	}
	if (argument_pci_address(argv[0], address) < 0 ||
	    argument_whole_number("the VF count", argv[1], 65535, &count) < 0)
		return EXIT_USAGE;
	parameters = json_object_new_object();
	if (!parameters || json_add_string(parameters, "gpu", address) < 0 ||
	    json_add_int(parameters, "count", count) < 0) {
		json_object_put(parameters);
		return EXIT_FAILED;
	}
	int r = request_call(options, "io.libvfio.Partitions.SetVFCount", parameters, &reply);
	if (r != EXIT_OK)
		return r;
	if (options->json)
		print_json(reply);
	else
		printf("%s now has %lld VF%s.\n", address, count, count == 1 ? "" : "s");
	return EXIT_OK;
}

const Command command_vfs = {
	.name = "vfs",
	.summary = "Set how many SR-IOV virtual functions a GPU has",
	.usage = "Usage: vfioctl vfs ADDRESS COUNT\n"
		 "Enables COUNT virtual functions on the SR-IOV GPU at ADDRESS (0 removes\n"
		 "them); new ones come up without a host driver, ready for partitions.\n"
		 "Refused while any of its VFs is in use. Needs root.\n",
	.max_arguments = 2,
	.run = run_vfs,
};
