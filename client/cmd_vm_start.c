/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfioctl start NAME: starts a VM through io.libvfio.VMs.Start with "more",
 * showing each phase (allocating, spawning, connecting, pinning, running) on
 * one line of stderr rewritten in place when stderr is a terminal, and
 * returns once QEMU runs the guest.
 */
#include <stdio.h>

#include "arguments.h"
#include "commands.h"
#include "json_util.h"
#include "progress.h"
#include "vm_text.h"

enum {
	OPTION_WAIT,
};

static const CommandOption start_options[] = {
	[OPTION_WAIT] = { "wait", false },
	{ 0 },
};

typedef struct StartCall {
	const ClientOptions *options;
	const char *name;
} StartCall;

const char *start_reply_show(const ClientOptions *options, const char *name,
			     json_object *parameters, bool continues, char *buf, size_t size)
{
	if (continues) {
		const char *line = vm_start_progress_text(buf, size, name,
							  json_get_string(parameters, "phase"));
		progress_show("%s", line);
		return line;
	}
	progress_clear();
	if (options->json)
		print_json(parameters);
	else
		printf("%s\n", vm_state_text(buf, size, json_get_object(parameters, "vm")));
	return NULL;
}

static int on_start_reply(json_object *parameters, bool continues, void *userdata)
{
	const StartCall *call = userdata;
	char text[512];

	(void)start_reply_show(call->options, call->name, parameters, continues, text,
			       sizeof(text));
	return EXIT_OK;
}

static int run_start(const ClientOptions *options, int argc, char *argv[])
{
	StartCall call = { .options = options };

	/* --wait is what start always does: see the usage. */
	if (argument_vm_name("start", argc, argv, &call.name) < 0)
		return EXIT_USAGE;
	json_object *parameters = request_vm_parameters(call.name);
	if (!parameters)
		return EXIT_FAILED;
	/* Each phase has the time of a whole request: the clock starts again at every reply. */
	return request_stream(options, "io.libvfio.VMs.Start", parameters, REQUEST_TIMEOUT_USEC,
			      on_start_reply, &call);
}

const Command command_start = {
	.name = "start",
	.summary = "Start a VM, and wait until QEMU runs the guest",
	.usage = "Usage: vfioctl [--json] start NAME [--wait]\n"
		 "Starts the VM NAME: allocates its GPU partitions, starts QEMU, connects\n"
		 "to it, pins the vCPUs and lets the guest run. Returns once QEMU runs the\n"
		 "guest, saying \"NAME is running (pid N)\"; on a terminal, a line shows\n"
		 "each phase meanwhile. If the start fails, what it held is released and\n"
		 "the message says why.\n"
		 "\n"
		 "  --wait  wait until QEMU runs the guest: the default, and the only way\n"
		 "          (accepted for scripts that say so)\n",
	.max_arguments = 1,
	.options = start_options,
	.run = run_start,
};
