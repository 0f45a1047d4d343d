/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "parse_util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"

/* Parses the leading digits of text; *ret_end points after them. */
static int parse_digits(const char *text, uint64_t *ret, const char **ret_end)
{
	uint64_t value = 0;
	const char *p = text;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned digit = (unsigned)(*p - '0');
		if (value > (UINT64_MAX - digit) / 10)
			return -ERANGE;
		value = value * 10 + digit;
	}
	*ret = value;
	*ret_end = p;
	return 0;
}

int parse_uint64(const char *text, uint64_t *ret)
{
	const char *end;
	uint64_t value;
	int r = parse_digits(text, &value, &end);
	if (r < 0)
		return r;
	if (*end)
		return -EINVAL;
	*ret = value;
	return 0;
}

typedef struct Unit {
	const char *suffix;
	uint64_t factor;
} Unit;

static int parse_with_units(const char *text, const Unit *units, size_t n_units,
			    uint64_t bare_factor, uint64_t *ret)
{
	const char *end;
	uint64_t value, factor = 0;
	int r = parse_digits(text, &value, &end);
	if (r < 0)
		return r;

	if (*end == '\0')
		factor = bare_factor;
	for (size_t i = 0; i < n_units && factor == 0; i++)
		if (strcmp(end, units[i].suffix) == 0)
			factor = units[i].factor;
	if (factor == 0)
		return -EINVAL;
	if (value > UINT64_MAX / factor)
		return -ERANGE;
	*ret = value * factor;
	return 0;
}

int parse_size(const char *text, uint64_t *ret)
{
	static const Unit units[] = {
		{ "B", 1 },
		{ "K", UINT64_C(1) << 10 },
		{ "KiB", UINT64_C(1) << 10 },
		{ "KB", UINT64_C(1) << 10 },
		{ "M", UINT64_C(1) << 20 },
		{ "MiB", UINT64_C(1) << 20 },
		{ "MB", UINT64_C(1) << 20 },
		{ "G", UINT64_C(1) << 30 },
		{ "GiB", UINT64_C(1) << 30 },
		{ "GB", UINT64_C(1) << 30 },
		{ "T", UINT64_C(1) << 40 },
		{ "TiB", UINT64_C(1) << 40 },
		{ "TB", UINT64_C(1) << 40 },
	};
	return parse_with_units(text, units, ELEMENTSOF(units), 1, ret);
}

int parse_duration(const char *text, uint64_t *ret_usec)
{
	static const Unit units[] = {
		{ "us", 1 },
		{ "ms", USEC_PER_MSEC },
		{ "s", USEC_PER_SEC },
		{ "m", 60 * USEC_PER_SEC },
		{ "min", 60 * USEC_PER_SEC },
		{ "h", 3600 * USEC_PER_SEC },
	};
	return parse_with_units(text, units, ELEMENTSOF(units), USEC_PER_SEC, ret_usec);
}

const char *format_size(char *buf, unsigned size, uint64_t bytes)
{
	static const char *const names[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned i = 0;

	/* Only exact multiples move up a unit, so the text reads back to the same value. */
	while (i + 1 < ELEMENTSOF(names) && bytes >= 1024 && bytes % 1024 == 0) {
		bytes /= 1024;
		i++;
	}
	snprintf(buf, size, "%llu%s", (unsigned long long)bytes, names[i]);
	return buf;
}

const char *format_duration(char *buf, unsigned size, uint64_t usec)
{
	if (usec % (3600 * USEC_PER_SEC) == 0 && usec > 0)
		snprintf(buf, size, "%lluh", (unsigned long long)(usec / (3600 * USEC_PER_SEC)));
	else if (usec % (60 * USEC_PER_SEC) == 0 && usec > 0)
		snprintf(buf, size, "%llumin", (unsigned long long)(usec / (60 * USEC_PER_SEC)));
	else if (usec % USEC_PER_SEC == 0)
		snprintf(buf, size, "%llus", (unsigned long long)(usec / USEC_PER_SEC));
	else if (usec % USEC_PER_MSEC == 0)
		snprintf(buf, size, "%llums", (unsigned long long)(usec / USEC_PER_MSEC));
	else
		snprintf(buf, size, "%lluus", (unsigned long long)usec);
	return buf;
}

bool uuid_is_valid(const char *text)
{
	if (!text || strlen(text) != UUID_STRING_SIZE - 1)
		return false;
	for (size_t i = 0; i < UUID_STRING_SIZE - 1; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		char c = text[i];
		if (dash ? c != '-'
			 : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			     (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

bool sysfs_name_is_plain(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 64 || name[0] == '.')
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("_.-", *p)))
			return false;
	return true;
}

bool user_name_is_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 32 || name[0] == '-' || name[0] == '.' || strspn(name, "0123456789") == n)
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
	       n;
}
