/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host/mdev_profile.h"

#include <ctype.h>
#include <string.h>

/* The number after `key` in text ("framebuffer=2048M", "low_gm_size: 128MB"), scaled to MiB. */
static uint64_t size_after(const char *text, const char *key)
{
	const char *p = text ? strstr(text, key) : NULL;
	uint64_t value = 0;

	if (!p)
		return 0;
	p += strlen(key);
	while (*p == ' ' || *p == '=' || *p == ':')
		p++;
	if (!isdigit((unsigned char)*p))
		return 0;
	for (; isdigit((unsigned char)*p); p++) {
		uint64_t digit = (uint64_t)(*p - '0');
		if (value > (UINT64_MAX - digit) / 10)
			return 0;
		value = value * 10 + digit;
	}
	switch (toupper((unsigned char)*p)) {
	case 'G':
		return value > UINT64_MAX / 1024 ? 0 : value * 1024;
	case 'K':
		return value / 1024;
	default: /* M, MB, or no unit: MiB */
		return value;
	}
}

/* "GRID T4-2Q", "GRID A100-4C": the GiB before the final series letter. */
static uint64_t size_in_name(const char *name)
{
	const char *dash = name ? strrchr(name, '-') : NULL;
	uint64_t gib = 0;

	if (!dash || !isdigit((unsigned char)dash[1]))
		return 0;
	const char *p = dash + 1;
	for (; isdigit((unsigned char)*p); p++)
		if ((gib = gib * 10 + (uint64_t)(*p - '0')) > 1024)
			return 0;
	/* One series letter (Q, A, B, C) ends it; anything else is not this pattern. */
	if (!isalpha((unsigned char)p[0]) || p[1] != '\0' || gib > 1024)
		return 0;
	return gib * 1024;
}

uint64_t mdev_profile_framebuffer_mib(const MdevType *type)
{
	uint64_t mib = size_after(type->description, "framebuffer");
	if (mib)
		return mib;
	mib = size_in_name(type->name);
	if (mib)
		return mib;
	/* GVT-g: the aperture (low) and the rest of graphics memory (high) a guest gets. */
	uint64_t low = size_after(type->description, "low_gm_size");
	uint64_t high = size_after(type->description, "high_gm_size");
	return low > UINT64_MAX - high ? 0 : low + high;
}

uint64_t mdev_profile_max_instances(const MdevType *type)
{
	const char *p = type->description ? strstr(type->description, "max_instance") : NULL;
	uint64_t value = 0;

	if (!p)
		return 0;
	p += strlen("max_instance");
	while (*p == ' ' || *p == '=' || *p == ':')
		p++;
	for (; isdigit((unsigned char)*p) && value < 1000000; p++)
		value = value * 10 + (uint64_t)(*p - '0');
	return value;
}
