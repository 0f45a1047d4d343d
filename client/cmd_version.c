/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfioctl version: the client's version and the daemon's (with the kernel and
 * QEMU it found), from io.libvfio.Manager.GetVersion.
 */
#include <stdio.h>
#include <string.h>

#include "build-config.h"
#include "commands.h"

static const char *get_string(json_object *object, const char *key)
{
	json_object *value;
	if (json_object_object_get_ex(object, key, &value) &&
	    json_object_is_type(value, json_type_string))
		return json_object_get_string(value);
	return NULL;
}

static void print_text(json_object *daemon)
{
	json_object *qemu = NULL;
	const char *binary = NULL, *version = NULL, *problem = NULL;

	if (json_object_object_get_ex(daemon, "qemu", &qemu)) {
		binary = get_string(qemu, "binary");
		version = get_string(qemu, "version");
		problem = get_string(qemu, "problem");
	}
	printf("Client:   vfioctl %s (protocol %s)\n", PROJECT_VERSION, PROTOCOL_VERSION);
	printf("Daemon:   libvfiod %s (protocol %s)\n",
	       get_string(daemon, "version") ? get_string(daemon, "version") : "?",
	       get_string(daemon, "protocolVersion") ? get_string(daemon, "protocolVersion") : "?");
	printf("Kernel:   %s\n",
	       get_string(daemon, "kernelRelease") ? get_string(daemon, "kernelRelease") : "?");
	if (binary && version)
		printf("QEMU:     %s (%s)\n", version, binary);
	else
		printf("QEMU:     not usable: %s\n", problem ? problem : "unknown reason");

	const char *protocol = get_string(daemon, "protocolVersion");
	if (protocol && strcmp(protocol, PROTOCOL_VERSION) != 0)
		fprintf(stderr,
			"vfioctl: warning: the daemon speaks protocol %s and this vfioctl %s; "
			"install matching versions.\n",
			protocol, PROTOCOL_VERSION);
}

static int run_version(const ClientOptions *options, int argc, char *argv[])
{
	json_object *daemon = NULL;

	if (argc > 1) {
		fprintf(stderr, "vfioctl: 'version' takes no arguments.\n");
		return EXIT_USAGE;
	}
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
