/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small json-c helpers for reading replies and parameters.
 */
#pragma once

#include <json-c/json.h>

/* The string under `key` of `object` (which may be NULL), or NULL when missing or not a string. */
const char *json_get_string(json_object *object, const char *key);
