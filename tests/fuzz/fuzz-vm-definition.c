/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VM definition as a user writes it (vfioctl define / validate, /etc/libvfio/vms):
 * any text is read, refused with a message, or accepted, and everything freed.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "vm_definition.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	VmDefinition definition;
	char *error = NULL;

	if (size > VM_DEFINITION_MAX_FILE_SIZE)
		return 0; /* the readers refuse larger files before parsing them */
	if (vm_definition_load_string((const char *)data, size, "<fuzz>", &definition, &error) ==
	    0) {
		(void)vm_definition_cpus(&definition);
		vm_definition_done(&definition);
	}
	free(error);
	return 0;
}
