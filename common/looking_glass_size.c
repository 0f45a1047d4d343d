/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "looking_glass_size.h"

#include <errno.h>
#include <string.h>

#include "parse_util.h"

#define MIB (UINT64_C(1) << 20)

int looking_glass_parse_resolution(const char *text, unsigned *ret_width, unsigned *ret_height)
{
	char width_text[8], height_text[8];
	uint64_t width, height;
	const char *x = text ? strchr(text, 'x') : NULL;

	if (!x || x == text || (size_t)(x - text) >= sizeof(width_text) ||
	    strlen(x + 1) >= sizeof(height_text))
		return -EINVAL;
	memcpy(width_text, text, (size_t)(x - text));
	width_text[x - text] = '\0';
	strcpy(height_text, x + 1);
	if (parse_uint64(width_text, &width) < 0 || parse_uint64(height_text, &height) < 0)
		return -EINVAL;
	if (width < LOOKING_GLASS_MIN_SIDE || width > LOOKING_GLASS_MAX_SIDE ||
	    height < LOOKING_GLASS_MIN_SIDE || height > LOOKING_GLASS_MAX_SIDE ||
	    width * height > LOOKING_GLASS_MAX_PIXELS)
		return -ERANGE;
	*ret_width = (unsigned)width;
	*ret_height = (unsigned)height;
	return 0;
}

/*
 * Looking Glass's documentation ("Determining memory", in the installation
 * guide, https://looking-glass.io/docs/B6/install/#determining-memory): two
 * frames of width x height pixels at 4 bytes (32-bit SDR), in MiB, plus 10 MiB
 * for the rest of its protocol, rounded up to a power of two; 1920x1080 gives
 * 32 MiB. Sized for SDR: HDR's 8-byte pixels would need twice the frames, and
 * the memory is pinned with the guest's, so it is not given by default.
 */
uint64_t looking_glass_size(unsigned width, unsigned height)
{
	uint64_t frames = (uint64_t)width * height * 4 * 2;
	uint64_t total = (frames + MIB - 1) / MIB * MIB + 10 * MIB;
	uint64_t size = MIB;

	while (size < total)
		size <<= 1;
	return size;
}
