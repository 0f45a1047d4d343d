/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm_definition_notes.h"

#include <errno.h>

#include "strv.h"

#define VENDOR_INTEL 0x8086

/*
 * Windows on an Intel SR-IOV VF often stops at Code 43 without the GPU's GOP
 * ROM (strongtz/i915-sriov-dkms issues 8, 225 and 313; the hardware doctor
 * says the same of the GPU in `vfioctl check`).
 */
static bool intel_vf_without_rom(const VmDefinition *d, const VmGpu *gpu)
{
	return d->windows && gpu->vendor_id == VENDOR_INTEL && !gpu->rom &&
	       (gpu->mode == VM_GPU_SRIOV || gpu->mode == VM_GPU_AUTO);
}

int vm_definition_notes(const VmDefinition *d, char ***ret)
{
	char **notes = NULL;

	for (size_t i = 0; i < d->n_gpus; i++)
		if (intel_vf_without_rom(d, &d->gpus[i]) &&
		    strv_appendf(
			    &notes,
			    "gpu %zu: Windows on an Intel SR-IOV VF often shows Code 43 without "
			    "the GPU's GOP ROM; add rom: with its path to the entry",
			    i + 1) < 0) {
			strv_free(notes);
			return -ENOMEM;
		}
	*ret = notes;
	return 0;
}
