/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfioctl stop, kill, pause, resume: changing the state of a VM that runs,
 * through io.libvfio.VMs. Each says the state it leaves the VM in.
 */
#include <stdio.h>

#include "arguments.h"
#include "commands.h"
#include "json_util.h"
#include "vm_text.h"

/* The longest --timeout: a guest that needs more than a day to shut down is stuck. */
#define STOP_MAX_TIMEOUT_SECONDS (24 * 60 * 60)
/*
 * Without --timeout the daemon waits its configured vms.stop-timeout, which
 * vfioctl cannot know: it waits as long as that setting may be (an hour).
 */
#define STOP_DEFAULT_TIMEOUT_SECONDS (60 * 60)

/*
 * Calls `method` with `parameters` (taken; NULL: they could not be built, and
 * that was said), waiting up to timeout_usec, and prints the VM's new state.
 */
static int call_and_report(const ClientOptions *options, const char *method,
			   json_object *parameters, uint64_t timeout_usec)
{
	_cleanup_json_ json_object *reply = NULL;
	char text[512];

	if (!parameters)
		return EXIT_FAILED;
	int r = request_call_timeout(options, method, parameters, timeout_usec, &reply);
	if (r != EXIT_OK)
		return r;
	if (options->json)
		print_json(reply);
	else
		printf("%s\n", vm_state_text(text, sizeof(text), json_get_object(reply, "vm")));
	return EXIT_OK;
}

enum {
	OPTION_FORCE,
	OPTION_TIMEOUT,
};

static const CommandOption stop_options[] = {
	[OPTION_FORCE] = { "force", false },
	[OPTION_TIMEOUT] = { "timeout", true },
	{ 0 },
};

typedef struct StopCall {
	const ClientOptions *options;
} StopCall;

static int on_stop_reply(json_object *parameters, bool continues, void *userdata)
{
	const ClientOptions *options = ((const StopCall *)userdata)->options;
	char text[512];

	if (options->json)
		print_json(parameters);
	else
		printf("%s\n",
		       vm_state_text(text, sizeof(text), json_get_object(parameters, "vm")));
	return EXIT_OK;
}

static int run_stop(const ClientOptions *options, int argc, char *argv[])
{
	const char *force = options->values[OPTION_FORCE];
	const char *timeout = options->values[OPTION_TIMEOUT];
	long long seconds = STOP_DEFAULT_TIMEOUT_SECONDS;
	const char *name;

	if (argument_vm_name("stop", argc, argv, &name) < 0)
		return EXIT_USAGE;
	if (force && timeout) {
		fprintf(stderr, "vfioctl: --force quits at once and --timeout waits for the guest; "
				"give one of them.\n");
		return EXIT_USAGE;
	}
	if (timeout &&
	    argument_whole_number("--timeout", timeout, STOP_MAX_TIMEOUT_SECONDS, &seconds) < 0)
		return EXIT_USAGE;

	json_object *parameters = request_vm_parameters(name);
	if (parameters && ((force && json_add_bool(parameters, "force", true) < 0) ||
			   (timeout && json_add_int(parameters, "timeoutSeconds", seconds) < 0))) {
		json_object_put(parameters);
		fprintf(stderr, "vfioctl: out of memory\n");
		return EXIT_FAILED;
	}
	if (!parameters)
		return EXIT_FAILED;

	/*
	 * A VM that does not run is already where stop would leave it: success, as
	 * `systemctl stop` of a stopped unit (libvfio-vm@.service's ExecStop= runs
	 * after its VM ended on its own too).
	 */
	_cleanup_json_ json_object *refusal = NULL;
	StopCall call = { options };
	const RequestHandling handling = {
		.single_reply = true,
		.tolerated_error = "io.libvfio.VMs.WrongState",
		.ret_tolerated = &refusal,
	};
	/* The daemon answers once QEMU is gone: after the guest's time, and QEMU's to quit. */
	int r = request_stream_with(options, "io.libvfio.VMs.Stop", parameters,
				    (uint64_t)seconds * USEC_PER_SEC + REQUEST_TIMEOUT_USEC,
				    &handling, on_stop_reply, &call);
	if (r != REQUEST_TOLERATED)
		return r;
	const char *state = json_get_string(refusal, "state");
	if (!state || !vm_state_is_ended(state))
		return report_failure(options, "io.libvfio.VMs.WrongState", refusal, "%s",
				      json_get_string(refusal, "message")
					      ? json_get_string(refusal, "message")
					      : "The VM is in a state that does not allow a stop.");
	if (options->json) {
		_cleanup_json_ json_object *out = json_object_new_object();
		if (!out || json_add_string(out, "name", name) < 0 ||
		    json_add_string(out, "state", state) < 0) {
			fprintf(stderr, "vfioctl: out of memory\n");
			return EXIT_FAILED;
		}
		_cleanup_json_ json_object *wrapped = json_object_new_object();
		if (!wrapped || json_object_object_add(wrapped, "vm", TAKE_PTR(out)) < 0) {
			fprintf(stderr, "vfioctl: out of memory\n");
			return EXIT_FAILED;
		}
		print_json(wrapped);
	} else
		printf("%s is not running (%s): nothing to stop.\n", name, state);
	return EXIT_OK;
}

const Command command_stop = {
	.name = "stop",
	.summary = "Shut a VM down: ACPI power button, then quit QEMU",
	.usage = "Usage: vfioctl [--json] stop NAME [--force | --timeout SECONDS]\n"
		 "Asks the guest to power down (the ACPI power button), waits for it, then\n"
		 "tells QEMU to quit, and kills it if it does not. Returns when QEMU is gone\n"
		 "and the VM's GPU partitions are released.\n"
		 "\n"
		 "  --timeout SECONDS  how long the guest has to power down (default: the\n"
		 "                     daemon's vms.stop-timeout, 60 s unless set)\n"
		 "  --force            quit QEMU at once, without asking the guest\n",
	.max_arguments = 1,
	.options = stop_options,
	.run = run_stop,
};

/* Kill, Pause, Resume: the name and nothing else. */
static int run_simple(const ClientOptions *options, const char *command, const char *method,
		      int argc, char *argv[])
{
	const char *name;

	if (argument_vm_name(command, argc, argv, &name) < 0)
		return EXIT_USAGE;
	return call_and_report(options, method, request_vm_parameters(name), REQUEST_TIMEOUT_USEC);
}

static int run_kill(const ClientOptions *options, int argc, char *argv[])
{
	return run_simple(options, "kill", "io.libvfio.VMs.Kill", argc, argv);
}

const Command command_kill = {
	.name = "kill",
	.summary = "Kill a VM's QEMU at once (SIGKILL)",
	.usage = "Usage: vfioctl [--json] kill NAME\n"
		 "Kills the VM's QEMU with SIGKILL, as pulling the power cord: the guest\n"
		 "loses what it did not write to disk. Use 'vfioctl stop' when you can.\n",
	.max_arguments = 1,
	.run = run_kill,
};

static int run_pause(const ClientOptions *options, int argc, char *argv[])
{
	return run_simple(options, "pause", "io.libvfio.VMs.Pause", argc, argv);
}

const Command command_pause = {
	.name = "pause",
	.summary = "Pause a running VM's vCPUs",
	.usage = "Usage: vfioctl [--json] pause NAME\n"
		 "Stops the VM's vCPUs; it keeps its memory and GPU partitions until\n"
		 "'vfioctl resume NAME'.\n",
	.max_arguments = 1,
	.run = run_pause,
};

static int run_resume(const ClientOptions *options, int argc, char *argv[])
{
	return run_simple(options, "resume", "io.libvfio.VMs.Resume", argc, argv);
}

const Command command_resume = {
	.name = "resume",
	.summary = "Resume a paused VM",
	.usage = "Usage: vfioctl [--json] resume NAME\n"
		 "Lets the vCPUs of a paused VM run again.\n",
	.max_arguments = 1,
	.run = run_resume,
};
