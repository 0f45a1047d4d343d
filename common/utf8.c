/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

size_t utf8_sequence_length(const char *text, size_t left)
{
	const unsigned char *p = (const unsigned char *)text;
	unsigned char c = p[0], low = 0x80, high = 0xbf;
	size_t length;

	if (left == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		length = 2;
	else if (c >= 0xe0 && c <= 0xef)
		length = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		length = 4;
	else
		return 0;
	if (c == 0xe0)
		low = 0xa0; /* overlong */
	else if (c == 0xed)
		high = 0x9f; /* surrogates */
	else if (c == 0xf0)
		low = 0x90; /* overlong */
	else if (c == 0xf4)
		high = 0x8f; /* beyond U+10FFFF */
	if (left < length || p[1] < low || p[1] > high)
		return 0;
	for (size_t i = 2; i < length; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return length;
}

/* Whether the 8 bytes at `p` are all ASCII: one test where a byte at a time costs eight. */
static bool is_ascii_word(const char *p)
{
	uint64_t word;

	memcpy(&word, p, sizeof(word)); /* unaligned: memcpy is the defined way to load it */
	return (word & UINT64_C(0x8080808080808080)) == 0;
}

bool utf8_is_valid(const char *text, size_t length)
{
	/* Replies and definitions are almost all ASCII: skip it 8 bytes at a time. */
	for (size_t i = 0, n; i < length; i += n) {
		if (length - i >= 8 && is_ascii_word(text + i)) {
			n = 8;
			continue;
		}
		n = utf8_sequence_length(text + i, length - i);
		if (n == 0)
			return false;
	}
	return true;
}

/* Whether the valid sequence of `n` bytes at `p` is a control character. */
static bool is_control(const unsigned char *p, size_t n)
{
	if (n == 1)
		return (p[0] < 0x20 && p[0] != '\t') || p[0] == 0x7f;
	return n == 2 && p[0] == 0xc2 && p[1] < 0xa0; /* U+0080 to U+009F */
}

char *utf8_printable(const char *text, size_t length, size_t max)
{
	static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
	size_t size = length * 3 < max ? length * 3 : max;
	char *out = malloc(size + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < length;) {
		size_t n = utf8_sequence_length(text + i, length - i);
		bool replace = n == 0 || is_control((const unsigned char *)text + i, n);
		size_t written = replace ? 3 : n;
		if ((size_t)(o - out) + written > size)
			break;
		memcpy(o, replace ? replacement : text + i, written);
		o += written;
		i += n ? n : 1;
	}
	*o = '\0';
	return out;
}
