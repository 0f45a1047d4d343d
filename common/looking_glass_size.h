/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Looking Glass's shared-memory size for a guest resolution: the formula its
 * documentation gives, and the resolutions libvfio accepts. Pure: no I/O, no
 * logging.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Resolutions accepted, inclusive: 640x480 up to 8K (7680x4320), either way round. */
#define LOOKING_GLASS_MIN_SIDE 480U
#define LOOKING_GLASS_MAX_SIDE 7680U
#define LOOKING_GLASS_MAX_PIXELS (7680U * 4320U)

/* The size `looking-glass: on` means: the documentation's own example, 1920x1080. */
#define LOOKING_GLASS_DEFAULT_WIDTH 1920U
#define LOOKING_GLASS_DEFAULT_HEIGHT 1080U

/*
 * Parses "WIDTHxHEIGHT" ("2560x1440"): decimal, no sign, no spaces. Returns 0,
 * -EINVAL when the text is not of that form, -ERANGE when a side or the area
 * is outside the bounds above.
 */
int looking_glass_parse_resolution(const char *text, unsigned *ret_width, unsigned *ret_height);

/*
 * The shared-memory size in bytes for frames of width x height, 32-bit (SDR)
 * pixels, a power of two. The resolution must be within the bounds above.
 */
uint64_t looking_glass_size(unsigned width, unsigned height);
