/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "json_text.h"

#include <stdlib.h>
#include <string.h>

void json_text_reset(JsonText *t)
{
	t->size = 0;
	t->failed = false;
	if (t->data)
		t->data[0] = '\0';
}

void json_text_done(JsonText *t)
{
	free(t->data);
	*t = (JsonText){ 0 };
}

void json_text_fail(JsonText *t)
{
	t->failed = true;
}

bool json_text_reserve(JsonText *t, size_t more)
{
	if (t->failed)
		return false;
	/* Past JSON_TEXT_MAX a text is damage, not a reply: failed, without asking malloc. */
	if (more > JSON_TEXT_MAX || t->size + more + 1 > JSON_TEXT_MAX) {
		t->failed = true;
		return false;
	}
	if (t->size + more + 1 <= t->allocated)
		return true;
	size_t want = t->allocated ? t->allocated : 4096;
	while (want < t->size + more + 1)
		want *= 2;
	char *p = realloc(t->data, want);
	if (!p) {
		t->failed = true;
		return false;
	}
	t->data = p;
	t->allocated = want;
	return true;
}

void json_text_append(JsonText *t, const char *data, size_t size)
{
	if (!json_text_reserve(t, size))
		return;
	memcpy(t->data + t->size, data, size);
	t->size += size;
	t->data[t->size] = '\0';
}

void json_text_literal(JsonText *t, const char *literal)
{
	json_text_append(t, literal, strlen(literal));
}

void json_text_string(JsonText *t, const char *value)
{
	static const char hex[] = "0123456789abcdef";

	if (!value) {
		json_text_literal(t, "null");
		return;
	}
	size_t n = strlen(value);
	/* At worst every byte becomes \u00XX. */
	if (!json_text_reserve(t, n * 6 + 2))
		return;
	char *out = t->data + t->size;
	*out++ = '"';
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		unsigned char c = *p;
		if (c == '"' || c == '\\') {
			*out++ = '\\';
			*out++ = (char)c;
		} else if (c >= 0x20)
			*out++ = (char)c;
		else if (c == '\n' || c == '\t' || c == '\r' || c == '\b' || c == '\f') {
			*out++ = '\\';
			*out++ = c == '\n'   ? 'n'
				 : c == '\t' ? 't'
				 : c == '\r' ? 'r'
				 : c == '\b' ? 'b'
					     : 'f';
		} else {
			memcpy(out, "\\u00", 4);
			out[4] = hex[c >> 4];
			out[5] = hex[c & 0xf];
			out += 6;
		}
	}
	*out++ = '"';
	*out = '\0';
	t->size = (size_t)(out - t->data);
}

void json_text_int(JsonText *t, int64_t value)
{
	/* Digits from the end: a reply of 2,000 devices writes tens of thousands of numbers. */
	char buf[24], *p = buf + sizeof(buf);
	uint64_t magnitude = value < 0 ? -(uint64_t)value : (uint64_t)value;

	do {
		*--p = (char)('0' + magnitude % 10);
		magnitude /= 10;
	} while (magnitude > 0);
	if (value < 0)
		*--p = '-';
	json_text_append(t, p, (size_t)(buf + sizeof(buf) - p));
}

void json_text_int_or_null(JsonText *t, int64_t value)
{
	if (value < 0)
		json_text_literal(t, "null");
	else
		json_text_int(t, value);
}

void json_text_hex(JsonText *t, uint64_t value, unsigned digits)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 1;

	while (n < 16 && value >> (4 * n))
		n++;
	if (n < digits)
		n = digits;
	if (!json_text_reserve(t, n + 2))
		return;
	char *out = t->data + t->size;
	out[0] = '"';
	for (size_t i = n; i > 0; i--, value >>= 4)
		out[i] = hex[value & 0xf];
	out[n + 1] = '"';
	out[n + 2] = '\0';
	t->size += n + 2;
}

void json_text_bool(JsonText *t, bool value)
{
	json_text_literal(t, value ? "true" : "false");
}

void json_text_strv(JsonText *t, char *const *list)
{
	json_text_literal(t, "[");
	for (size_t i = 0; list && list[i]; i++) {
		if (i > 0)
			json_text_literal(t, ",");
		json_text_string(t, list[i]);
	}
	json_text_literal(t, "]");
}
