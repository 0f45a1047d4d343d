/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfioctl run NAME: a VM as a process, for libvfio-vm@.service (Type=notify).
 * Starts the VM, or attaches to it when it already runs; says READY=1 to
 * systemd once QEMU runs the guest; then follows io.libvfio.VMs.Watch and
 * exits when the VM ends: 0 when it stopped, 1 with the reason on stderr when
 * it crashed. The VM lives in libvfiod, not in this process: when the daemon
 * restarts (VMs survive that), the watch is opened again and the VM followed
 * on; killing this process leaves the VM running.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "arguments.h"
#include "commands.h"
#include "json_util.h"
#include "libsystemd_loader.h"
#include "progress.h"
#include "vm_text.h"

#define WRONG_STATE_ERROR "io.libvfio.VMs.WrongState"
/* How often vfioctl tries libvfiod again while it is gone. */
#define RECONNECT_INTERVAL_USEC (USEC_PER_SEC / 2)
/* Starts tried while another client's start or stop is under way: then something is wrong. */
#define START_ATTEMPTS 5

/* Returned by the watch's on_reply() to end the call: the VM reached what was waited for. */
#define WATCH_DONE 100

typedef struct RunCall {
	const ClientOptions *options;
	const char *name;
	/* Waiting for the VM to leave starting/stopping (true), or following it to its end */
	bool settling;
	/* The daemon was lost, and this is said when it is back */
	bool lost;
	/* The VM's last state the watch reported; its problem when it ended */
	char state[32];
	char problem[512];
} RunCall;

/* STATUS= for `systemctl status`; nothing outside a unit (no $NOTIFY_SOCKET). */
_printf_(1, 2) static void notify_status(const char *format, ...)
{
	char text[600];
	va_list ap;

	memcpy(text, "STATUS=", 7);
	va_start(ap, format);
	vsnprintf(text + 7, sizeof(text) - 7, format, ap);
	va_end(ap);
	(void)libsystemd_notify(text);
}

/* READY=1 once the guest runs: systemd's start job of the unit ends there. */
static void notify_ready(const char *name)
{
	char text[600];

	snprintf(text, sizeof(text), "READY=1\nSTATUS=%s is running", name);
	(void)libsystemd_notify(text);
}

static int on_start_reply(json_object *parameters, bool continues, void *userdata)
{
	RunCall *call = userdata;
	char text[512];

	const char *line = start_reply_show(call->options, call->name, parameters, continues, text,
					    sizeof(text));
	if (line)
		notify_status("%s", line);
	return EXIT_OK;
}

static int on_watch_reply(json_object *parameters, bool continues, void *userdata)
{
	RunCall *call = userdata;
	json_object *vm = json_get_object(parameters, "vm");
	const char *name = json_get_string(vm, "name");
	const char *state = json_get_string(vm, "state");
	const char *problem = json_get_string(vm, "problem");
	char text[512];

	if (!continues)
		return REQUEST_LOST; /* the daemon ended the watch: as if it went away */
	if (!name || !state || strcmp(name, call->name) != 0)
		return EXIT_OK;
	snprintf(call->state, sizeof(call->state), "%s", state);
	snprintf(call->problem, sizeof(call->problem), "%s", problem ? problem : "");
	if (call->lost) {
		fprintf(stderr, "vfioctl: libvfiod is back; %s is %s.\n", call->name, state);
		call->lost = false;
	}
	if (strcmp(state, "undefined") == 0 || vm_state_is_ended(state))
		return WATCH_DONE;
	if (call->settling)
		return strcmp(state, "starting") == 0 || strcmp(state, "stopping") == 0
			       ? EXIT_OK
			       : WATCH_DONE;
	if (call->options->json)
		print_json_line(parameters);
	else
		printf("%s\n", vm_state_text(text, sizeof(text), vm));
	notify_status("%s", vm_state_text(text, sizeof(text), vm));
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILED;
}

/*
 * Follows the VM on io.libvfio.VMs.Watch until on_watch_reply() says
 * WATCH_DONE (the state is in call->state), across restarts of libvfiod.
 * Returns EXIT_OK then, or EXIT_FAILED after reporting why it cannot follow.
 */
static int watch_vm(RunCall *call)
{
	const RequestHandling handling = { .quiet_loss = true };

	call->state[0] = '\0';
	for (;;) {
		/* No timeout: a VM may run for months without a change. */
		int r = request_stream_with(call->options, "io.libvfio.VMs.Watch", NULL, 0,
					    &handling, on_watch_reply, call);
		if (r == WATCH_DONE)
			return EXIT_OK;
		if (r != REQUEST_LOST)
			return EXIT_FAILED; /* said */
		if (!call->lost) {
			fprintf(stderr,
				"vfioctl: lost libvfiod while following %s; the VM goes on, and is "
				"followed again once libvfiod is back.\n",
				call->name);
			notify_status("Waiting for libvfiod to come back");
			call->lost = true;
		}
		usleep(RECONNECT_INTERVAL_USEC);
	}
}

/*
 * Starts the VM, or finds it running: EXIT_OK once QEMU runs the guest,
 * EXIT_FAILED (said) when the start failed or the VM cannot be had.
 */
static int start_or_attach(RunCall *call)
{
	for (unsigned attempt = 0; attempt < START_ATTEMPTS; attempt++) {
		_cleanup_json_ json_object *refusal = NULL;
		const RequestHandling handling = {
			.tolerated_error = WRONG_STATE_ERROR,
			.ret_tolerated = &refusal,
		};
		json_object *parameters = request_vm_parameters(call->name);
		if (!parameters)
			return EXIT_FAILED;
		/* Each phase has the time of a whole request: the clock starts again at every
		 * reply. */
		int r = request_stream_with(call->options, "io.libvfio.VMs.Start", parameters,
					    REQUEST_TIMEOUT_USEC, &handling, on_start_reply, call);
		if (r != REQUEST_TOLERATED)
			return r;

		/* It is already started, or another client starts or stops it now. */
		const char *state = json_get_string(refusal, "state");
		if (state && (strcmp(state, "running") == 0 || strcmp(state, "paused") == 0)) {
			printf("%s is already %s: following it.\n", call->name, state);
			return EXIT_OK;
		}
		if (!state || (strcmp(state, "starting") != 0 && strcmp(state, "stopping") != 0))
			break;
		call->settling = true;
		r = watch_vm(call);
		call->settling = false;
		if (r != EXIT_OK)
			return r;
		if (strcmp(call->state, "running") == 0 || strcmp(call->state, "paused") == 0) {
			printf("%s was started by another client: following it.\n", call->name);
			return EXIT_OK;
		}
		if (strcmp(call->state, "undefined") == 0)
			return report_failure(call->options, "io.libvfio.VMs.NoSuchVM", NULL,
					      "%s was undefined while it started or stopped.",
					      call->name);
		/* It ended (another client's start failed, or a stop finished): start it. */
	}
	return report_failure(call->options, WRONG_STATE_ERROR, NULL,
			      "%s keeps changing state under other clients; it was not started.",
			      call->name);
}

static int run_run(const ClientOptions *options, int argc, char *argv[])
{
	RunCall call = { .options = options };

	if (argument_vm_name("run", argc, argv, &call.name) < 0)
		return EXIT_USAGE;
	int r = start_or_attach(&call);
	if (r != EXIT_OK)
		return r;
	(void)fflush(stdout);
	notify_ready(call.name);

	r = watch_vm(&call);
	if (r != EXIT_OK)
		return r;
	if (strcmp(call.state, "stopped") == 0 || strcmp(call.state, "defined") == 0) {
		printf("%s stopped%s%s.\n", call.name, call.problem[0] ? ": " : "", call.problem);
		return EXIT_OK;
	}
	if (strcmp(call.state, "undefined") == 0)
		return report_failure(options, "io.libvfio.VMs.NoSuchVM", NULL,
				      "%s was undefined; there is nothing left to follow.",
				      call.name);
	return report_failure(options, "io.libvfio.VMs.Crashed", NULL, "%s crashed: %s", call.name,
			      call.problem[0] ? call.problem : "QEMU ended unexpectedly.");
}

const Command command_run = {
	.name = "run",
	.summary = "Start a VM (or attach to it) and stay until it ends",
	.usage = "Usage: vfioctl [--json] run NAME\n"
		 "Starts the VM NAME as 'vfioctl start' does, or attaches to it if it\n"
		 "already runs, then stays, printing each change of its state, until the VM\n"
		 "ends: exit status 0 when it stopped (the guest powered off, or 'vfioctl\n"
		 "stop'), 1 with the reason when it crashed or could not be started. Under\n"
		 "systemd (Type=notify, as libvfio-vm@.service) it says READY=1 once QEMU\n"
		 "runs the guest. The VM does not depend on this process: killing it leaves\n"
		 "the VM running, and when libvfiod restarts, run follows the VM on.\n",
	.max_arguments = 1,
	.run = run_run,
};
