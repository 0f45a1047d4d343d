/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Varlink messages above the framing: names, calls and replies as received,
 * the builders, the standard errors, and dispatching parameters into a struct.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "json_util.h"
#include "macro.h"
#include "varlink_message.h"

#define _cleanup_json_ _cleanup_(json_object_putp)

static json_object *json_parse(const char *text)
{
	json_object *object = json_tokener_parse(text);
	if (!object)
		fail_msg("test data is not JSON: %s", text);
	return object;
}

/* `actual` (taken) is the same JSON value as `expected_text`, whatever the key order. */
static void expect_json(json_object *actual, const char *expected_text)
{
	_cleanup_json_ json_object *owned = actual;
	_cleanup_json_ json_object *expected = json_parse(expected_text);

	assert_non_null(actual);
	if (!json_object_equal(actual, expected))
		fail_msg("got %s, expected %s", json_object_to_json_string(actual), expected_text);
}

static void test_interface_names(void **state)
{
	static const char *const valid[] = {
		"io.libvfio.Manager",
		"org.varlink.service",
		"a.b",
		"a1.b2",
		"a.1b",
		"a-b.c-d",
		"a--b.c",
		"A.B",
		"x.y.z.w",
	};
	static const char *const invalid[] = {
		"",     "a",    "1a.b", "-a.b",  ".a.b",  "a..b",  "a.b.",
		"a-.b", "a.-b", "a.b-", "a_b.c", "a.b c", "a.b/c", "\xc3\xa4.b",
	};
	char longest[VARLINK_MAX_NAME + 2];

	for (size_t i = 0; i < ELEMENTSOF(valid); i++)
		if (!varlink_interface_name_is_valid(valid[i], strlen(valid[i])))
			fail_msg("'%s' should be valid", valid[i]);
	for (size_t i = 0; i < ELEMENTSOF(invalid); i++)
		if (varlink_interface_name_is_valid(invalid[i], strlen(invalid[i])))
			fail_msg("'%s' should be invalid", invalid[i]);

	/* The length bounds the check: "a.b" is valid within "a.b.C". */
	assert_true(varlink_interface_name_is_valid("a.b.C", 3));
	assert_false(varlink_interface_name_is_valid("a.b.C", 2));

	memset(longest, 'a', sizeof(longest));
	longest[1] = '.';
	assert_true(varlink_interface_name_is_valid(longest, VARLINK_MAX_NAME));
	assert_false(varlink_interface_name_is_valid(longest, VARLINK_MAX_NAME + 1));
}

static void test_member_names(void **state)
{
	static const char *const valid[] = {
		"a.b.C",
		"io.libvfio.Manager.GetVersion",
		"org.varlink.service.InvalidParameter",
		"a.b.C1d",
	};
	static const char *const invalid[] = {
		"",        "foo",     "a.b",  "a.b.lower", "1a.B.C", "a..b.C", "a.b-.C",  "a.b.C-",
		"a.b.C-D", "a.b.C_D", "a.b.", "a.B",       ".B",     "a.b.C.", "a.b.C d", "-a.b.C",
	};
	char name[VARLINK_MAX_NAME + 2];

	for (size_t i = 0; i < ELEMENTSOF(valid); i++)
		if (!varlink_member_name_is_valid(valid[i]))
			fail_msg("'%s' should be valid", valid[i]);
	for (size_t i = 0; i < ELEMENTSOF(invalid); i++)
		if (varlink_member_name_is_valid(invalid[i]))
			fail_msg("'%s' should be invalid", invalid[i]);

	/* "a.aaa…aaa.M": the whole name counts. */
	memset(name, 'a', VARLINK_MAX_NAME);
	name[1] = '.';
	memcpy(name + VARLINK_MAX_NAME - 2, ".M", 3);
	assert_int_equal(strlen(name), VARLINK_MAX_NAME);
	assert_true(varlink_member_name_is_valid(name));
	memset(name, 'a', VARLINK_MAX_NAME + 1);
	name[1] = '.';
	memcpy(name + VARLINK_MAX_NAME - 1, ".M", 3);
	assert_false(varlink_member_name_is_valid(name));
}

static void test_call_parse_plain(void **state)
{
	_cleanup_json_ json_object *message =
		json_parse("{\"method\":\"io.libvfio.Manager.GetVersion\"}");
	VarlinkCallMessage call;
	const char *bad_key = "unset";

	assert_int_equal(varlink_call_parse(message, &call, &bad_key), 0);
	assert_null(bad_key);
	assert_string_equal(call.method, "io.libvfio.Manager.GetVersion");
	assert_int_equal(call.interface_length, strlen("io.libvfio.Manager"));
	assert_false(call.more);
	assert_false(call.oneway);
	/* No parameters means an empty object, never NULL. */
	assert_non_null(call.parameters);
	assert_true(json_object_is_type(call.parameters, json_type_object));
	assert_int_equal(json_object_object_length(call.parameters), 0);
}

static void test_call_parse_flags_and_parameters(void **state)
{
	_cleanup_json_ json_object *more = json_parse(
		"{\"method\":\"a.b.C\",\"parameters\":{\"x\":1},\"more\":true,\"oneway\":false}");
	_cleanup_json_ json_object *oneway = json_parse(
		"{\"method\":\"a.b.C\",\"oneway\":true,\"more\":null,\"parameters\":null}");
	json_object *parameters;
	VarlinkCallMessage call;
	const char *bad_key;

	assert_int_equal(varlink_call_parse(more, &call, &bad_key), 0);
	assert_true(call.more);
	assert_false(call.oneway);
	assert_int_equal(call.interface_length, 3);
	/* Borrowed from the message, not copied. */
	assert_true(json_object_object_get_ex(more, "parameters", &parameters));
	assert_ptr_equal(call.parameters, parameters);

	assert_int_equal(varlink_call_parse(oneway, &call, &bad_key), 0);
	assert_false(call.more);
	assert_true(call.oneway);
	assert_non_null(call.parameters);
	assert_int_equal(json_object_object_length(call.parameters), 0);
}

static void test_call_parse_refused(void **state)
{
	static const struct {
		const char *json;
		const char *bad_key;
	} cases[] = {
		{ "{}", "method" },
		{ "{\"parameters\":{}}", "method" },
		{ "{\"method\":5}", "method" },
		{ "{\"method\":null}", "method" },
		{ "{\"method\":[\"a.b.C\"]}", "method" },
		{ "{\"method\":\"foo\"}", "method" },
		{ "{\"method\":\"a.b.lower\"}", "method" },
		{ "{\"method\":\"1a.B.C\"}", "method" },
		{ "{\"method\":\"a..b.C\"}", "method" },
		{ "{\"method\":\"a.b-.C\"}", "method" },
		{ "{\"method\":\"a.b.C-\"}", "method" },
		{ "{\"method\":\"a.b.C\",\"parameters\":[]}", "parameters" },
		{ "{\"method\":\"a.b.C\",\"parameters\":\"x\"}", "parameters" },
		{ "{\"method\":\"a.b.C\",\"parameters\":1}", "parameters" },
		{ "{\"method\":\"a.b.C\",\"more\":\"yes\"}", "more" },
		{ "{\"method\":\"a.b.C\",\"more\":1}", "more" },
		{ "{\"method\":\"a.b.C\",\"oneway\":\"true\"}", "oneway" },
		{ "{\"method\":\"a.b.C\",\"upgrade\":true}", "upgrade" },
		{ "{\"method\":\"a.b.C\",\"upgrade\":0}", "upgrade" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_json_ json_object *message = json_parse(cases[i].json);
		VarlinkCallMessage call;
		const char *bad_key = NULL;
		int r = varlink_call_parse(message, &call, &bad_key);

		if (r != -EBADMSG || !bad_key || strcmp(bad_key, cases[i].bad_key) != 0)
			fail_msg("%s: got %d naming '%s', expected -EBADMSG naming '%s'",
				 cases[i].json, r, bad_key ? bad_key : "(null)", cases[i].bad_key);
	}
}

static void test_call_parse_more_and_oneway(void **state)
{
	_cleanup_json_ json_object *message =
		json_parse("{\"method\":\"a.b.C\",\"more\":true,\"oneway\":true}");
	VarlinkCallMessage call;
	const char *bad_key = NULL;

	assert_int_equal(varlink_call_parse(message, &call, &bad_key), -EBADMSG);
	assert_non_null(bad_key);
	assert_true(strcmp(bad_key, "more") == 0 || strcmp(bad_key, "oneway") == 0);
}

static void test_reply_parse(void **state)
{
	_cleanup_json_ json_object *plain = json_parse("{\"parameters\":{\"v\":\"1\"}}");
	_cleanup_json_ json_object *error =
		json_parse("{\"error\":\"org.varlink.service.MethodNotFound\",\"parameters\":{"
			   "\"method\":\"a.b.C\"}}");
	_cleanup_json_ json_object *continues = json_parse("{\"continues\":true}");
	_cleanup_json_ json_object *null_error = json_parse("{\"error\":null,\"continues\":false}");
	VarlinkReplyMessage reply;

	assert_int_equal(varlink_reply_parse(plain, &reply), 0);
	assert_null(reply.error);
	assert_false(reply.continues);
	assert_int_equal(json_object_object_length(reply.parameters), 1);

	assert_int_equal(varlink_reply_parse(error, &reply), 0);
	assert_string_equal(reply.error, VARLINK_ERROR_METHOD_NOT_FOUND);
	assert_false(reply.continues);

	assert_int_equal(varlink_reply_parse(continues, &reply), 0);
	assert_null(reply.error);
	assert_true(reply.continues);
	assert_non_null(reply.parameters);
	assert_int_equal(json_object_object_length(reply.parameters), 0);

	assert_int_equal(varlink_reply_parse(null_error, &reply), 0);
	assert_null(reply.error);
	assert_false(reply.continues);
}

static void test_reply_parse_refused(void **state)
{
	static const char *const cases[] = {
		"{\"error\":5}",
		"{\"error\":\"\"}",
		"{\"error\":\"NotFound\"}",
		"{\"error\":\"a.b.lower\"}",
		"{\"error\":\"a..b.C\"}",
		"{\"error\":{\"name\":\"a.b.C\"}}",
		"{\"parameters\":[]}",
		"{\"parameters\":\"x\"}",
		"{\"continues\":\"yes\"}",
		"{\"continues\":1}",
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_json_ json_object *message = json_parse(cases[i]);
		VarlinkReplyMessage reply;
		int r = varlink_reply_parse(message, &reply);

		if (r != -EBADMSG)
			fail_msg("%s: got %d, expected -EBADMSG", cases[i], r);
	}
}

/* C code reads a name only up to a NUL: "a.b.C\0.x" would pass as "a.b.C". */
static void test_names_with_nul(void **state)
{
	_cleanup_json_ json_object *call_message = json_parse("{\"method\":\"a.b.C\\u0000.x\"}");
	_cleanup_json_ json_object *reply_message = json_parse("{\"error\":\"a.b.C\\u0000.x\"}");
	VarlinkCallMessage call;
	VarlinkReplyMessage reply;
	const char *bad_key = NULL;

	assert_int_equal(varlink_call_parse(call_message, &call, &bad_key), -EBADMSG);
	assert_string_equal(bad_key, "method");
	assert_int_equal(varlink_reply_parse(reply_message, &reply), -EBADMSG);
}

static void test_call_new(void **state)
{
	expect_json(varlink_call_new("a.b.C", NULL, 0), "{\"method\":\"a.b.C\",\"parameters\":{}}");
	expect_json(varlink_call_new("a.b.C", json_parse("{\"x\":[1,\"y\"]}"), VARLINK_CALL_MORE),
		    "{\"method\":\"a.b.C\",\"parameters\":{\"x\":[1,\"y\"]},\"more\":true}");
	expect_json(varlink_call_new("a.b.C", NULL, VARLINK_CALL_ONEWAY),
		    "{\"method\":\"a.b.C\",\"parameters\":{},\"oneway\":true}");
}

/* What a builder makes reads back as the same call. */
static void test_call_new_parses_back(void **state)
{
	_cleanup_json_ json_object *message = varlink_call_new(
		"io.libvfio.Manager.List", json_parse("{\"all\":true}"), VARLINK_CALL_MORE);
	VarlinkCallMessage call;
	const char *bad_key;

	assert_non_null(message);
	assert_int_equal(varlink_call_parse(message, &call, &bad_key), 0);
	assert_string_equal(call.method, "io.libvfio.Manager.List");
	assert_true(call.more);
	assert_false(call.oneway);
	assert_int_equal(json_object_object_length(call.parameters), 1);
}

static void test_reply_new(void **state)
{
	expect_json(varlink_reply_new(NULL, false), "{\"parameters\":{}}");
	expect_json(varlink_reply_new(json_parse("{\"v\":1}"), false),
		    "{\"parameters\":{\"v\":1}}");
	expect_json(varlink_reply_new(json_parse("{\"v\":1}"), true),
		    "{\"parameters\":{\"v\":1},\"continues\":true}");
}

static void test_error_new(void **state)
{
	expect_json(varlink_error_new("io.libvfio.Manager.NoSuchVm", NULL),
		    "{\"error\":\"io.libvfio.Manager.NoSuchVm\",\"parameters\":{}}");
	expect_json(
		varlink_error_new("io.libvfio.Manager.NoSuchVm", json_parse("{\"name\":\"x\"}")),
		"{\"error\":\"io.libvfio.Manager.NoSuchVm\",\"parameters\":{\"name\":\"x\"}}");
}

static void test_standard_errors(void **state)
{
	expect_json(varlink_error_invalid_parameter("name"),
		    "{\"error\":\"org.varlink.service.InvalidParameter\","
		    "\"parameters\":{\"parameter\":\"name\"}}");
	expect_json(varlink_error_method_not_found("io.libvfio.Manager.Nope"),
		    "{\"error\":\"org.varlink.service.MethodNotFound\","
		    "\"parameters\":{\"method\":\"io.libvfio.Manager.Nope\"}}");
	expect_json(varlink_error_interface_not_found("io.example.Nope"),
		    "{\"error\":\"org.varlink.service.InterfaceNotFound\","
		    "\"parameters\":{\"interface\":\"io.example.Nope\"}}");
}

/* Every standard error name is itself a valid member name, so peers accept it. */
static void test_standard_error_names_are_valid(void **state)
{
	static const char *const names[] = {
		VARLINK_ERROR_INTERFACE_NOT_FOUND,    VARLINK_ERROR_METHOD_NOT_FOUND,
		VARLINK_ERROR_METHOD_NOT_IMPLEMENTED, VARLINK_ERROR_INVALID_PARAMETER,
		VARLINK_ERROR_EXPECTED_MORE,          VARLINK_ERROR_PERMISSION_DENIED,
	};

	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		_cleanup_json_ json_object *message = varlink_error_new(names[i], NULL);
		VarlinkReplyMessage reply;

		assert_int_equal(varlink_reply_parse(message, &reply), 0);
		assert_string_equal(reply.error, names[i]);
	}
}

/* The target of the dispatch tests: one field of each type. */
typedef struct Target {
	bool flag;
	int64_t count;
	double ratio;
	const char *name;
	json_object *object;
	json_object *list;
	json_object *any;
} Target;

static const VarlinkField target_fields[] = {
	{ "flag", VARLINK_FIELD_BOOL, 0, offsetof(Target, flag) },
	{ "count", VARLINK_FIELD_INT, VARLINK_FIELD_NULLABLE, offsetof(Target, count) },
	{ "ratio", VARLINK_FIELD_FLOAT, 0, offsetof(Target, ratio) },
	{ "name", VARLINK_FIELD_STRING, VARLINK_FIELD_REQUIRED, offsetof(Target, name) },
	{ "object", VARLINK_FIELD_OBJECT, VARLINK_FIELD_NULLABLE, offsetof(Target, object) },
	{ "list", VARLINK_FIELD_ARRAY, 0, offsetof(Target, list) },
	{ "any", VARLINK_FIELD_ANY, 0, offsetof(Target, any) },
	{ NULL }
};

/* A target whose fields all hold values no dispatch would store. */
static Target untouched(void)
{
	return (Target){ .flag = true, .count = -42, .ratio = -0.5, .name = "untouched" };
}

/* Dispatches `parameters` into a fresh target; returns the result. */
static int dispatch(json_object *parameters, Target *target, const char **ret_bad_field)
{
	*target = untouched();
	*ret_bad_field = "unset";
	return varlink_parameters_dispatch(parameters, target_fields, target, ret_bad_field);
}

/* Dispatching `json` fails with -EINVAL naming `bad_field`. */
static void expect_refused(const char *json, const char *bad_field)
{
	_cleanup_json_ json_object *parameters = json_parse(json);
	Target target;
	const char *named = NULL;
	int r = dispatch(parameters, &target, &named);

	if (r != -EINVAL || !named || strcmp(named, bad_field) != 0)
		fail_msg("%s: got %d naming '%s', expected -EINVAL naming '%s'", json, r,
			 named ? named : "(null)", bad_field);
}

static void test_dispatch_stores_at_offsets(void **state)
{
	_cleanup_json_ json_object *parameters = json_parse(
		"{\"flag\":false,\"count\":9007199254740993,\"ratio\":0.25,\"name\":\"vm\","
		"\"object\":{\"k\":1},\"list\":[1,2],\"any\":\"text\"}");
	Target target;
	const char *bad_field;
	json_object *value;

	assert_int_equal(dispatch(parameters, &target, &bad_field), 0);
	assert_null(bad_field);
	assert_false(target.flag);
	assert_true(target.count == INT64_C(9007199254740993)); /* not rounded through a double */
	assert_true(target.ratio == 0.25);
	assert_string_equal(target.name, "vm");
	assert_true(json_object_object_get_ex(parameters, "object", &value));
	assert_ptr_equal(target.object, value);
	assert_true(json_object_object_get_ex(parameters, "list", &value));
	assert_ptr_equal(target.list, value);
	assert_true(json_object_object_get_ex(parameters, "any", &value));
	assert_ptr_equal(target.any, value);
}

static void test_dispatch_leaves_absent_fields(void **state)
{
	_cleanup_json_ json_object *parameters = json_parse("{\"name\":\"vm\"}");
	Target target, expected = untouched();
	const char *bad_field;

	assert_int_equal(dispatch(parameters, &target, &bad_field), 0);
	assert_null(bad_field);
	assert_string_equal(target.name, "vm");
	assert_true(target.flag == expected.flag);
	assert_true(target.count == expected.count);
	assert_true(target.ratio == expected.ratio);
	assert_null(target.object);
}

static void test_dispatch_int_for_float(void **state)
{
	_cleanup_json_ json_object *three = json_parse("{\"name\":\"x\",\"ratio\":3}");
	_cleanup_json_ json_object *minus = json_parse("{\"name\":\"x\",\"ratio\":-7}");
	Target target;
	const char *bad_field;

	assert_int_equal(dispatch(three, &target, &bad_field), 0);
	assert_true(target.ratio == 3.0);
	assert_int_equal(dispatch(minus, &target, &bad_field), 0);
	assert_true(target.ratio == -7.0);
}

static void test_dispatch_null(void **state)
{
	_cleanup_json_ json_object *nulls =
		json_parse("{\"name\":\"x\",\"count\":null,\"object\":null}");
	Target target;
	const char *bad_field;

	/* Nullable: accepted, target untouched. */
	assert_int_equal(dispatch(nulls, &target, &bad_field), 0);
	assert_true(target.count == untouched().count);
	assert_null(target.object);

	/* Not nullable: refused, naming the field. */
	expect_refused("{\"name\":null}", "name");
	expect_refused("{\"name\":\"x\",\"flag\":null}", "flag");
	expect_refused("{\"name\":\"x\",\"any\":null}", "any");
}

static void test_dispatch_unknown_key(void **state)
{
	expect_refused("{\"name\":\"x\",\"colour\":\"red\"}", "colour");
	expect_refused("{\"Name\":\"x\"}", "Name");
}

static void test_dispatch_wrong_type(void **state)
{
	expect_refused("{\"name\":5}", "name");
	expect_refused("{\"name\":\"x\",\"flag\":1}", "flag");
	expect_refused("{\"name\":\"x\",\"flag\":\"true\"}", "flag");
	expect_refused("{\"name\":\"x\",\"count\":\"3\"}", "count");
	expect_refused("{\"name\":\"x\",\"count\":1.5}", "count");
	expect_refused("{\"name\":\"x\",\"count\":true}", "count");
	expect_refused("{\"name\":\"x\",\"ratio\":\"0.5\"}", "ratio");
	expect_refused("{\"name\":\"x\",\"object\":[]}", "object");
	expect_refused("{\"name\":\"x\",\"list\":{}}", "list");
	expect_refused("{\"name\":\"x\",\"list\":\"1,2\"}", "list");
}

/* C code reads a string only up to a NUL: one inside would hide the rest from every check. */
static void test_dispatch_string_with_nul(void **state)
{
	expect_refused("{\"name\":\"vm\\u0000/../../etc\"}", "name");
}

static void test_dispatch_missing_required(void **state)
{
	expect_refused("{}", "name");
	expect_refused("{\"flag\":true,\"count\":1}", "name");
}

static void test_dispatch_empty_table(void **state)
{
	static const VarlinkField none[] = { { NULL } };
	_cleanup_json_ json_object *empty = json_parse("{}");
	_cleanup_json_ json_object *one = json_parse("{\"a\":1}");
	const char *bad_field = "unset";

	assert_int_equal(varlink_parameters_dispatch(empty, none, NULL, &bad_field), 0);
	assert_null(bad_field);
	assert_int_equal(varlink_parameters_dispatch(one, none, NULL, &bad_field), -EINVAL);
	assert_string_equal(bad_field, "a");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interface_names),
		cmocka_unit_test(test_member_names),
		cmocka_unit_test(test_call_parse_plain),
		cmocka_unit_test(test_call_parse_flags_and_parameters),
		cmocka_unit_test(test_call_parse_refused),
		cmocka_unit_test(test_call_parse_more_and_oneway),
		cmocka_unit_test(test_reply_parse),
		cmocka_unit_test(test_reply_parse_refused),
		cmocka_unit_test(test_names_with_nul),
		cmocka_unit_test(test_call_new),
		cmocka_unit_test(test_call_new_parses_back),
		cmocka_unit_test(test_reply_new),
		cmocka_unit_test(test_error_new),
		cmocka_unit_test(test_standard_errors),
		cmocka_unit_test(test_standard_error_names_are_valid),
		cmocka_unit_test(test_dispatch_stores_at_offsets),
		cmocka_unit_test(test_dispatch_leaves_absent_fields),
		cmocka_unit_test(test_dispatch_int_for_float),
		cmocka_unit_test(test_dispatch_null),
		cmocka_unit_test(test_dispatch_unknown_key),
		cmocka_unit_test(test_dispatch_wrong_type),
		cmocka_unit_test(test_dispatch_missing_required),
		cmocka_unit_test(test_dispatch_string_with_nul),
		cmocka_unit_test(test_dispatch_empty_table),
	};

	return cmocka_run_group_tests_name("varlink_message", tests, NULL, NULL);
}
