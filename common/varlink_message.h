/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Varlink messages above the framing: building and checking calls, replies
 * and errors, the names of the standard org.varlink.service errors, and
 * checking a method's parameters against a table of fields. Pure functions of
 * json-c objects: no I/O, no logging.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VARLINK_ERROR_INTERFACE_NOT_FOUND "org.varlink.service.InterfaceNotFound"
#define VARLINK_ERROR_METHOD_NOT_FOUND "org.varlink.service.MethodNotFound"
#define VARLINK_ERROR_METHOD_NOT_IMPLEMENTED "org.varlink.service.MethodNotImplemented"
#define VARLINK_ERROR_INVALID_PARAMETER "org.varlink.service.InvalidParameter"
#define VARLINK_ERROR_EXPECTED_MORE "org.varlink.service.ExpectedMore"
#define VARLINK_ERROR_PERMISSION_DENIED "org.varlink.service.PermissionDenied"

/* Longest interface or method name accepted. */
#define VARLINK_MAX_NAME 255

enum {
	VARLINK_CALL_MORE = 1 << 0,
	VARLINK_CALL_ONEWAY = 1 << 1,
};

/* A call as received. Strings and objects are borrowed from the message. */
typedef struct VarlinkCallMessage {
	const char *method; /* "interface.Method" */
	size_t interface_length; /* bytes of `method` before the last '.' */
	json_object *parameters; /* never NULL: an empty object when the call had none */
	bool more;
	bool oneway;
} VarlinkCallMessage;

/* A reply as received. */
typedef struct VarlinkReplyMessage {
	const char *error; /* NULL for a successful reply */
	json_object *parameters; /* never NULL */
	bool continues;
} VarlinkReplyMessage;

/* True for a valid interface name such as "io.libvfio.Manager". */
bool varlink_interface_name_is_valid(const char *name, size_t length);

/* True for a valid fully qualified method or error name ("io.libvfio.Manager.GetVersion"). */
bool varlink_member_name_is_valid(const char *name);

/*
 * Checks that `message` is a well-formed call. Returns 0, or -EBADMSG with
 * *ret_bad_key naming the offending key ("method", "parameters", "more", ...).
 * A call that has both "more" and "oneway" set is refused too.
 */
int varlink_call_parse(json_object *message, VarlinkCallMessage *ret, const char **ret_bad_key);

/* Checks that `message` is a well-formed reply. Returns 0 or -EBADMSG. */
int varlink_reply_parse(json_object *message, VarlinkReplyMessage *ret);

/* Builders. They take ownership of `parameters` (which may be NULL) and return NULL on OOM. */
json_object *varlink_call_new(const char *method, json_object *parameters, unsigned flags);
json_object *varlink_reply_new(json_object *parameters, bool continues);
json_object *varlink_error_new(const char *error, json_object *parameters);

/* Standard errors with the parameter the specification gives them. */
json_object *varlink_error_invalid_parameter(const char *parameter);
json_object *varlink_error_method_not_found(const char *method);
json_object *varlink_error_interface_not_found(const char *interface);

/* What varlink_parameters_dispatch() stores for each type. */
typedef enum VarlinkFieldType {
	VARLINK_FIELD_BOOL, /* bool */
	VARLINK_FIELD_INT, /* int64_t */
	VARLINK_FIELD_FLOAT, /* double; integers are accepted too */
	VARLINK_FIELD_STRING, /* const char *, borrowed */
	VARLINK_FIELD_OBJECT, /* json_object *, borrowed */
	VARLINK_FIELD_ARRAY, /* json_object *, borrowed */
	VARLINK_FIELD_ANY, /* json_object *, borrowed, any type */
} VarlinkFieldType;

enum {
	VARLINK_FIELD_REQUIRED = 1 << 0,
	VARLINK_FIELD_NULLABLE = 1 << 1, /* null is accepted and leaves the target untouched */
};

typedef struct VarlinkField {
	const char *name;
	VarlinkFieldType type;
	unsigned flags;
	size_t offset; /* of the target inside the struct passed to dispatch */
} VarlinkField;

/*
 * Checks a method's parameters against `fields` (terminated by a field with a
 * NULL name) and stores each one found into `target` at its offset. Unknown
 * keys, wrong types and missing required fields fail with -EINVAL and
 * *ret_bad_field naming the parameter (borrowed from `fields` or `parameters`).
 */
int varlink_parameters_dispatch(json_object *parameters, const VarlinkField *fields, void *target,
				const char **ret_bad_field);
