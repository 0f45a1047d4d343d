/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfioctl start NAME: starts a VM through io.libvfio.VMs.Start with "more",
 * showing each phase (allocating, spawning, connecting, pinning, running) on
 * one line of stderr rewritten in place when stderr is a terminal, and
 * returns once QEMU runs the guest.
 */
#include <stdio.h>
#include <string.h>

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

static int start_one(const ClientOptions *options, const char *name, void *userdata)
{
	StartCall call = { .options = options, .name = name };
	_cleanup_json_ json_object *refusal = NULL;
	const RequestHandling handling = {
		.tolerated_error = "io.libvfio.VMs.WrongState",
		.ret_tolerated = &refusal,
	};

	(void)userdata;
	json_object *parameters = request_vm_parameters(name);
	if (!parameters)
		return EXIT_FAILED;
	/* Each phase has the time of a whole request: the clock starts again at every reply. */
	int r = request_stream_with(options, "io.libvfio.VMs.Start", parameters,
				    REQUEST_TIMEOUT_USEC, &handling, on_start_reply, &call);
	if (r != REQUEST_TOLERATED)
		return r;
	/*
	 * Started already (or being started by another client): where start would
	 * leave it, so a success for scripts and units, with a note.
	 */
	const char *state = json_get_string(refusal, "state");
	if (!state || (strcmp(state, "running") != 0 && strcmp(state, "paused") != 0 &&
		       strcmp(state, "starting") != 0))
		return report_failure(
			options, "io.libvfio.VMs.WrongState", refusal, "%s",
			json_get_string(refusal, "message")
				? json_get_string(refusal, "message")
				: "The VM is in a state that does not allow a start.");
	fprintf(stderr, "vfioctl: %s is already %s.\n", name, state);
	return options->json ? vm_print_current(options, name) : EXIT_OK;
}

static int run_start(const ClientOptions *options, int argc, char *argv[])
{
	/* --wait is what start always does: see the usage. */
	return vm_names_each(options, "start", argc, argv, start_one, NULL);
}

const Command command_start = {
	.name = "start",
	.summary = "Start VMs, and wait until QEMU runs each guest",
	.usage = "Usage: vfioctl [--json] start NAME... [--wait]\n"
		 "Starts the VM NAME: allocates its GPU partitions, starts QEMU, connects\n"
		 "to it, pins the vCPUs and lets the guest run. Returns once QEMU runs the\n"
		 "guest, saying \"NAME is running (pid N)\"; on a terminal, a line shows\n"
		 "each phase meanwhile. If the start fails, what it held is released, the\n"
		 "VM is 'failed' and the message says why. A VM that is already running,\n"
		 "paused or starting is a success, with a note on stderr. Several VMs are\n"
		 "started one after the other; the exit status is the worst of them.\n"
		 "\n"
		 "  --wait  wait until QEMU runs the guest: the default, and the only way\n"
		 "          (accepted for scripts that say so)\n",
	.max_arguments = VM_NAMES_MAX,
	.options = start_options,
	.run = run_start,
};
