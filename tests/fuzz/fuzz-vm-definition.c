/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VM definition as a user writes it (vfioctl define / validate, /etc/libvfio/vms):
 * any text is read, refused with a message, or accepted, and everything freed.
 * The same text through vfioctl autostart's rewrite (vm_definition_edit.h): refused,
 * or, for a valid definition, still valid with the autostart asked for.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "vm_definition.h"
#include "vm_definition_edit.h"

static void set_autostart(const char *text, size_t size, bool valid, bool autostart)
{
	VmDefinition definition;
	char *changed = NULL, *error = NULL;
	size_t changed_size;

	if (vm_definition_set_autostart(text, size, autostart, &changed, &changed_size) < 0)
		return;
	int r = vm_definition_load_string(changed, changed_size, "<fuzz>", &definition, &error);
	if (valid && (r < 0 || definition.autostart != autostart))
		abort(); /* the rewrite broke a valid definition */
	if (r == 0)
		vm_definition_done(&definition);
	free(error);
	free(changed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	VmDefinition definition;
	char *error = NULL;
	bool valid = false;

	if (size > VM_DEFINITION_MAX_FILE_SIZE)
		return 0; /* the readers refuse larger files before parsing them */
	if (vm_definition_load_string((const char *)data, size, "<fuzz>", &definition, &error) ==
	    0) {
		(void)vm_definition_cpus(&definition);
		vm_definition_done(&definition);
		valid = true;
	}
	free(error);
	set_autostart((const char *)data, size, valid, true);
	set_autostart((const char *)data, size, valid, false);
	return 0;
}
