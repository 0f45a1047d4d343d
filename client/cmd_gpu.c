/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfioctl gpu ADDRESS: everything libvfiod knows about one GPU: identity,
 * driver, IOMMU group, the card's other functions, SR-IOV virtual functions,
 * mdev types and what each partition mode offers, from io.libvfio.Host.GetGPU.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "arguments.h"
#include "commands.h"
#include "json_util.h"
#include "macro.h"
#include "model_name.h"
#include "output.h"
#include "parse_util.h"
#include "pci_address.h"

/* "Driver:", "IOMMU group:", ... are padded to this width. */
#define LABEL_WIDTH 14

static const char *or_default(const char *text, const char *fallback)
{
	return text ? text : fallback;
}

static const char *or_dash(const char *text)
{
	return or_default(text, "-");
}

/* What the display classes are; other classes show as their code only. */
static const char *class_name(const char *class)
{
	if (!class)
		return NULL;
	if (strncmp(class, "0300", 4) == 0)
		return "VGA compatible controller";
	if (strncmp(class, "0302", 4) == 0)
		return "3D controller";
	if (strncmp(class, "0380", 4) == 0)
		return "display controller";
	return NULL;
}

static bool array_contains_address(json_object *functions, const char *address)
{
	for (size_t i = 0; address && i < json_array_size(functions); i++) {
		const char *a = json_get_string(json_object_array_get_idx(functions, i), "address");
		if (a && strcmp(a, address) == 0)
			return true;
	}
	return false;
}

/* The CPUs and memory next to the GPU, where a VM using it should run. */
static void print_node(json_object *node)
{
	char total[32], free_text[32];
	int64_t memory_total = 0, memory_free = 0;

	if (!node)
		return;
	(void)json_get_int(node, "memoryTotalKiB", &memory_total);
	(void)json_get_int(node, "memoryFreeKiB", &memory_free);
	print_field(LABEL_WIDTH, "Node CPUs:", "%s", or_dash(json_get_string(node, "cpus")));
	print_field(LABEL_WIDTH, "Node memory:", "%s total, %s free",
		    format_kib(total, sizeof(total), (uint64_t)MAX(memory_total, 0)),
		    format_kib(free_text, sizeof(free_text), (uint64_t)MAX(memory_free, 0)));
}

static void print_identity(json_object *gpu)
{
	char model[256], number[24];
	const char *class = json_get_string(gpu, "class");
	const char *physical = json_get_string(gpu, "physicalFunction");
	const char *path = json_get_string(gpu, "sysfsPath");
	bool boot_vga = false;

	if (path) { /* an mdev parent outside PCI: a name and a place, nothing of PCI */
		printf("%s%s%s  mdev parent, not a PCI device\n", colour_on(COLOUR_BOLD),
		       or_dash(json_get_string(gpu, "address")), colour_off());
		print_field(LABEL_WIDTH, "Device:", "/sys/%s", path);
		print_node(json_get_object(gpu, "node"));
		return;
	}
	printf("%s%s%s  %s\n", colour_on(COLOUR_BOLD), or_dash(json_get_string(gpu, "address")),
	       colour_off(), function_model_name(model, sizeof(model), gpu));
	print_field(LABEL_WIDTH, "Vendor:", "%s (%s)",
		    or_default(json_get_string(gpu, "vendor"), "unknown"),
		    or_dash(json_get_string(gpu, "vendorId")));
	print_field(LABEL_WIDTH, "Device:", "%s (%s)",
		    or_default(json_get_string(gpu, "device"), "unknown"),
		    or_dash(json_get_string(gpu, "deviceId")));
	if (class_name(class))
		print_field(LABEL_WIDTH, "Class:", "%s (%s)", class, class_name(class));
	else
		print_field(LABEL_WIDTH, "Class:", "%s", or_dash(class));
	print_field(LABEL_WIDTH, "Driver:", "%s",
		    or_default(json_get_string(gpu, "driver"), "none"));
	print_field(LABEL_WIDTH, "NUMA node:", "%s",
		    format_optional_int(number, sizeof(number), gpu, "numaNode"));
	print_node(json_get_object(gpu, "node"));
	(void)json_get_bool(gpu, "bootVga", &boot_vga);
	print_field(LABEL_WIDTH, "Boot VGA:", "%s", boot_vga ? "yes (the host's screen)" : "no");
	if (physical)
		print_field(LABEL_WIDTH, "Virtual function of:", "%s", physical);
}

static void print_iommu_group(json_object *gpu)
{
	json_object *members = json_get_array(gpu, "iommuGroupMembers");
	json_object *functions = json_get_array(gpu, "functions");
	int64_t group;

	if (json_get_int(gpu, "iommuGroup", &group) < 0) {
		printf("\nIOMMU group: none (the IOMMU is off; see 'vfioctl check')\n");
		return;
	}
	printf("\nIOMMU group %" PRId64 "\n", group);
	for (size_t i = 0; i < json_array_size(members); i++) {
		json_object *member = json_object_array_get_idx(members, i);
		const char *address = json_object_is_type(member, json_type_string)
					      ? json_object_get_string(member)
					      : "?";
		const char *self = json_get_string(gpu, "address");
		const char *mark = "";
		if (self && strcmp(address, self) == 0)
			mark = "  (this GPU)";
		else if (array_contains_address(functions, address))
			mark = "  (this card)";
		printf("  %s%s\n", address, mark);
	}
}

static int print_functions(json_object *gpu)
{
	static const char *const headers[] = { "ADDRESS", "MODEL", "CLASS", "DRIVER", "GROUP" };
	json_object *functions = json_get_array(gpu, "functions");
	Table table;
	int r = 0;

	if (json_array_size(functions) == 0)
		return 0;
	printf("\nFunctions of the card\n");
	table_init(&table, ELEMENTSOF(headers), headers);
	table.indent = 2;
	for (size_t i = 0; r >= 0 && i < json_array_size(functions); i++) {
		json_object *f = json_object_array_get_idx(functions, i);
		char model[256], group[24];
		const char *cells[] = {
			or_dash(json_get_string(f, "address")),
			function_model_name(model, sizeof(model), f),
			json_get_string(f, "class"),
			json_get_string(f, "driver"),
			format_optional_int(group, sizeof(group), f, "iommuGroup"),
		};
		r = table_add_row(&table, cells);
	}
	if (r >= 0)
		table_print(&table, stdout, 0);
	table_done(&table);
	return r;
}

/* NVIDIA vGPU 17+: the types the free VFs can take (a VM's gpu entry names one as `type`). */
static void print_vgpu_types(json_object *sriov)
{
	json_object *types = json_get_array(sriov, "vgpuTypes");

	if (json_array_size(types) == 0)
		return;
	printf("\nNVIDIA vGPU types its free VFs can take now\n");
	for (size_t i = 0; i < json_array_size(types); i++) {
		json_object *t = json_object_array_get_idx(types, i);
		int64_t n = 0;
		(void)json_get_int(t, "availableVFs", &n);
		printf("  %-6s %s (%" PRId64 " VF%s)\n", or_dash(json_get_string(t, "id")),
		       or_dash(json_get_string(t, "name")), n, n == 1 ? "" : "s");
	}
}

/* "10 ms", "no limit" (0), "-" when absent: one value of a VF's xe profile. */
static const char *format_xe_limit(char *buf, size_t size, json_object *profile, const char *key,
				   const char *unit)
{
	int64_t value;

	if (!profile || json_get_int(profile, key, &value) < 0 || value < 0)
		return "-";
	if (value == 0)
		return "no limit";
	snprintf(buf, size, "%" PRId64 " %s", value, unit);
	return buf;
}

/* "4 GiB", "unprovisioned" (0), "-" when absent: a VF's VRAM quota. */
static const char *format_xe_vram(char *buf, size_t size, json_object *profile)
{
	int64_t value;

	if (!profile || json_get_int(profile, "vramQuota", &value) < 0 || value < 0)
		return "-";
	if (value == 0)
		return "unprovisioned";
	return format_size(buf, (unsigned)size, (uint64_t)value);
}

/*
 * The columns of the VFs' xe profiles: none, when no VF shows one; the two of
 * GPU time; and VRAM QUOTA too, when a VF has one (a discrete GPU).
 */
static size_t xe_profile_columns(json_object *vfs)
{
	size_t columns = 0;
	for (size_t i = 0; i < json_array_size(vfs); i++) {
		json_object *profile =
			json_get_object(json_object_array_get_idx(vfs, i), "xeProfile");
		int64_t vram;
		if (profile && columns < 2)
			columns = 2;
		if (profile && json_get_int(profile, "vramQuota", &vram) >= 0)
			columns = 3;
	}
	return columns;
}

static int print_sriov(json_object *gpu)
{
	static const char *const headers[] = { "ADDRESS",   "DRIVER",       "GROUP",
					       "STATE",     "EXEC QUANTUM", "PREEMPT TIMEOUT",
					       "VRAM QUOTA" };
	json_object *sriov = json_get_object(gpu, "sriov");
	json_object *vfs = json_get_array(sriov, "vfs");
	int64_t total = 0, enabled = 0;
	bool autoprobe = false;
	Table table;
	int r = 0;

	if (!sriov)
		return 0;
	(void)json_get_int(sriov, "totalVFs", &total);
	(void)json_get_int(sriov, "numVFs", &enabled);
	printf("\nSR-IOV: %" PRId64 " of %" PRId64 " virtual functions enabled", enabled, total);
	if (json_get_bool(sriov, "driversAutoprobe", &autoprobe) >= 0)
		printf("; new ones %s", autoprobe ? "get a host driver" : "stay without a driver");
	printf("\n");
	if (json_array_size(vfs) == 0)
		return 0;
	table_init(&table, 4 + xe_profile_columns(vfs), headers);
	table.indent = 2;
	for (size_t i = 0; r >= 0 && i < json_array_size(vfs); i++) {
		json_object *vf = json_object_array_get_idx(vfs, i);
		json_object *profile = json_get_object(vf, "xeProfile");
		char group[24], vgpu[48], quantum[32], timeout[32], vram[32];
		bool in_use = false;
		int64_t type = 0;
		(void)json_get_bool(vf, "inUse", &in_use);
		const char *state = in_use ? "in use by the host" : "free";
		if (json_get_int(vf, "vgpuType", &type) >= 0 && type > 0) {
			snprintf(vgpu, sizeof(vgpu), "vGPU type %" PRId64, type);
			state = vgpu;
		}
		const char *cells[] = {
			or_dash(json_get_string(vf, "address")),
			json_get_string(vf, "driver"),
			format_optional_int(group, sizeof(group), vf, "iommuGroup"),
			state,
			format_xe_limit(quantum, sizeof(quantum), profile, "execQuantumMs", "ms"),
			format_xe_limit(timeout, sizeof(timeout), profile, "preemptTimeoutUs",
					"us"),
			format_xe_vram(vram, sizeof(vram), profile),
		};
		r = table_add_row(&table, cells);
	}
	if (r >= 0)
		table_print(&table, stdout, 0);
	table_done(&table);
	print_vgpu_types(sriov);
	return r;
}

/* "BAR 0: 256MiB now, can be 256MiB to 16GiB" for each resizable BAR. */
static void print_rebars(json_object *gpu)
{
	json_object *bars = json_get_array(gpu, "resizableBars");

	if (json_array_size(bars) == 0)
		return;
	printf("\nResizable BARs (a VM gets each at its size when it starts)\n");
	for (size_t i = 0; i < json_array_size(bars); i++) {
		json_object *bar = json_object_array_get_idx(bars, i);
		json_object *sizes = json_get_array(bar, "sizesMiB");
		size_t n = json_array_size(sizes);
		int64_t number = 0, current = 0;
		char now[32] = "unknown", low[32] = "-", high[32] = "-";
		(void)json_get_int(bar, "bar", &number);
		if (json_get_int(bar, "currentMiB", &current) >= 0)
			format_size(now, sizeof(now), (uint64_t)current << 20);
		if (n > 0) {
			format_size(
				low, sizeof(low),
				(uint64_t)json_object_get_int64(json_object_array_get_idx(sizes, 0))
					<< 20);
			format_size(high, sizeof(high),
				    (uint64_t)json_object_get_int64(
					    json_object_array_get_idx(sizes, n - 1))
					    << 20);
		}
		printf("  BAR %" PRId64 ": %s now, can be %s to %s\n", number, now, low, high);
	}
}

static void print_mdev_types(json_object *gpu)
{
	json_object *types = json_get_array(gpu, "mdevTypes");

	if (json_array_size(types) == 0)
		return;
	printf("\nMediated device types\n");
	for (size_t i = 0; i < json_array_size(types); i++) {
		json_object *type = json_object_array_get_idx(types, i);
		json_object *instances = json_get_array(type, "instances");
		const char *name = json_get_string(type, "name");
		const char *description = json_get_string(type, "description");
		const char *api = json_get_string(type, "deviceApi");
		int64_t available = 0;
		size_t n = json_array_size(instances);

		(void)json_get_int(type, "availableInstances", &available);
		printf("  %s", or_dash(json_get_string(type, "id")));
		if (name)
			printf(" (%s)", name);
		printf(": %" PRId64 " available, %zu instance%s", available, n, n == 1 ? "" : "s");
		if (api && strcmp(api, "vfio-pci") != 0)
			printf(", device API %s (QEMU needs vfio-pci)", api);
		printf("\n");
		if (description && description[0])
			printf("      %.*s\n", (int)strcspn(description, "\n"), description);
		for (size_t k = 0; k < n; k++) {
			json_object *uuid = json_object_array_get_idx(instances, k);
			printf("      instance %s\n", json_object_is_type(uuid, json_type_string)
							      ? json_object_get_string(uuid)
							      : "?");
		}
	}
}

static void print_modes(json_object *gpu)
{
	json_object *modes = json_get_array(gpu, "modes");

	if (json_array_size(modes) == 0)
		return;
	printf("\nPartition modes\n");
	for (size_t i = 0; i < json_array_size(modes); i++) {
		json_object *mode = json_object_array_get_idx(modes, i);
		const char *capacity = json_get_string(mode, "capacity");
		const char *note = json_get_string(mode, "note");
		bool available = false;

		(void)json_get_bool(mode, "available", &available);
		printf("  %-12s ", or_dash(json_get_string(mode, "mode")));
		if (available) {
			printf("available: %s\n", or_default(capacity, "yes"));
			if (note)
				printf("  %-12s %s\n", "", note);
		} else
			printf("not available%s%s\n", note ? ": " : "", or_default(note, ""));
	}
}

/*
 * The hardware doctor: the family, then each mechanism it supports, usable
 * now or with what is missing, then its warnings.
 */
static void print_family(json_object *gpu)
{
	json_object *family = json_get_object(gpu, "family");
	json_object *mechanisms = json_get_array(family, "mechanisms");
	json_object *warnings = json_get_array(family, "warnings");

	if (!family)
		return;
	printf("\nHardware: %s\n", or_dash(json_get_string(family, "name")));
	printf("  supports:  %s\n", or_dash(json_get_string(family, "supports")));
	printf("  source:    %s\n", or_dash(json_get_string(family, "source")));
	for (size_t i = 0; i < json_array_size(mechanisms); i++) {
		json_object *m = json_object_array_get_idx(mechanisms, i);
		const char *steps = json_get_string(m, "steps");
		const char *reason = json_get_string(m, "reason");
		bool usable = false;

		(void)json_get_bool(m, "usable", &usable);
		printf("  %s", or_dash(json_get_string(m, "mechanism")));
		if (usable)
			printf(": usable now\n");
		else if (steps)
			printf(", after: %s\n", steps);
		else
			printf(": not usable: %s\n",
			       or_default(reason, "libvfio does not know why"));
	}
	for (size_t i = 0; i < json_array_size(warnings); i++) {
		json_object *warning = json_object_array_get_idx(warnings, i);
		if (json_object_is_type(warning, json_type_string))
			printf("  %snote:%s %s\n", colour_on(COLOUR_YELLOW), colour_off(),
			       json_object_get_string(warning));
	}
}

/* The GPU's warnings, then each function's, with its address. */
static void print_warnings(json_object *gpu)
{
	json_object *functions = json_get_array(gpu, "functions");
	json_object *warnings = json_get_array(gpu, "warnings");
	bool heading = false;

	for (size_t f = 0; f <= json_array_size(functions); f++) {
		json_object *function = f == 0 ? NULL : json_object_array_get_idx(functions, f - 1);
		const char *address = json_get_string(function, "address");
		json_object *list = f == 0 ? warnings : json_get_array(function, "warnings");

		/* The GPU is among the card's functions too: its warnings are said once. */
		if (f > 0 && address &&
		    strcmp(address, or_dash(json_get_string(gpu, "address"))) == 0)
			continue;
		for (size_t i = 0; i < json_array_size(list); i++) {
			json_object *warning = json_object_array_get_idx(list, i);
			if (!json_object_is_type(warning, json_type_string))
				continue;
			if (!heading)
				printf("\n%sWarnings%s\n", colour_on(COLOUR_YELLOW), colour_off());
			heading = true;
			printf("  %s%s%s\n", f > 0 && address ? address : "",
			       f > 0 && address ? ": " : "", json_object_get_string(warning));
		}
	}
}

static int print_gpu(json_object *reply)
{
	json_object *gpu = json_get_object(reply, "gpu");

	print_identity(gpu);
	/* An mdev parent outside PCI has no group, card or VFs; its mdevs have groups. */
	if (!json_get_string(gpu, "sysfsPath"))
		print_iommu_group(gpu);
	if (print_functions(gpu) < 0 || print_sriov(gpu) < 0) {
		fprintf(stderr, "vfioctl: out of memory\n");
		return EXIT_FAILED;
	}
	print_rebars(gpu);
	print_mdev_types(gpu);
	print_modes(gpu);
	print_family(gpu);
	print_warnings(gpu);
	return EXIT_OK;
}

static int run_gpu(const ClientOptions *options, int argc, char *argv[])
{
	_cleanup_json_ json_object *reply = NULL;
	char address[ARGUMENT_GPU_SIZE];

	if (argc == 0) {
		fprintf(stderr,
			"vfioctl: 'gpu' needs the PCI address of a GPU, or an mdev parent's "
			"name (see 'vfioctl gpus'), e.g. 'vfioctl gpu 0000:01:00.0'.\n");
		return EXIT_USAGE;
	}
	if (argument_gpu(argv[0], address) < 0)
		return EXIT_USAGE;

	json_object *parameters = json_object_new_object();
	if (!parameters || json_add_string(parameters, "address", address) < 0) {
		json_object_put(parameters);
		fprintf(stderr, "vfioctl: out of memory\n");
		return EXIT_FAILED;
	}
	int r = request_call(options, "io.libvfio.Host.GetGPU", parameters, &reply);
	if (r != EXIT_OK)
		return r;
	if (options->json) {
		print_json(reply);
		return EXIT_OK;
	}
	return print_gpu(reply);
}

const Command command_gpu = {
	.name = "gpu",
	.max_arguments = 1,
	.summary = "Show everything about one GPU",
	.usage = "Usage: vfioctl [--json] gpu ADDRESS\n"
		 "Shows one GPU (a virtual function too): its model, IDs, driver, IOMMU\n"
		 "group and its members, NUMA node, the other functions of the card,\n"
		 "SR-IOV virtual functions, mediated device types, and what each\n"
		 "partition mode (mdev, sriov, passthrough) offers now.\n"
		 "ADDRESS is a PCI address as 'vfioctl gpus' shows it: 0000:01:00.0, or\n"
		 "01:00.0 for domain 0; or the name of an mdev parent outside PCI (mbochs).\n",
	.run = run_gpu,
};
