/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A test-only service of org.varlink.certification built on the daemon's
 * Varlink server (daemon/api/server.c), so the reference client of another
 * Varlink implementation (varlink-go-certification --client) can exercise our
 * framing, dispatch, JSON types, "more" and "oneway".
 *
 * It is strict where the reference servers are lenient. Each step must be
 * called in order, with exactly what the reply before it carried (a float may
 * come back as an integer, as JSON does not tell them apart; a null member
 * counts as an absent one). A step that goes wrong answers CertificationError
 * with what it wanted and what it got, and marks the client failed: End then
 * says all_ok=false. So the test that runs the reference client can fail.
 *
 * Usage: certification-server SOCKET_PATH. It runs until SIGTERM or SIGINT.
 */
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <systemd/sd-id128.h>

#include "api/server.h"
#include "base/log.h"
#include "build-config.h"
#include "macro.h"
#include "varlink_idl.h"
#include "varlink_message.h"

/* Generated from org.varlink.certification.varlink by embed-interfaces.py. */
extern const VarlinkIdl certification_interfaces[];

#define INTERFACE "org.varlink.certification"
#define ERROR_CLIENT_ID INTERFACE ".ClientIdError"
#define ERROR_CERTIFICATION INTERFACE ".CertificationError"

/* Runs that never reach End are forgotten, oldest first, past this many. */
#define MAX_CLIENTS 64
/* How many replies Test10 sends; Test11 must pass back all of them. */
#define TEST10_REPLIES 10

typedef enum Step {
	STEP_START,
	STEP_TEST01,
	STEP_TEST02,
	STEP_TEST03,
	STEP_TEST04,
	STEP_TEST05,
	STEP_TEST06,
	STEP_TEST07,
	STEP_TEST08,
	STEP_TEST09,
	STEP_TEST10,
	STEP_TEST11,
	STEP_END,
	_STEP_MAX,
	_STEP_INVALID = -EINVAL,
} Step;

/* Where varlink_parameters_dispatch() stores the parameters of any step. */
typedef struct StepParameters {
	const char *client_id;
	bool bool_value;
	int64_t int_value;
	double float_value;
	const char *string_value;
	json_object *struct_value;
	json_object *map;
	json_object *set;
	json_object *mytype;
	json_object *last_more_replies;
} StepParameters;

#define FIELD(name, type, member)                                   \
	{                                                           \
		name, VARLINK_FIELD_##type, VARLINK_FIELD_REQUIRED, \
			offsetof(StepParameters, member)            \
	}
#define CLIENT_ID FIELD("client_id", STRING, client_id)

/* The parameters' types, as the IDL declares them; the values are checked apart. */
static const VarlinkField no_fields[] = { { 0 } };
static const VarlinkField client_id_fields[] = {
	CLIENT_ID,
	{ 0 },
};
static const VarlinkField test02_fields[] = {
	CLIENT_ID,
	FIELD("bool", BOOL, bool_value),
	{ 0 },
};
static const VarlinkField test03_fields[] = {
	CLIENT_ID,
	FIELD("int", INT, int_value),
	{ 0 },
};
static const VarlinkField test04_fields[] = {
	CLIENT_ID,
	FIELD("float", FLOAT, float_value),
	{ 0 },
};
static const VarlinkField test05_fields[] = {
	CLIENT_ID,
	FIELD("string", STRING, string_value),
	{ 0 },
};
static const VarlinkField test06_fields[] = {
	CLIENT_ID,
	FIELD("bool", BOOL, bool_value),
	FIELD("int", INT, int_value),
	FIELD("float", FLOAT, float_value),
	FIELD("string", STRING, string_value),
	{ 0 },
};
static const VarlinkField test07_fields[] = {
	CLIENT_ID,
	FIELD("struct", OBJECT, struct_value),
	{ 0 },
};
static const VarlinkField test08_fields[] = {
	CLIENT_ID,
	FIELD("map", OBJECT, map),
	{ 0 },
};
static const VarlinkField test09_fields[] = {
	CLIENT_ID,
	FIELD("set", OBJECT, set),
	{ 0 },
};
static const VarlinkField test10_fields[] = {
	CLIENT_ID,
	FIELD("mytype", OBJECT, mytype),
	{ 0 },
};
static const VarlinkField test11_fields[] = {
	CLIENT_ID,
	FIELD("last_more_replies", ARRAY, last_more_replies),
	{ 0 },
};

typedef struct StepInfo {
	const char *method;
	const VarlinkField *fields;
	/* What the call must carry besides client_id; NULL: the reply of the step before. */
	const char *input;
	/* The reply; NULL where it is made at run time (Start, Test10, End). */
	const char *reply;
} StepInfo;

/*
 * The run, as data: each step's input is the previous step's reply. 3.141592653589793
 * is the shortest text that reads back as the double nearest to pi.
 */
static const StepInfo steps[_STEP_MAX] = {
	[STEP_START] = { "Start", no_fields, "{}", NULL },
	[STEP_TEST01] = { "Test01", client_id_fields, "{}", "{ \"bool\": true }" },
	[STEP_TEST02] = { "Test02", test02_fields, NULL, "{ \"int\": 1 }" },
	[STEP_TEST03] = { "Test03", test03_fields, NULL, "{ \"float\": 1.0 }" },
	[STEP_TEST04] = { "Test04", test04_fields, NULL, "{ \"string\": \"ping\" }" },
	[STEP_TEST05] = { "Test05", test05_fields, NULL,
			  "{ \"bool\": false, \"int\": 2, \"float\": 3.141592653589793,"
			  "  \"string\": \"a lot of string\" }" },
	[STEP_TEST06] = { "Test06", test06_fields, NULL,
			  "{ \"struct\": { \"bool\": false, \"int\": 2,"
			  "  \"float\": 3.141592653589793, \"string\": \"a lot of string\" } }" },
	[STEP_TEST07] = { "Test07", test07_fields, NULL,
			  "{ \"map\": { \"bar\": \"Bar\", \"foo\": \"Foo\" } }" },
	[STEP_TEST08] = { "Test08", test08_fields, NULL,
			  "{ \"set\": { \"one\": {}, \"two\": {}, \"three\": {} } }" },
	[STEP_TEST09] = { "Test09", test09_fields, NULL,
			  "{ \"mytype\": {"
			  "  \"object\": {"
			  "    \"method\": \"org.varlink.certification.Test09\","
			  "    \"parameters\": { \"map\": { \"foo\": \"Foo\", \"bar\": \"Bar\" } }"
			  "  },"
			  "  \"enum\": \"two\","
			  "  \"struct\": { \"first\": 1, \"second\": \"2\" },"
			  "  \"array\": [ \"one\", \"two\", \"three\" ],"
			  "  \"dictionary\": { \"foo\": \"Foo\", \"bar\": \"Bar\" },"
			  "  \"stringset\": { \"one\": {}, \"two\": {}, \"three\": {} },"
			  "  \"nullable\": null,"
			  "  \"nullable_array_struct\": null,"
			  "  \"interface\": {"
			  "    \"foo\": [ null, { \"Foo\": \"foo\", \"Bar\": \"bar\" },"
			  "      null, { \"one\": \"foo\", \"two\": \"bar\" } ],"
			  "    \"anon\": { \"foo\": true, \"bar\": false } } } }" },
	[STEP_TEST10] = { "Test10", test10_fields, NULL, NULL },
	[STEP_TEST11] = { "Test11", test11_fields,
			  "{ \"last_more_replies\": [ \"Reply number 1\", \"Reply number 2\","
			  "  \"Reply number 3\", \"Reply number 4\", \"Reply number 5\","
			  "  \"Reply number 6\", \"Reply number 7\", \"Reply number 8\","
			  "  \"Reply number 9\", \"Reply number 10\" ] }",
			  "{}" },
	[STEP_END] = { "End", client_id_fields, "{}", NULL },
};

typedef struct Client {
	char id[SD_ID128_STRING_MAX]; /* empty when the slot is free */
	Step next; /* the step expected next */
	bool failed; /* a step went wrong: End says all_ok=false */
	uint64_t serial; /* when it started, to reuse the oldest slot */
} Client;

typedef struct Certification {
	json_object *inputs[_STEP_MAX];
	json_object *replies[_STEP_MAX];
	Client clients[MAX_CLIENTS];
	uint64_t n_started;
} Certification;

/* ---- comparing values ---- */

static size_t object_count_non_null(json_object *object)
{
	size_t n = 0;

	json_object_object_foreach (object, key, value) {
		(void)key;
		if (value)
			n++;
	}
	return n;
}

/*
 * Whether `got` is the JSON value `wants`, as Varlink means it: where a float
 * is wanted an integer of the same value will do (JSON encoders write 1.0 as
 * 1), but not the other way round; and an object member that is null equals
 * one that is absent. Nulls inside arrays still count.
 */
static bool json_value_equal(json_object *wants, json_object *got)
{
	if (!wants || !got)
		return wants == got;
	if (json_object_is_type(wants, json_type_double))
		return (json_object_is_type(got, json_type_double) ||
			json_object_is_type(got, json_type_int)) &&
		       json_object_get_double(wants) == json_object_get_double(got);
	if (json_object_get_type(wants) != json_object_get_type(got))
		return false;

	switch (json_object_get_type(wants)) {
	case json_type_boolean:
		return json_object_get_boolean(wants) == json_object_get_boolean(got);
	case json_type_int:
		return json_object_get_int64(wants) == json_object_get_int64(got);
	case json_type_string:
		return json_object_get_string_len(wants) == json_object_get_string_len(got) &&
		       memcmp(json_object_get_string(wants), json_object_get_string(got),
			      (size_t)json_object_get_string_len(wants)) == 0;
	case json_type_array: {
		size_t n = json_object_array_length(wants);
		if (n != json_object_array_length(got))
			return false;
		for (size_t i = 0; i < n; i++)
			if (!json_value_equal(json_object_array_get_idx(wants, i),
					      json_object_array_get_idx(got, i)))
				return false;
		return true;
	}
	case json_type_object: {
		if (object_count_non_null(wants) != object_count_non_null(got))
			return false;
		json_object_object_foreach (wants, key, value) {
			json_object *other = NULL;
			if (value && (!json_object_object_get_ex(got, key, &other) ||
				      !json_value_equal(value, other)))
				return false;
		}
		return true;
	}
	default:
		return false;
	}
}

/* ---- clients ---- */

static Client *client_find(Certification *cert, json_object *parameters)
{
	json_object *id;

	if (!json_object_object_get_ex(parameters, "client_id", &id) ||
	    !json_object_is_type(id, json_type_string))
		return NULL;
	for (size_t i = 0; i < MAX_CLIENTS; i++)
		if (cert->clients[i].id[0] &&
		    strcmp(cert->clients[i].id, json_object_get_string(id)) == 0)
			return &cert->clients[i];
	return NULL;
}

/* A new client in a free slot, or in place of the one that started first. */
static Client *client_new(Certification *cert)
{
	Client *client = &cert->clients[0];

	for (size_t i = 0; i < MAX_CLIENTS; i++) {
		if (!cert->clients[i].id[0]) {
			client = &cert->clients[i];
			break;
		}
		if (cert->clients[i].serial < client->serial)
			client = &cert->clients[i];
	}
	if (client->id[0])
		log_info("Forgetting client %s, which never called End", client->id);

	sd_id128_t id;
	int r = sd_id128_randomize(&id);
	if (r < 0)
		return NULL;
	*client = (Client){ .next = STEP_TEST01, .serial = ++cert->n_started };
	sd_id128_to_string(id, client->id);
	return client;
}

/* ---- steps ---- */

static Step step_from_method(const char *method)
{
	const char *dot = strrchr(method, '.');

	for (Step step = 0; step < _STEP_MAX; step++)
		if (dot && strcmp(dot + 1, steps[step].method) == 0)
			return step;
	return _STEP_INVALID;
}

/* {"KEY": VALUE}, taking VALUE; NULL on OOM. */
static json_object *object_with(const char *key, json_object *value)
{
	json_object *object = json_object_new_object();

	if (!object || !value || json_object_object_add(object, key, value) < 0) {
		json_object_put(object);
		json_object_put(value);
		return NULL;
	}
	return object;
}

/*
 * Marks the client failed and answers CertificationError. Takes `wants` and
 * `got`. The reply of a oneway call is dropped by the server: the log and End
 * still tell.
 */
static int step_fail(VarlinkCall *call, Client *client, Step step, const char *why,
		     json_object *wants, json_object *got)
{
	client->failed = true;
	log_warning("Client %s, %s: %s; wants %s, got %s", client->id, steps[step].method, why,
		    json_object_to_json_string_ext(wants, JSON_C_TO_STRING_PLAIN),
		    json_object_to_json_string_ext(got, JSON_C_TO_STRING_PLAIN));

	json_object *parameters = json_object_new_object();
	if (!parameters || !wants || !got) {
		json_object_put(parameters);
		json_object_put(wants);
		json_object_put(got);
		return -ENOMEM;
	}
	json_object_object_add(parameters, "wants", wants);
	json_object_object_add(parameters, "got", got);
	return varlink_call_reply_error(call, ERROR_CERTIFICATION, parameters);
}

/* Test10's replies: "Reply number 1" … with "continues" on all but the last. */
static int test10_reply(VarlinkCall *call)
{
	for (unsigned i = 1; i <= TEST10_REPLIES; i++) {
		char text[32];
		snprintf(text, sizeof(text), "Reply number %u", i);
		json_object *reply = object_with("string", json_object_new_string(text));
		if (!reply)
			return -ENOMEM;
		int r = i < TEST10_REPLIES ? varlink_call_reply_continues(call, reply)
					   : varlink_call_reply(call, reply);
		if (r < 0)
			return r;
	}
	return 0;
}

static int method_start(Certification *cert, VarlinkCall *call, json_object *parameters)
{
	StepParameters p = { 0 };
	const char *bad;

	if (varlink_parameters_dispatch(parameters, no_fields, &p, &bad) < 0)
		return varlink_call_reply_invalid_parameter(call, bad);
	Client *client = client_new(cert);
	if (!client)
		return -ENOMEM;
	log_info("Client %s started", client->id);
	return varlink_call_reply(call,
				  object_with("client_id", json_object_new_string(client->id)));
}

static int method_end(VarlinkCall *call, Client *client)
{
	bool all_ok = !client->failed && client->next == STEP_END;

	if (all_ok)
		log_info("Client %s passed every step", client->id);
	else
		log_warning("Client %s ended at %s%s", client->id, steps[client->next].method,
			    client->failed ? " after a failed step" : " without the steps before");
	*client = (Client){ 0 };
	return varlink_call_reply(call, object_with("all_ok", json_object_new_boolean(all_ok)));
}

/* Every method of the interface: the step is told by the method's name. */
static int method_step(VarlinkCall *call, json_object *parameters, void *userdata)
{
	Certification *cert = userdata;
	StepParameters p = { 0 };
	const char *bad;

	Step step = step_from_method(varlink_call_method(call));
	if (step < 0)
		return -EINVAL; /* the method table and the step table disagree */
	if (step == STEP_START)
		return method_start(cert, call, parameters);

	Client *client = client_find(cert, parameters);
	if (varlink_parameters_dispatch(parameters, steps[step].fields, &p, &bad) < 0) {
		if (client) {
			client->failed = true;
			log_warning("Client %s, %s: parameter \"%s\" is missing, unknown or of "
				    "the wrong type",
				    client->id, steps[step].method, bad);
		}
		return varlink_call_reply_invalid_parameter(call, bad);
	}
	if (!client) {
		log_warning("%s: unknown client_id \"%s\"", steps[step].method, p.client_id);
		return varlink_call_reply_error(call, ERROR_CLIENT_ID, NULL);
	}
	if (step == STEP_END)
		return method_end(call, client);

	if (client->next != step)
		return step_fail(
			call, client, step, "called out of order",
			object_with("method", json_object_new_string(steps[client->next].method)),
			object_with("method", json_object_new_string(steps[step].method)));
	/* Test10 without "more" never gets here: the server answers ExpectedMore. */
	if (step == STEP_TEST11 && !varlink_call_is_oneway(call))
		return step_fail(call, client, step, "called without \"oneway\"",
				 object_with("oneway", json_object_new_boolean(true)),
				 object_with("oneway", json_object_new_boolean(false)));

	json_object *got = NULL;
	if (json_object_deep_copy(parameters, &got, NULL) < 0)
		return -ENOMEM;
	json_object_object_del(got, "client_id");
	if (!json_value_equal(cert->inputs[step], got))
		return step_fail(call, client, step, "wrong values",
				 json_object_get(cert->inputs[step]), got);
	json_object_put(got);

	client->next++;
	if (step == STEP_TEST10)
		return test10_reply(call);
	return varlink_call_reply(call, json_object_get(cert->replies[step]));
}

static const VarlinkMethod certification_methods[] = {
	{ "Start", method_step, 0 },
	{ "Test01", method_step, 0 },
	{ "Test02", method_step, 0 },
	{ "Test03", method_step, 0 },
	{ "Test04", method_step, 0 },
	{ "Test05", method_step, 0 },
	{ "Test06", method_step, 0 },
	{ "Test07", method_step, 0 },
	{ "Test08", method_step, 0 },
	{ "Test09", method_step, 0 },
	{ "Test10", method_step, VARLINK_METHOD_REQUIRES_MORE },
	{ "Test11", method_step, 0 },
	{ "End", method_step, 0 },
	{ 0 },
};

static void certification_done(Certification *cert)
{
	for (Step step = 0; step < _STEP_MAX; step++) {
		json_object_put(cert->inputs[step]);
		json_object_put(cert->replies[step]);
	}
}

/* Parses the step table; an input left NULL there is the previous step's reply. */
static int certification_init(Certification *cert)
{
	*cert = (Certification){ 0 };
	for (Step step = 0; step < _STEP_MAX; step++) {
		if (steps[step].reply) {
			cert->replies[step] = json_tokener_parse(steps[step].reply);
			if (!cert->replies[step])
				return log_error_errno(EINVAL, "The reply of %s is not JSON",
						       steps[step].method);
		}
		if (steps[step].input)
			cert->inputs[step] = json_tokener_parse(steps[step].input);
		else if (step > 0)
			cert->inputs[step] = json_object_get(cert->replies[step - 1]);
		if (!cert->inputs[step])
			return log_error_errno(EINVAL, "The input of %s is unknown",
					       steps[step].method);
	}
	return 0;
}

/* ---- main ---- */

DEFINE_TRIVIAL_CLEANUP_FUNC(Server *, server_free)

static int on_exit_signal(sd_event_source *source, const struct signalfd_siginfo *info,
			  void *userdata)
{
	return sd_event_exit(sd_event_source_get_event(source), 0);
}

static int run(const char *socket_path, Certification *cert)
{
	_cleanup_(sd_event_unrefp) sd_event *event = NULL;
	_cleanup_(server_freep) Server *server = NULL;
	const VarlinkIdl *idl = varlink_idl_find(certification_interfaces, INTERFACE);
	const ServerInfo info = {
		.vendor = "libvfio",
		.product = "libvfio Varlink certification server",
		.version = PROJECT_VERSION,
		.url = PROJECT_URL,
	};
	const ServerLimits limits = {
		.max_message_size = 1024 * 1024,
		.client_timeout_usec = 10 * 1000 * 1000,
		.max_connections = 16,
		.max_connections_per_user = 16,
		.idle_timeout_usec = 60ULL * 1000 * 1000,
		.max_unread_output = 64 << 20,
	};
	sigset_t mask;

	if (!idl)
		return log_error_errno(ENOENT, "The " INTERFACE " IDL is not embedded");

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return log_error_errno(errno, "Cannot block SIGTERM and SIGINT");

	int r = sd_event_default(&event);
	if (r >= 0)
		r = sd_event_add_signal(event, NULL, SIGTERM, on_exit_signal, NULL);
	if (r >= 0)
		r = sd_event_add_signal(event, NULL, SIGINT, on_exit_signal, NULL);
	if (r < 0)
		return log_error_errno(r, "Cannot set up the event loop");

	r = server_new(event, &info, &limits, &server);
	if (r >= 0)
		r = server_add_interface(server, idl, certification_methods, cert);
	if (r < 0)
		return log_error_errno(r, "Cannot set up the Varlink server");
	r = server_listen_path(server, socket_path);
	if (r < 0)
		return log_error_errno(r, "Cannot listen on %s", socket_path);

	log_info("Serving " INTERFACE " on %s", socket_path);
	r = sd_event_loop(event);
	if (r < 0)
		return log_error_errno(r, "The event loop failed");
	return 0;
}

int main(int argc, char *argv[])
{
	Certification cert;

	log_setup("certification-server");
	if (argc != 2) {
		fprintf(stderr, "Usage: %s SOCKET_PATH\n", argv[0]);
		return 2;
	}
	int r = certification_init(&cert);
	if (r >= 0)
		r = run(argv[1], &cert);
	certification_done(&cert);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
