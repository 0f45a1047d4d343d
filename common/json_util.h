/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small json-c helpers for reading replies and parameters.
 */
#pragma once

#include <json-c/json.h>

#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, json_object_put)
#define _cleanup_json_ _cleanup_(json_object_putp)

/* The string under `key` of `object` (which may be NULL), or NULL when missing or not a string. */
const char *json_get_string(json_object *object, const char *key);
