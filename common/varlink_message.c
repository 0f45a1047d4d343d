/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "varlink_message.h"

#include <errno.h>
#include <string.h>

#include "macro.h"

/* A string that C code would read only up to a NUL inside it. */
static bool has_nul(json_object *string)
{
	return strlen(json_object_get_string(string)) != (size_t)json_object_get_string_len(string);
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9');
}

/*
 * The grammar of varlink.org: dot-separated labels, at least two; the first
 * starts with a letter, the others with a letter or digit; dashes only inside
 * a label, never last.
 */
bool varlink_interface_name_is_valid(const char *name, size_t length)
{
	if (length == 0 || length > VARLINK_MAX_NAME || !is_alpha(name[0]))
		return false;

	size_t labels = 1;
	bool label_start = true;
	for (size_t i = 0; i < length; i++) {
		char c = name[i];
		if (c == '.') {
			if (label_start || name[i - 1] == '-')
				return false;
			labels++;
			label_start = true;
			continue;
		}
		if (c == '-') {
			if (label_start)
				return false;
			continue;
		}
		if (!is_alnum(c))
			return false;
		label_start = false;
	}
	return labels >= 2 && !label_start && name[length - 1] != '-';
}

bool varlink_member_name_is_valid(const char *name)
{
	const char *dot = strrchr(name, '.');
	if (!dot || strlen(name) > VARLINK_MAX_NAME)
		return false;
	if (!varlink_interface_name_is_valid(name, (size_t)(dot - name)))
		return false;

	const char *member = dot + 1;
	if (!(member[0] >= 'A' && member[0] <= 'Z'))
		return false;
	for (const char *p = member; *p; p++)
		if (!is_alnum(*p))
			return false;
	return true;
}

/* Adds key → value to object, taking value; frees it on failure. */
static int add(json_object *object, const char *key, json_object *value)
{
	if (!value || json_object_object_add(object, key, value) < 0) {
		json_object_put(value);
		return -ENOMEM;
	}
	return 0;
}

/* Reads an optional boolean key; a missing key or null is false. */
static int get_optional_bool(json_object *message, const char *key, bool *ret)
{
	json_object *value;

	*ret = false;
	if (!json_object_object_get_ex(message, key, &value) || !value)
		return 0;
	if (!json_object_is_type(value, json_type_boolean))
		return -EBADMSG;
	*ret = json_object_get_boolean(value);
	return 0;
}

/*
 * "parameters" must be an object when present. Absent or null means {}: an
 * empty object is then added to the message, so the result is always borrowed.
 */
static int get_parameters(json_object *message, json_object **ret)
{
	json_object *value;

	if (!json_object_object_get_ex(message, "parameters", &value) || !value) {
		value = json_object_new_object();
		if (add(message, "parameters", value) < 0)
			return -ENOMEM;
		*ret = value;
		return 0;
	}
	if (!json_object_is_type(value, json_type_object))
		return -EBADMSG;
	*ret = value;
	return 0;
}

int varlink_call_parse(json_object *message, VarlinkCallMessage *ret, const char **ret_bad_key)
{
	VarlinkCallMessage call = { 0 };
	json_object *method;
	int r;

	*ret_bad_key = "method";
	if (!json_object_object_get_ex(message, "method", &method) ||
	    !json_object_is_type(method, json_type_string) || has_nul(method))
		return -EBADMSG;
	call.method = json_object_get_string(method);
	if (!varlink_member_name_is_valid(call.method))
		return -EBADMSG;
	call.interface_length = (size_t)(strrchr(call.method, '.') - call.method);

	*ret_bad_key = "parameters";
	r = get_parameters(message, &call.parameters);
	if (r < 0)
		return r;

	*ret_bad_key = "more";
	if (get_optional_bool(message, "more", &call.more) < 0)
		return -EBADMSG;
	*ret_bad_key = "oneway";
	if (get_optional_bool(message, "oneway", &call.oneway) < 0)
		return -EBADMSG;
	if (call.more && call.oneway)
		return -EBADMSG;

	/* "upgrade" hands the connection over to another protocol; we speak only Varlink. */
	bool upgrade;
	*ret_bad_key = "upgrade";
	if (get_optional_bool(message, "upgrade", &upgrade) < 0 || upgrade)
		return -EBADMSG;

	*ret_bad_key = NULL;
	*ret = call;
	return 0;
}

int varlink_reply_parse(json_object *message, VarlinkReplyMessage *ret)
{
	VarlinkReplyMessage reply = { 0 };
	json_object *error;

	if (json_object_object_get_ex(message, "error", &error) && error) {
		if (!json_object_is_type(error, json_type_string) || has_nul(error) ||
		    !varlink_member_name_is_valid(json_object_get_string(error)))
			return -EBADMSG;
		reply.error = json_object_get_string(error);
	}
	int r = get_parameters(message, &reply.parameters);
	if (r < 0)
		return r;
	if (get_optional_bool(message, "continues", &reply.continues) < 0)
		return -EBADMSG;
	*ret = reply;
	return 0;
}

static json_object *with_parameters(json_object *message, json_object *parameters)
{
	if (!message) {
		json_object_put(parameters);
		return NULL;
	}
	if (!parameters)
		parameters = json_object_new_object();
	if (add(message, "parameters", parameters) < 0)
		return json_object_put(message), NULL;
	return message;
}

json_object *varlink_call_new(const char *method, json_object *parameters, unsigned flags)
{
	json_object *message = json_object_new_object();
	if (!message || add(message, "method", json_object_new_string(method)) < 0 ||
	    ((flags & VARLINK_CALL_MORE) && add(message, "more", json_object_new_boolean(1)) < 0) ||
	    ((flags & VARLINK_CALL_ONEWAY) &&
	     add(message, "oneway", json_object_new_boolean(1)) < 0)) {
		json_object_put(message);
		json_object_put(parameters);
		return NULL;
	}
	return with_parameters(message, parameters);
}

json_object *varlink_reply_new(json_object *parameters, bool continues)
{
	json_object *message = json_object_new_object();
	if (message && continues && add(message, "continues", json_object_new_boolean(1)) < 0) {
		json_object_put(message);
		message = NULL;
	}
	return with_parameters(message, parameters);
}

json_object *varlink_error_new(const char *error, json_object *parameters)
{
	json_object *message = json_object_new_object();
	if (message && add(message, "error", json_object_new_string(error)) < 0) {
		json_object_put(message);
		message = NULL;
	}
	return with_parameters(message, parameters);
}

static json_object *error_with_string(const char *error, const char *key, const char *value)
{
	json_object *parameters = json_object_new_object();
	if (parameters && add(parameters, key, json_object_new_string(value)) < 0) {
		json_object_put(parameters);
		return NULL;
	}
	return parameters ? varlink_error_new(error, parameters) : NULL;
}

json_object *varlink_error_invalid_parameter(const char *parameter)
{
	return error_with_string(VARLINK_ERROR_INVALID_PARAMETER, "parameter", parameter);
}

json_object *varlink_error_method_not_found(const char *method)
{
	return error_with_string(VARLINK_ERROR_METHOD_NOT_FOUND, "method", method);
}

json_object *varlink_error_interface_not_found(const char *interface)
{
	return error_with_string(VARLINK_ERROR_INTERFACE_NOT_FOUND, "interface", interface);
}

static bool type_matches(VarlinkFieldType type, json_object *value)
{
	switch (type) {
	case VARLINK_FIELD_BOOL:
		return json_object_is_type(value, json_type_boolean);
	case VARLINK_FIELD_INT:
		return json_object_is_type(value, json_type_int);
	case VARLINK_FIELD_FLOAT:
		return json_object_is_type(value, json_type_double) ||
		       json_object_is_type(value, json_type_int);
	case VARLINK_FIELD_STRING:
		return json_object_is_type(value, json_type_string) && !has_nul(value);
	case VARLINK_FIELD_OBJECT:
		return json_object_is_type(value, json_type_object);
	case VARLINK_FIELD_ARRAY:
		return json_object_is_type(value, json_type_array);
	case VARLINK_FIELD_ANY:
		return true;
	}
	return false;
}

static void store(const VarlinkField *field, json_object *value, void *target)
{
	void *slot = (char *)target + field->offset;

	switch (field->type) {
	case VARLINK_FIELD_BOOL:
		*(bool *)slot = json_object_get_boolean(value);
		break;
	case VARLINK_FIELD_INT:
		*(int64_t *)slot = json_object_get_int64(value);
		break;
	case VARLINK_FIELD_FLOAT:
		*(double *)slot = json_object_get_double(value);
		break;
	case VARLINK_FIELD_STRING:
		*(const char **)slot = json_object_get_string(value);
		break;
	case VARLINK_FIELD_OBJECT:
	case VARLINK_FIELD_ARRAY:
	case VARLINK_FIELD_ANY:
		*(json_object **)slot = value;
		break;
	}
}

static const VarlinkField *find_field(const VarlinkField *fields, const char *name)
{
	for (const VarlinkField *f = fields; f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

int varlink_parameters_dispatch(json_object *parameters, const VarlinkField *fields, void *target,
				const char **ret_bad_field)
{
	json_object_object_foreach (parameters, key, value) {
		const VarlinkField *field = find_field(fields, key);
		if (!field) {
			*ret_bad_field = key;
			return -EINVAL;
		}
		if (!value) {
			if (!(field->flags & VARLINK_FIELD_NULLABLE)) {
				*ret_bad_field = field->name;
				return -EINVAL;
			}
			continue;
		}
		if (!type_matches(field->type, value)) {
			*ret_bad_field = field->name;
			return -EINVAL;
		}
		store(field, value, target);
	}

	for (const VarlinkField *f = fields; f->name; f++) {
		if ((f->flags & VARLINK_FIELD_REQUIRED) &&
		    !json_object_object_get_ex(parameters, f->name, NULL)) {
			*ret_bad_field = f->name;
			return -EINVAL;
		}
	}
	*ret_bad_field = NULL;
	return 0;
}
