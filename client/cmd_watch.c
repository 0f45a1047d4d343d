/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfioctl watch: the state of every VM, then one line per change, as
 * io.libvfio.VMs.Watch reports them, until libvfiod ends the call or
 * closes the connection, or Ctrl-C.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "json_util.h"
#include "macro.h"
#include "output.h"
#include "vm_text.h"

/* Names up to this long keep the states of a watch in one column. */
#define NAME_COLUMN_WIDTH 16
/* The longest state: "starting", "stopping". */
#define STATE_COLUMN_WIDTH 8

/* "2025-06-01 12:00:03  gaming-vm         running   pid 4242" */
static void print_change(json_object *vm)
{
	const char *name = json_get_string(vm, "name");
	const char *state = json_get_string(vm, "state");
	const char *problem = json_get_string(vm, "problem");
	char when[32] = "?";
	struct tm tm;
	time_t now = time(NULL);
	int64_t pid;

	/* The reply carries no time: this is when it arrived, which is within moments. */
	if (localtime_r(&now, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	state = state ? state : "?";
	bool has_pid = json_get_int(vm, "pid", &pid) >= 0;
	bool ended = vm_state_has_reason(state);
	bool has_problem = ended && problem && problem[0];

	printf("%s  %-*s  %s%s%s", when, NAME_COLUMN_WIDTH, name ? name : "?",
	       colour_on(vm_state_colour(state)), state, colour_off());
	/* Padded only when something follows: no line ends with spaces. */
	if (has_pid || has_problem)
		printf("%*s", (int)(STATE_COLUMN_WIDTH - MIN(strlen(state), STATE_COLUMN_WIDTH)),
		       "");
	if (has_pid)
		printf("  pid %" PRId64, pid);
	if (has_problem)
		printf("  %s", problem);
	putchar('\n');
}

typedef struct WatchCall {
	const ClientOptions *options;
} WatchCall;

static int on_watch_reply(json_object *parameters, bool continues, void *userdata)
{
	const ClientOptions *options = ((const WatchCall *)userdata)->options;

	if (options->json)
		print_json_line(parameters);
	else
		print_change(json_get_object(parameters, "vm"));
	/* Whoever reads the other end of a pipe sees each change as it happens. */
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILED;
}

static int run_watch(const ClientOptions *options, int argc, char *argv[])
{
	WatchCall call = { options };

	/* No timeout: a quiet hour is normal. */
	return request_stream(options, "io.libvfio.VMs.Watch", NULL, 0, on_watch_reply, &call);
}

const Command command_watch = {
	.name = "watch",
	.summary = "Follow the VMs' state changes as they happen",
	.usage = "Usage: vfioctl [--json] watch\n"
		 "Prints the state of every VM, then one line per change: time, VM name,\n"
		 "state, QEMU's pid while it runs, and how it ended. Runs until Ctrl-C, or\n"
		 "until libvfiod stops (exit status 1 then). With --json, each reply of\n"
		 "io.libvfio.VMs.Watch on a line of its own: {\"vm\": {...}}.\n",
	.run = run_watch,
};
