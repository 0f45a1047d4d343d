/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfioctl validate FILE: reads a VM definition as libvfiod would, without the
 * daemon, and says what is wrong and where ("FILE:LINE:COLUMN: KEY: ...").
 * "-" reads standard input.
 */
#include <stdio.h>

#include "commands.h"
#include "definition_file.h"
#include "json_util.h"
#include "parse_util.h"
#include "strv.h"
#include "vm_definition_notes.h"

static int print_valid(const ClientOptions *options, const char *path, const VmDefinition *d)
{
	_cleanup_strv_ char **notes = NULL;
	char memory[32];

	if (vm_definition_notes(d, &notes) < 0) {
		fprintf(stderr, "vfioctl: out of memory\n");
		return EXIT_FAILED;
	}
	format_size(memory, sizeof(memory), d->memory);
	if (!options->json) {
		for (char **n = notes; n && *n; n++)
			printf("%s: note: %s.\n", path, *n);
		printf("%s: VM %s is valid: %u vCPU%s, %s memory, %s firmware%s%s, %zu GPU%s, "
		       "%zu disk%s.\n",
		       path, d->name, vm_definition_cpus(d), vm_definition_cpus(d) == 1 ? "" : "s",
		       memory, vm_firmware_to_string(d->firmware),
		       d->secure_boot ? " with secure boot" : "", d->tpm ? ", TPM" : "", d->n_gpus,
		       d->n_gpus == 1 ? "" : "s", d->n_disks, d->n_disks == 1 ? "" : "s");
		return EXIT_OK;
	}
	_cleanup_json_ json_object *out = json_object_new_object();
	if (!out || json_add_bool(out, "valid", true) < 0 ||
	    json_add_string(out, "name", d->name) < 0 ||
	    json_add_int(out, "cpus", vm_definition_cpus(d)) < 0 ||
	    json_add_int(out, "memoryBytes", (int64_t)d->memory) < 0 ||
	    json_add_int(out, "gpus", (int64_t)d->n_gpus) < 0 ||
	    json_add_int(out, "disks", (int64_t)d->n_disks) < 0 ||
	    json_add_strv(out, "notes", notes) < 0) {
		fprintf(stderr, "vfioctl: out of memory\n");
		return EXIT_FAILED;
	}
	print_json(out);
	return EXIT_OK;
}

static int run_validate(const ClientOptions *options, int argc, char *argv[])
{
	VmDefinition definition;
	_cleanup_free_ char *error = NULL;

	if (argc != 1) {
		fprintf(stderr, "vfioctl: say which file: 'vfioctl validate FILE' (- for standard "
				"input).\n");
		return EXIT_USAGE;
	}
	int r = definition_file_load(argv[0], &definition, NULL, &error);
	if (r >= 0) {
		r = print_valid(options, argv[0], &definition);
		vm_definition_done(&definition);
		return r;
	}
	if (!error) {
		fprintf(stderr, "vfioctl: out of memory\n");
		return EXIT_FAILED;
	}
	return report_failure(options, DEFINITION_FILE_INVALID, NULL, "%s", error);
}

const Command command_validate = {
	.name = "validate",
	.summary = "Check a VM definition file, without the daemon",
	.usage = "Usage: vfioctl [--json] validate FILE\n"
		 "Reads a VM definition (YAML) as libvfiod would and says whether it is valid;\n"
		 "if not, what is wrong and where: FILE:LINE:COLUMN: KEY: what to change.\n"
		 "FILE - reads standard input. Needs no daemon and no privileges.\n",
	.max_arguments = 1,
	.run = run_validate,
};
