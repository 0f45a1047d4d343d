/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "json_util.h"

const char *json_get_string(json_object *object, const char *key)
{
	json_object *value;
	if (object && json_object_object_get_ex(object, key, &value) &&
	    json_object_is_type(value, json_type_string))
		return json_object_get_string(value);
	return NULL;
}
