/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "json_util.h"

#include <errno.h>

const char *json_get_string(json_object *object, const char *key)
{
	json_object *value;
	if (object && json_object_object_get_ex(object, key, &value) &&
	    json_object_is_type(value, json_type_string))
		return json_object_get_string(value);
	return NULL;
}

/* Adds value (taken) under key; a NULL value from a failed constructor is -ENOMEM. */
static int add_taken(json_object *object, const char *key, json_object *value, bool may_be_null)
{
	if (!value && !may_be_null)
		return -ENOMEM;
	if (json_object_object_add(object, key, value) < 0) {
		json_object_put(value);
		return -ENOMEM;
	}
	return 0;
}

int json_add_string(json_object *object, const char *key, const char *value)
{
	return value ? add_taken(object, key, json_object_new_string(value), false)
		     : add_taken(object, key, NULL, true);
}

int json_add_int(json_object *object, const char *key, int64_t value)
{
	return add_taken(object, key, json_object_new_int64(value), false);
}

int json_add_int_or_null(json_object *object, const char *key, int64_t value)
{
	return value < 0 ? add_taken(object, key, NULL, true) : json_add_int(object, key, value);
}

int json_add_bool(json_object *object, const char *key, bool value)
{
	return add_taken(object, key, json_object_new_boolean(value), false);
}

int json_add_strv(json_object *object, const char *key, char *const *list)
{
	json_object *array = json_object_new_array();
	if (!array)
		return -ENOMEM;
	for (size_t i = 0; list && list[i]; i++) {
		json_object *s = json_object_new_string(list[i]);
		if (!s || json_object_array_add(array, s) < 0) {
			json_object_put(s);
			json_object_put(array);
			return -ENOMEM;
		}
	}
	return add_taken(object, key, array, false);
}

/* The value under key when it has the given type; NULL otherwise. */
static json_object *get_typed(json_object *object, const char *key, json_type type)
{
	json_object *value;
	if (object && json_object_object_get_ex(object, key, &value) &&
	    json_object_is_type(value, type))
		return value;
	return NULL;
}

json_object *json_get_object(json_object *object, const char *key)
{
	return get_typed(object, key, json_type_object);
}

json_object *json_get_array(json_object *object, const char *key)
{
	return get_typed(object, key, json_type_array);
}

size_t json_array_size(json_object *array)
{
	return json_object_is_type(array, json_type_array) ? json_object_array_length(array) : 0;
}

int json_get_int(json_object *object, const char *key, int64_t *ret)
{
	json_object *value = get_typed(object, key, json_type_int);
	if (!value)
		return -ENOENT;
	*ret = json_object_get_int64(value);
	return 0;
}

int json_get_bool(json_object *object, const char *key, bool *ret)
{
	json_object *value = get_typed(object, key, json_type_boolean);
	if (!value)
		return -ENOENT;
	*ret = json_object_get_boolean(value);
	return 0;
}
