/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfioctl list, vfioctl status NAME: the VMs libvfiod knows, one line each,
 * or everything about one, from io.libvfio.VMs.List and Get.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "arguments.h"
#include "commands.h"
#include "json_util.h"
#include "macro.h"
#include "output.h"
#include "vm_text.h"

enum {
	COLUMN_NAME,
	COLUMN_STATE,
	COLUMN_PID,
	COLUMN_UPTIME,
	COLUMN_OWNER,
	COLUMN_AUTOSTART,
	COLUMN_PARTITIONS, /* last: a VM with several GPUs wraps there */
	_COLUMN_MAX,
};

static const char *or_dash(const char *text)
{
	return text && text[0] ? text : "-";
}

static const char *yes_no(json_object *object, const char *key)
{
	bool value = false;
	(void)json_get_bool(object, key, &value);
	return value ? "yes" : "no";
}

/* The uptime of a VM object, "-" when it does not run. */
static const char *uptime_text(char *buf, size_t size, json_object *vm)
{
	int64_t seconds;
	if (json_get_int(vm, "uptimeSeconds", &seconds) < 0)
		return "-";
	return format_uptime(buf, size, seconds);
}

static int add_vm_row(Table *table, json_object *vm)
{
	char pid[24], uptime[32];
	const char *cells[_COLUMN_MAX];

	_cleanup_free_ char *partitions = vm_partitions_text(vm);
	if (!partitions)
		return -ENOMEM;
	cells[COLUMN_NAME] = or_dash(json_get_string(vm, "name"));
	cells[COLUMN_STATE] = or_dash(json_get_string(vm, "state"));
	cells[COLUMN_PID] = format_optional_int(pid, sizeof(pid), vm, "pid");
	cells[COLUMN_UPTIME] = uptime_text(uptime, sizeof(uptime), vm);
	cells[COLUMN_OWNER] = or_dash(json_get_string(vm, "owner"));
	cells[COLUMN_AUTOSTART] = yes_no(vm, "autostart");
	cells[COLUMN_PARTITIONS] = partitions;
	return table_add_row(table, cells);
}

static int run_list(const ClientOptions *options, int argc, char *argv[])
{
	static const char *const headers[_COLUMN_MAX] = {
		"NAME", "STATE", "PID", "UPTIME", "OWNER", "AUTOSTART", "PARTITIONS",
	};
	/* Printed, then vfioctl ends: see request_keep_until_exit(). */
	_cleanup_keep_until_exit_ json_object *reply = NULL;
	Table table;

	int r = request_call(options, "io.libvfio.VMs.List", NULL, &reply);
	if (r != EXIT_OK)
		return r;
	if (options->json) {
		print_json(reply);
		return EXIT_OK;
	}
	json_object *vms = json_get_array(reply, "vms");
	if (json_array_size(vms) == 0) {
		print_legend("No VMs. Define one with 'vfioctl define FILE'.\n");
		return EXIT_OK;
	}
	table_init(&table, _COLUMN_MAX, headers);
	table.wrap_last = true;
	return table_show_rows(&table, vms, add_vm_row);
}

const Command command_list = {
	.name = "list",
	.summary = "List the VMs: state, pid, uptime, owner, partitions",
	.usage = "Usage: vfioctl [--json] list\n"
		 "Lists the VMs libvfiod knows (one definition each in /etc/libvfio/vms),\n"
		 "one per line: name, state, QEMU's pid and uptime while it runs, owner,\n"
		 "whether it starts at boot, and the GPU partitions it holds.\n"
		 "States: defined (never started), starting, running, paused, stopping,\n"
		 "stopped, crashed, failed (its start failed; 'vfioctl status NAME' says why).\n",
	.run = run_list,
};

/* "UUID:", "Partitions:", ... are padded to this width. */
#define LABEL_WIDTH 12

static int print_vm(json_object *vm)
{
	const char *state = json_get_string(vm, "state");
	const char *qmp_status = json_get_string(vm, "qmpStatus");
	const char *problem = json_get_string(vm, "problem");
	const char *display = json_get_string(vm, "display");
	const char *console = json_get_string(vm, "console");
	char pid[24], uptime[32];

	_cleanup_free_ char *partitions = vm_partitions_text(vm);
	if (!partitions) {
		fprintf(stderr, "vfioctl: out of memory\n");
		return EXIT_FAILED;
	}
	printf("%s%s%s\n", colour_on(COLOUR_BOLD), or_dash(json_get_string(vm, "name")),
	       colour_off());
	print_field(LABEL_WIDTH, "State:", "%s%s%s", colour_on(vm_state_colour(state)),
		    or_dash(state), colour_off());
	if (qmp_status)
		print_field(LABEL_WIDTH, "QEMU:", "%s", qmp_status);
	print_field(LABEL_WIDTH, "UUID:", "%s", or_dash(json_get_string(vm, "uuid")));
	print_field(LABEL_WIDTH, "PID:", "%s", format_optional_int(pid, sizeof(pid), vm, "pid"));
	print_field(LABEL_WIDTH, "Uptime:", "%s", uptime_text(uptime, sizeof(uptime), vm));
	print_field(LABEL_WIDTH, "Partitions:", "%s", partitions);
	print_field(LABEL_WIDTH, "Owner:", "%s", or_dash(json_get_string(vm, "owner")));
	print_field(LABEL_WIDTH, "Autostart:", "%s", yes_no(vm, "autostart"));
	if (display)
		print_field(LABEL_WIDTH, "Display:", "vnc+unix://%s", display);
	if (console)
		print_field(LABEL_WIDTH, "Console:", "%s", console);
	char hugepages[160];
	if (vm_hugepages_text(hugepages, sizeof(hugepages), vm))
		print_field(LABEL_WIDTH, "Hugepages:", "%s", hugepages);
	if (problem && problem[0])
		print_field(LABEL_WIDTH, "Problem:", "%s", problem);
	return EXIT_OK;
}

typedef struct StatusCall {
	bool shown; /* a VM was printed: the next one after a blank line */
} StatusCall;

static int status_one(const ClientOptions *options, const char *name, void *userdata)
{
	StatusCall *call = userdata;
	_cleanup_json_ json_object *reply = NULL;

	int r = request_vm_call(options, "io.libvfio.VMs.Get", name, &reply);
	if (r != EXIT_OK)
		return r;
	if (options->json) {
		print_json(reply);
		return EXIT_OK;
	}
	if (call->shown)
		putchar('\n');
	call->shown = true;
	return print_vm(json_get_object(reply, "vm"));
}

static int run_status(const ClientOptions *options, int argc, char *argv[])
{
	StatusCall call = { 0 };
	return vm_names_each(options, "status", argc, argv, status_one, &call);
}

const Command command_status = {
	.name = "status",
	.summary = "Show one VM: state, QEMU status, pid, uptime, partitions",
	.usage = "Usage: vfioctl [--json] status NAME...\n"
		 "Shows the VM NAME: its state, what QEMU says while it runs, its UUID,\n"
		 "pid, uptime, the GPU partitions it holds, owner, whether it starts at\n"
		 "boot, and why its last start failed or how it ended. Several VMs are\n"
		 "shown one after the other, a blank line between them.\n",
	.max_arguments = VM_NAMES_MAX,
	.run = run_status,
};
