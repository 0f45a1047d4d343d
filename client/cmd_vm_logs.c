/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfioctl logs NAME [-f] [-n N]: a VM's log as io.libvfio.VMs.Logs gives it
 * (QEMU's output and the daemon's lines about the VM), one line each, and
 * with --follow each new line as it comes, until Ctrl-C.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "arguments.h"
#include "commands.h"
#include "json_util.h"
#include "macro.h"
#include "output.h"

#define LOGS_MAX_LINES 1000

enum {
	OPTION_FOLLOW,
	OPTION_LINES,
};

static const CommandOption logs_options[] = {
	[OPTION_FOLLOW] = { "follow", false, 'f' },
	[OPTION_LINES] = { "lines", true, 'n' },
	{ 0 },
};

/* "2026-12-06 15:04:05 qemu      SeaBIOS (version ...)"; no time for a line of the file. */
static void print_entry(json_object *entry)
{
	const char *source = json_get_string(entry, "source");
	const char *message = json_get_string(entry, "message");
	int64_t usec, priority;
	char when[32] = "";
	struct tm tm;

	if (json_get_int(entry, "time", &usec) >= 0) {
		time_t seconds = (time_t)(usec / 1000000);
		if (localtime_r(&seconds, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S ", &tm);
	}
	bool loud = json_get_int(entry, "priority", &priority) >= 0 && priority <= 4;
	/* The daemon made each message printable: no control character reaches the terminal. */
	printf("%s%-8s  %s%s%s\n", when, source ? source : "?",
	       loud ? colour_on(priority <= 3 ? COLOUR_RED : COLOUR_YELLOW) : "",
	       message ? message : "", loud ? colour_off() : "");
}

typedef struct LogsCall {
	const ClientOptions *options;
} LogsCall;

static int on_logs_reply(json_object *parameters, bool continues, void *userdata)
{
	const ClientOptions *options = ((const LogsCall *)userdata)->options;
	(void)continues;

	if (options->json)
		print_json_line(parameters);
	else {
		json_object *entries = json_get_array(parameters, "entries");
		size_t n = entries ? json_object_array_length(entries) : 0;
		for (size_t i = 0; i < n; i++)
			print_entry(json_object_array_get_idx(entries, i));
	}
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILED;
}

static int run_logs(const ClientOptions *options, int argc, char *argv[])
{
	const char *follow = options->values[OPTION_FOLLOW];
	const char *lines = options->values[OPTION_LINES];
	long long n = -1;
	const char *name;

	if (argument_vm_name("logs", argc, argv, &name) < 0)
		return EXIT_USAGE;
	if (lines && argument_whole_number("--lines", lines, LOGS_MAX_LINES, &n) < 0)
		return EXIT_USAGE;
	json_object *parameters = request_vm_parameters(name);
	if (parameters && ((follow && json_add_bool(parameters, "follow", true) < 0) ||
			   (n >= 0 && json_add_int(parameters, "lines", n) < 0))) {
		json_object_put(parameters);
		parameters = NULL;
		fprintf(stderr, "vfioctl: out of memory\n");
	}
	if (!parameters)
		return EXIT_FAILED;
	LogsCall call = { options };
	if (follow) /* no timeout: a quiet hour is normal */
		return request_stream(options, "io.libvfio.VMs.Logs", parameters, 0, on_logs_reply,
				      &call);
	const RequestHandling handling = { .single_reply = true };
	return request_stream_with(options, "io.libvfio.VMs.Logs", parameters, REQUEST_TIMEOUT_USEC,
				   &handling, on_logs_reply, &call);
}

const Command command_logs = {
	.name = "logs",
	.summary = "Show a VM's log: QEMU's output and libvfiod's lines about it",
	.usage = "Usage: vfioctl [--json] logs NAME [-f|--follow] [-n|--lines N]\n"
		 "Prints the last lines of the VM's log (100, or N up to 1000): QEMU's output\n"
		 "and what libvfiod did with the VM, from the system journal, or without one\n"
		 "from QEMU's log file (then without times). With --follow, then each new line\n"
		 "as it comes, until Ctrl-C. For the VM's owner, members of access.group and\n"
		 "whom polkit allows io.libvfio.vm.control. With --json, each reply of\n"
		 "io.libvfio.VMs.Logs on a line of its own: {\"entries\": [...]}.\n",
	.max_arguments = 1,
	.options = logs_options,
	.run = run_logs,
};
