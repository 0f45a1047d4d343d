/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hardware doctor: for one GPU, its family (gpu_family.c), each
 * partition mechanism the family supports, whether this host can use it now,
 * and what is missing on Debian 12 to get it (kernel command-line words in
 * /etc/default/grub, modules and modules-load.d, out-of-tree DKMS packages
 * and their Secure Boot key, vendor-reset). It sits beside gpu_modes.c, which
 * says what is free now; the doctor says what the hardware could do. A pure
 * function of the host model: no I/O.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "host/gpu_family.h"
#include "host/gpu_modes.h"
#include "host/host.h"

typedef struct GpuAdvice {
	char *mechanism; /* "SR-IOV, up to 7 VFs" */
	/* the partition mode it gives, or _PARTITION_MODE_MAX (a reset, not a mode) */
	PartitionModeKind mode;
	bool usable; /* this host can use it now */
	char *reason; /* why not, when not usable; NULL when unknown */
	char *steps; /* what to do, in order, when not usable; NULL when nothing libvfio knows */
} GpuAdvice;

typedef struct GpuDoctor {
	const GpuFamily *family;
	GpuAdvice *advice; /* one per mechanism of the family, best first */
	size_t n_advice;
	char **warnings; /* strv: resets, guests, kernels */
} GpuDoctor;

/* Examines a physical function. Returns 0 or -ENOMEM. */
int gpu_doctor_examine(const HostModel *model, const PciFunction *gpu, GpuDoctor *ret);
void gpu_doctor_done(GpuDoctor *doctor);
