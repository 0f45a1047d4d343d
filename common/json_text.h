/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * JsonText: JSON written straight into one growing buffer, for replies too
 * large to build cheaply as json-c objects (List of 1,000 VMs: tens of
 * thousands of small allocations per call otherwise). The buffer is kept
 * across uses (json_text_reset()), so a steady caller allocates nothing.
 * Strings are escaped as json-c escapes them. An append that runs out of
 * memory marks the text failed and the rest are skipped: check once, at the
 * end. The caller writes the punctuation (commas, colons) itself.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest text: far above any reply the Varlink server lets out (its own limits). */
#define JSON_TEXT_MAX ((size_t)1 << 30)

typedef struct JsonText {
	char *data; /* NUL-terminated when !failed */
	size_t size, allocated;
	bool failed;
} JsonText;

/* Empty again, keeping the buffer. */
void json_text_reset(JsonText *text);
/* Frees the buffer. */
void json_text_done(JsonText *text);

/* Marks the text failed (a writer's own step ran out of memory): the rest is skipped. */
void json_text_fail(JsonText *text);
/* Room for `more` bytes more (and a NUL) at once; false when out of memory or past JSON_TEXT_MAX
 * (failed). */
bool json_text_reserve(JsonText *text, size_t more);
void json_text_append(JsonText *text, const char *data, size_t size);
/* A literal: json_text_literal(t, "{\"vms\":[") */
void json_text_literal(JsonText *text, const char *literal);
/* A JSON string, or null for NULL. */
void json_text_string(JsonText *text, const char *value);
void json_text_int(JsonText *text, int64_t value);
/* An integer, or null when value < 0. */
void json_text_int_or_null(JsonText *text, int64_t value);
/* A string of `value` in lower-case hex, at least `digits` digits (as "%0*x"): "8086". */
void json_text_hex(JsonText *text, uint64_t value, unsigned digits);
void json_text_bool(JsonText *text, bool value);
/* An array of strings ([] for NULL). */
void json_text_strv(JsonText *text, char *const *list);
