/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfioctl view NAME: opens a running VM's screen for its owner (and root).
 * With Looking Glass on (VMs.Get's lookingGlass) and looking-glass-client
 * installed, that client on the VM's shared memory; else the first viewer
 * installed that reaches QEMU's VNC server through the VM's Unix socket
 * (VMs.Get's display): remote-viewer (virt-viewer) or TigerVNC's viewer;
 * else how to connect. The caller's access is checked first (a connection to
 * the socket, an open of the memory), so a refusal is one sentence here, not
 * a viewer's error window. The viewer replaces vfioctl (exec), so its exit
 * status is view's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arguments.h"
#include "commands.h"
#include "json_util.h"
#include "macro.h"
#include "output.h" /* print_json() */
#include "vm_sockets.h"

enum {
	OPTION_PRINT,
	OPTION_VNC,
};

static const CommandOption view_options[] = {
	[OPTION_PRINT] = { "print", false, 0 },
	[OPTION_VNC] = { "vnc", false, 0 },
	{ 0 },
};

/* A viewer: its program, and how it takes the socket: this, then the path. */
typedef struct Viewer {
	const char *program;
	const char *prefix;
} Viewer;

static const Viewer vnc_viewers[] = {
	{ "remote-viewer", "vnc+unix://" }, /* virt-viewer */
	{ "xtigervncviewer", "" }, /* tigervnc-viewer: a path is a Unix socket */
};

/* The full path of `program` in $PATH (as execvp would find it), in `buf`; false if none. */
static bool find_program(const char *program, char *buf, size_t size)
{
	const char *path = getenv("PATH");
	if (!path || !path[0])
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path; *p;) {
		const char *end = strchrnul(p, ':');
		int n = snprintf(buf, size, "%.*s/%s", (int)(end - p), p, program);
		if (end > p && n > 0 && (size_t)n < size && buf[0] == '/' && access(buf, X_OK) == 0)
			return true;
		p = *end ? end + 1 : end;
	}
	return false;
}

/* Replaces vfioctl by `program` with `argv`; returns only on failure, after saying why. */
static int exec_viewer(const ClientOptions *options, const char *program, char *const argv[])
{
	(void)fflush(stdout);
	execv(program, argv);
	return report_failure(options, "io.libvfio.Client.ViewerFailed", NULL, "Cannot run %s: %s.",
			      program, strerror(errno));
}

static int view_looking_glass(const ClientOptions *options, json_object *vm, const char *memory)
{
	char program[4096];

	if (!find_program("looking-glass-client", program, sizeof(program)))
		return -ENOENT;
	/* The client maps it read-write: the owner's group may, nobody else (but root). */
	_cleanup_close_ int fd = open(memory, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && (errno == EACCES || errno == EPERM))
		return vm_sockets_refused(options, vm, "Looking Glass memory");
	if (fd < 0)
		return report_failure(options, "io.libvfio.Client.NotRunning", vm,
				      "Cannot open %s's Looking Glass memory %s: %s.",
				      json_get_string(vm, "name"), memory, strerror(errno));
	/* -s: no SPICE client, as the VM has no SPICE server (input comes through VNC or USB). */
	char *const argv[] = { (char *)"looking-glass-client", (char *)"-f", (char *)memory,
			       (char *)"-s", NULL };
	return exec_viewer(options, program, argv);
}

static int run_view(const ClientOptions *options, int argc, char *argv[])
{
	_cleanup_json_ json_object *vm = NULL;
	const char *name;
	char uri[4200], program[4096], argument[4200];

	if (argument_vm_name("view", argc, argv, &name) < 0)
		return EXIT_USAGE;
	int r = vm_sockets_get_running(options, name, &vm);
	if (r != EXIT_OK)
		return r;
	const char *display = json_get_string(vm, "display");
	const char *memory = json_get_string(vm, "lookingGlass");
	if (!display)
		return report_failure(options, "io.libvfio.Client.NoDisplay", vm,
				      "%s has no screen socket now (libvfiod could not make it; "
				      "'vfioctl logs %s' says why).",
				      name, name);
	/* The owner's and root's: a refusal is said here, not in a viewer's window. */
	int fd;
	r = vm_sockets_connect(options, vm, display, "screen", &fd);
	if (r != EXIT_OK)
		return r;
	close(fd);
	snprintf(uri, sizeof(uri), "vnc+unix://%s", display);
	if (options->values[OPTION_PRINT]) {
		if (options->json) {
			_cleanup_json_ json_object *out = json_object_new_object();
			if (!out || json_add_string(out, "uri", uri) < 0 ||
			    json_add_string(out, "display", display) < 0 ||
			    json_add_string(out, "lookingGlass", memory) < 0)
				return EXIT_FAILED;
			print_json(out);
		} else
			printf("%s\n", uri);
		return EXIT_OK;
	}
	if (memory && !options->values[OPTION_VNC]) {
		r = view_looking_glass(options, vm, memory);
		if (r != -ENOENT)
			return r;
		fprintf(stderr,
			"vfioctl: %s has Looking Glass on, but looking-glass-client is not "
			"installed; showing its VNC screen instead.\n",
			name);
	}
	for (size_t i = 0; i < ELEMENTSOF(vnc_viewers); i++) {
		if (!find_program(vnc_viewers[i].program, program, sizeof(program)))
			continue;
		snprintf(argument, sizeof(argument), "%s%s", vnc_viewers[i].prefix, display);
		char *const viewer_argv[] = { (char *)vnc_viewers[i].program, argument, NULL };
		return exec_viewer(options, program, viewer_argv);
	}
	return report_failure(options, "io.libvfio.Client.NoViewer", vm,
			      "No VNC viewer is installed. Install virt-viewer (remote-viewer) "
			      "or tigervnc-viewer and run 'vfioctl view %s' again, or point a "
			      "viewer that takes a Unix socket at %s.",
			      name, uri);
}

const Command command_view = {
	.name = "view",
	.summary = "Open a VM's screen in a viewer (its owner and root)",
	.usage = "Usage: vfioctl view NAME [--print] [--vnc]\n"
		 "Opens the screen of the running VM NAME: with Looking Glass on, in\n"
		 "looking-glass-client (when installed); else in the first VNC viewer\n"
		 "installed of remote-viewer (virt-viewer) and xtigervncviewer\n"
		 "(tigervnc-viewer), through the VM's Unix socket. Without one, says how\n"
		 "to connect. For the VM's owner and root. The viewer's exit status is\n"
		 "view's.\n"
		 "  --print  only print the screen's address (vnc+unix://PATH)\n"
		 "  --vnc    the VNC screen even when Looking Glass is on\n",
	.max_arguments = 1,
	.options = view_options,
	.run = run_view,
};
