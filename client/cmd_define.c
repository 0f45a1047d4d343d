/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfioctl define FILE, vfioctl undefine NAME: storing a VM definition with
 * libvfiod (io.libvfio.VMs.Define), checked here first so that a mistake
 * names the user's file, and removing one.
 */
#include <stdio.h>

#include "arguments.h"
#include "commands.h"
#include "definition_file.h"
#include "json_util.h"
#include "macro.h"

static int run_define(const ClientOptions *options, int argc, char *argv[])
{
	_cleanup_json_ json_object *reply = NULL;
	_cleanup_free_ char *text = NULL, *error = NULL;
	VmDefinition definition;

	if (argc != 1) {
		fprintf(stderr, "vfioctl: say which file: 'vfioctl define FILE' (- for standard "
				"input).\n");
		return EXIT_USAGE;
	}
	/* libvfiod checks it again, but could only name it "<definition>". */
	int r = definition_file_load(argv[0], &definition, &text, &error);
	if (r < 0) {
		if (!error) {
			fprintf(stderr, "vfioctl: out of memory\n");
			return EXIT_FAILED;
		}
		return report_failure(options, DEFINITION_FILE_INVALID, NULL, "%s", error);
	}
	vm_definition_done(&definition);

	json_object *parameters = json_object_new_object();
	if (!parameters || json_add_string(parameters, "definition", text) < 0) {
		json_object_put(parameters);
		fprintf(stderr, "vfioctl: out of memory\n");
		return EXIT_FAILED;
	}
	r = request_call(options, "io.libvfio.VMs.Define", parameters, &reply);
	if (r != EXIT_OK)
		return r;
	if (options->json) {
		print_json(reply);
		return EXIT_OK;
	}
	json_object *vm = json_get_object(reply, "vm");
	const char *name = json_get_string(vm, "name");
	const char *uuid = json_get_string(vm, "uuid");
	int64_t pid = 0;
	printf("Defined %s (uuid %s)\n", name ? name : "?", uuid ? uuid : "?");
	/* A running QEMU keeps what it was started with. */
	if (json_get_int(vm, "pid", &pid) >= 0 && pid > 0)
		printf("%s runs now; the new definition applies when it next starts.\n",
		       name ? name : "The VM");
	return EXIT_OK;
}

const Command command_define = {
	.name = "define",
	.summary = "Define a VM from a YAML file, or replace its definition",
	.usage = "Usage: vfioctl [--json] define FILE\n"
		 "Checks the VM definition FILE (YAML; - reads standard input) as 'vfioctl\n"
		 "validate' does, then has libvfiod store it as NAME.yaml in its VM\n"
		 "directory (/etc/libvfio/vms unless configured). A definition without a\n"
		 "uuid gets one there (FILE is not changed). A VM of the same name is\n"
		 "replaced when the uuids match or FILE has none.\n",
	.max_arguments = 1,
	.run = run_define,
};

static int run_undefine(const ClientOptions *options, int argc, char *argv[])
{
	_cleanup_json_ json_object *reply = NULL;
	const char *name;

	if (argument_vm_name("undefine", argc, argv, &name) < 0)
		return EXIT_USAGE;
	int r = request_vm_call(options, "io.libvfio.VMs.Undefine", name, &reply);
	if (r != EXIT_OK)
		return r;
	if (options->json)
		print_json(reply);
	else
		printf("Undefined %s\n", name);
	return EXIT_OK;
}

const Command command_undefine = {
	.name = "undefine",
	.summary = "Remove the definition of a VM that is not running",
	.usage = "Usage: vfioctl [--json] undefine NAME\n"
		 "Removes the definition of the VM NAME from libvfiod's VM directory.\n"
		 "Refused while the VM runs: stop it first.\n",
	.max_arguments = 1,
	.run = run_undefine,
};
