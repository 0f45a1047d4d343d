/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small json-c helpers for reading replies and parameters.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put)
#define _cleanup_json_ _cleanup_(json_object_putp)

/* The string under `key` of `object` (which may be NULL), or NULL when missing or not a string. */
const char *json_get_string(json_object *object, const char *key);

/* Adds key: value; a NULL string becomes JSON null. Returns 0 or -ENOMEM. */
int json_add_string(json_object *object, const char *key, const char *value);
int json_add_int(json_object *object, const char *key, int64_t value);
/* An int that is "unknown" below zero: null then. */
int json_add_int_or_null(json_object *object, const char *key, int64_t value);
int json_add_bool(json_object *object, const char *key, bool value);
/* Adds a JSON array of the strings of a NULL-terminated list (NULL: empty array). */
int json_add_strv(json_object *object, const char *key, char *const *list);

/*
 * The object or array under `key` of `object` (which may be NULL), or NULL when
 * missing or of another type. Borrowed: valid as long as `object`.
 */
json_object *json_get_object(json_object *object, const char *key);
json_object *json_get_array(json_object *object, const char *key);

/* The number of elements of `array`: 0 when it is NULL or not an array. */
size_t json_array_size(json_object *array);

/*
 * The integer or boolean under `key` in *ret. Returns 0, or -ENOENT when the
 * key is missing, null or of another type (then *ret is left alone).
 */
int json_get_int(json_object *object, const char *key, int64_t *ret);
int json_get_bool(json_object *object, const char *key, bool *ret);
