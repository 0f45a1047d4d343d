/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What an mdev type offers, read from where vendors write it: the framebuffer
 * size and how many instances one GPU takes. NVIDIA puts both in the
 * description ("num_heads=4, frl_config=60, framebuffer=2048M,
 * max_resolution=7680x4320, max_instance=8") and the size in the name
 * ("GRID T4-2Q"); Intel GVT-g describes the aperture ("low_gm_size: 128MB",
 * "high_gm_size: 512MB"). Pure functions.
 */
#pragma once

#include <stdint.h>

#include "host/host.h"

/* The framebuffer in MiB, or 0 when the type does not say. */
uint64_t mdev_profile_framebuffer_mib(const MdevType *type);

/* How many instances of this type one GPU holds at most, or 0 when the type does not say. */
uint64_t mdev_profile_max_instances(const MdevType *type);
