/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfioctl stop, kill, pause, resume, reboot, reset: changing the state of VMs
 * that run, through io.libvfio.VMs. Each takes one or more names, acts on
 * each in turn, says the state it leaves each VM in (or, with --json, prints
 * one JSON object per VM), and exits with the worst status of them.
 */
#include <stdio.h>
#include <string.h>

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

int vm_names_each(const ClientOptions *options, const char *command, int argc, char *argv[],
		  int (*one)(const ClientOptions *options, const char *name, void *userdata),
		  void *userdata)
{
	int worst = EXIT_OK;

	if (argc < 1) {
		fprintf(stderr,
			"vfioctl: say which VM: 'vfioctl %s NAME...' ('vfioctl list' shows "
			"them).\n",
			command);
		return EXIT_USAGE;
	}
	/* Every name is checked before the first is acted on: a typo changes nothing. */
	for (int i = 0; i < argc; i++) {
		const char *name;
		if (argument_vm_name(command, 1, &argv[i], &name) < 0)
			return EXIT_USAGE;
	}
	for (int i = 0; i < argc; i++) {
		int r = one(options, argv[i], userdata);
		if (r > worst)
			worst = r;
	}
	return worst;
}

int vm_print_current(const ClientOptions *options, const char *name)
{
	_cleanup_json_ json_object *reply = NULL;
	int r = request_vm_call(options, "io.libvfio.VMs.Get", name, &reply);
	if (r == EXIT_OK)
		print_json(reply);
	return r;
}

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
	const char *name;
	bool force;
	const char *timeout;
	long long seconds;
} StopCall;

static int on_stop_reply(json_object *parameters, bool continues, void *userdata)
{
	const StopCall *call = userdata;
	const char *ended = json_get_string(parameters, "ended");
	char text[512];

	(void)continues;
	if (call->options->json)
		print_json(parameters);
	else
		printf("%s\n",
		       vm_state_text(text, sizeof(text), json_get_object(parameters, "vm")));
	/* Quitting is what --force asks for: only a QEMU that had to be killed is news then. */
	if (ended && strcmp(ended, "killed") == 0) {
		(void)fflush(stdout);
		fprintf(stderr, "vfioctl: %s: %s; QEMU had to be killed.\n", call->name,
			call->force ? "QEMU did not quit" : "the guest did not shut down in time");
		return EXIT_STOP_NOT_CLEAN;
	}
	if (ended && strcmp(ended, "quit") == 0 && !call->force) {
		(void)fflush(stdout);
		fprintf(stderr,
			"vfioctl: %s: the guest did not shut down in time; QEMU was told to "
			"quit.\n",
			call->name);
		return EXIT_STOP_NOT_CLEAN;
	}
	return EXIT_OK;
}

static int stop_one(const ClientOptions *options, const char *name, void *userdata)
{
	StopCall call = *(const StopCall *)userdata;
	call.name = name;

	json_object *parameters = request_vm_parameters(name);
	if (parameters &&
	    ((call.force && json_add_bool(parameters, "force", true) < 0) ||
	     (call.timeout && json_add_int(parameters, "timeoutSeconds", call.seconds) < 0))) {
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
	const RequestHandling handling = {
		.single_reply = true,
		.tolerated_error = "io.libvfio.VMs.WrongState",
		.ret_tolerated = &refusal,
	};
	/* The daemon answers once QEMU is gone: after the guest's time, and QEMU's to quit. */
	int r = request_stream_with(options, "io.libvfio.VMs.Stop", parameters,
				    (uint64_t)call.seconds * USEC_PER_SEC + REQUEST_TIMEOUT_USEC,
				    &handling, on_stop_reply, &call);
	if (r != REQUEST_TOLERATED)
		return r;
	const char *state = json_get_string(refusal, "state");
	if (!state || !vm_state_is_ended(state))
		return report_failure(options, "io.libvfio.VMs.WrongState", refusal, "%s",
				      json_get_string(refusal, "message")
					      ? json_get_string(refusal, "message")
					      : "The VM is in a state that does not allow a stop.");
	fprintf(stderr, "vfioctl: %s is not running (%s): nothing to stop.\n", name, state);
	return options->json ? vm_print_current(options, name) : EXIT_OK;
}

static int run_stop(const ClientOptions *options, int argc, char *argv[])
{
	const char *force = options->values[OPTION_FORCE];
	StopCall call = { .options = options,
			  .force = force != NULL,
			  .timeout = options->values[OPTION_TIMEOUT],
			  .seconds = STOP_DEFAULT_TIMEOUT_SECONDS };

	if (force && call.timeout) {
		fprintf(stderr, "vfioctl: --force quits at once and --timeout waits for the guest; "
				"give one of them.\n");
		return EXIT_USAGE;
	}
	if (call.timeout && argument_whole_number("--timeout", call.timeout,
						  STOP_MAX_TIMEOUT_SECONDS, &call.seconds) < 0)
		return EXIT_USAGE;
	return vm_names_each(options, "stop", argc, argv, stop_one, &call);
}

const Command command_stop = {
	.name = "stop",
	.summary = "Shut a VM down: ACPI power button, then quit QEMU",
	.usage = "Usage: vfioctl [--json] stop NAME... [--force | --timeout SECONDS]\n"
		 "Asks the guest to power down (the ACPI power button), waits for it, then\n"
		 "tells QEMU to quit, and kills it if it does not. Returns when QEMU is gone\n"
		 "and the VM's GPU partitions are released. A VM that does not run is a\n"
		 "success, with a note on stderr. Several VMs are stopped one after the other.\n"
		 "\n"
		 "  --timeout SECONDS  how long the guest has to power down (default: the\n"
		 "                     daemon's vms.stop-timeout, 60 s unless set)\n"
		 "  --force            quit QEMU at once, without asking the guest\n"
		 "\n"
		 "Exit status: 0 when the guest powered off (or, with --force, QEMU quit), or\n"
		 "the VM did not run; 3, with a note on stderr, when QEMU had to be told to\n"
		 "quit (the guest did not shut down in time) or killed; 1 on failure.\n",
	.max_arguments = VM_NAMES_MAX,
	.options = stop_options,
	.run = run_stop,
};

/* Kill, Pause, Resume, Reboot, Reset: the names and nothing else. */
static int simple_one(const ClientOptions *options, const char *name, void *userdata)
{
	return call_and_report(options, userdata, request_vm_parameters(name),
			       REQUEST_TIMEOUT_USEC);
}

static int run_simple(const ClientOptions *options, const char *command, const char *method,
		      int argc, char *argv[])
{
	return vm_names_each(options, command, argc, argv, simple_one, (void *)method);
}

static int run_kill(const ClientOptions *options, int argc, char *argv[])
{
	return run_simple(options, "kill", "io.libvfio.VMs.Kill", argc, argv);
}

const Command command_kill = {
	.name = "kill",
	.summary = "Kill a VM's QEMU at once (SIGKILL)",
	.usage = "Usage: vfioctl [--json] kill NAME...\n"
		 "Kills the VM's QEMU with SIGKILL, as pulling the power cord: the guest\n"
		 "loses what it did not write to disk. Use 'vfioctl stop' when you can.\n",
	.max_arguments = VM_NAMES_MAX,
	.run = run_kill,
};

static int run_pause(const ClientOptions *options, int argc, char *argv[])
{
	return run_simple(options, "pause", "io.libvfio.VMs.Pause", argc, argv);
}

const Command command_pause = {
	.name = "pause",
	.summary = "Pause a running VM's vCPUs",
	.usage = "Usage: vfioctl [--json] pause NAME...\n"
		 "Stops the VM's vCPUs; it keeps its memory and GPU partitions until\n"
		 "'vfioctl resume NAME'.\n",
	.max_arguments = VM_NAMES_MAX,
	.run = run_pause,
};

static int run_resume(const ClientOptions *options, int argc, char *argv[])
{
	return run_simple(options, "resume", "io.libvfio.VMs.Resume", argc, argv);
}

const Command command_resume = {
	.name = "resume",
	.summary = "Resume a paused VM",
	.usage = "Usage: vfioctl [--json] resume NAME...\n"
		 "Lets the vCPUs of a paused VM run again.\n",
	.max_arguments = VM_NAMES_MAX,
	.run = run_resume,
};

static int run_reboot(const ClientOptions *options, int argc, char *argv[])
{
	return run_simple(options, "reboot", "io.libvfio.VMs.Reboot", argc, argv);
}

const Command command_reboot = {
	.name = "reboot",
	.summary = "Reboot a running VM's guest (ACPI)",
	.usage = "Usage: vfioctl [--json] reboot NAME...\n"
		 "Asks the guest to shut down (the ACPI power button) and, once it has,\n"
		 "resets it and lets it run again instead of ending the VM: the same QEMU,\n"
		 "the same GPU partitions. Returns once the button is pressed; a guest that\n"
		 "does not answer keeps running ('vfioctl reset' does not ask it), and\n"
		 "after the daemon's vms.stop-timeout the reboot is given up: a later\n"
		 "power-off ends the VM.\n",
	.max_arguments = VM_NAMES_MAX,
	.run = run_reboot,
};

static int run_reset(const ClientOptions *options, int argc, char *argv[])
{
	return run_simple(options, "reset", "io.libvfio.VMs.Reset", argc, argv);
}

const Command command_reset = {
	.name = "reset",
	.summary = "Reset a running VM, as its reset button",
	.usage = "Usage: vfioctl [--json] reset NAME...\n"
		 "Resets the VM at once, as pressing its reset button: the guest starts\n"
		 "again from its firmware, losing what it did not write to disk. The same\n"
		 "QEMU keeps running, with the same GPU partitions.\n",
	.max_arguments = VM_NAMES_MAX,
	.run = run_reset,
};
