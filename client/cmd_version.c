/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfioctl version: the client's version and the daemon's (with the kernel and
 * QEMU it found), from io.libvfio.Manager.GetVersion.
 */
#include <stdio.h>
#include <string.h>

#include "build-config.h"
#include "commands.h"
#include "json_util.h"

/* A reply field for display: "?" when the daemon left it out. */
static const char *field(json_object *object, const char *key)
{
	const char *value = json_get_string(object, key);
	return value ? value : "?";
}

static void print_text(json_object *daemon)
{
	json_object *qemu = NULL;
	const char *protocol = json_get_string(daemon, "protocolVersion");

	printf("Client:   vfioctl %s (protocol %s)\n", PROJECT_VERSION, PROTOCOL_VERSION);
	printf("Daemon:   libvfiod %s (protocol %s)\n", field(daemon, "version"),
	       field(daemon, "protocolVersion"));
	printf("Kernel:   %s\n", field(daemon, "kernelRelease"));
	(void)json_object_object_get_ex(daemon, "qemu", &qemu);
	if (json_get_string(qemu, "binary") && json_get_string(qemu, "version"))
		printf("QEMU:     %s (%s)\n", field(qemu, "version"), field(qemu, "binary"));
	else
		printf("QEMU:     not usable: %s\n", json_get_string(qemu, "problem")
							     ? field(qemu, "problem")
							     : "unknown reason");

	if (protocol && strcmp(protocol, PROTOCOL_VERSION) != 0)
		fprintf(stderr,
			"vfioctl: warning: the daemon speaks protocol %s and this vfioctl %s; "
			"install matching versions.\n",
			protocol, PROTOCOL_VERSION);
}

static int run_version(const ClientOptions *options, int argc, char *argv[])
{
	json_object *daemon = NULL;

	int r = request_call(options, "io.libvfio.Manager.GetVersion", NULL, &daemon);
	if (r != EXIT_OK)
		return r;

	if (options->json) {
		json_object *out = json_object_new_object();
		json_object *client = json_object_new_object();
		if (!out || !client) {
			json_object_put(out);
			json_object_put(client);
			json_object_put(daemon);
			fprintf(stderr, "vfioctl: out of memory\n");
			return EXIT_FAILED;
		}
		json_object_object_add(client, "version", json_object_new_string(PROJECT_VERSION));
		json_object_object_add(client, "protocolVersion",
				       json_object_new_string(PROTOCOL_VERSION));
		json_object_object_add(out, "client", client);
		json_object_object_add(out, "daemon", daemon);
		print_json(out);
		json_object_put(out);
		return EXIT_OK;
	}
	print_text(daemon);
	json_object_put(daemon);
	return EXIT_OK;
}

const Command command_version = {
	.name = "version",
	.summary = "Show the versions of vfioctl, libvfiod, the kernel and QEMU",
	.usage = "Usage: vfioctl [--json] version\n"
		 "Shows the version of vfioctl and of the daemon it talks to, with the\n"
		 "kernel release and the QEMU binary the daemon found.\n",
	.run = run_version,
};
