/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "api/vm_logs_api.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/authz.h"
#include "api/errors.h"
#include "base/loop_watch.h"
#include "base/worker.h"
#include "json_util.h"
#include "macro.h"
#include "varlink_message.h"
#include "vm/vm_logs.h"
#include "vm_definition.h"

#define LOGS_DEFAULT_LINES 100
/* At most this many in the first reply (2 KiB each at most: 2 MiB). */
#define LOGS_MAX_LINES 1000

/* A Logs call: its VM, and while it follows, the log and its place in the list. */
struct LogsFollow {
	VmsApi *api;
	LogsFollow *prev, *next;
	VarlinkCall *call;
	char name[VM_NAME_MAX + 1];
	size_t lines;
	bool follow;
	WorkerJob *reading; /* the log opened and its last lines read, off the loop */
	VmLog *log;
	sd_event_source *end; /* the client left: freed from the loop */
};

static void follow_free(LogsFollow *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else if (f->api->follows == f)
		f->api->follows = f->next;
	if (f->next)
		f->next->prev = f->prev;
	worker_cancel(f->reading);
	vm_log_free(f->log);
	sd_event_source_disable_unref(f->end);
	if (f->call)
		varlink_call_on_disconnect(f->call, NULL, NULL);
	varlink_call_unref(f->call);
	free(f);
}

static json_object *entries_json(const VmLogEntry *entries, size_t n)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	json_object *array = json_object_new_array_ext((int)n);
	if (!o || !array || json_object_object_add(o, "entries", array) < 0) {
		json_object_put(array);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_new_object();
		if (!e || json_object_array_add(array, e) < 0) {
			json_object_put(e);
			return NULL;
		}
		if (json_add_int_or_null(e, "time",
					 entries[i].usec > 0 ? (int64_t)entries[i].usec : -1) < 0 ||
		    json_add_string(e, "source", entries[i].qemu ? "qemu" : "libvfiod") < 0 ||
		    json_add_int_or_null(e, "priority", entries[i].priority) < 0 ||
		    json_add_string(e, "message", entries[i].message) < 0)
			return NULL;
	}
	return TAKE_PTR(o);
}

static int on_end(sd_event_source *source, void *userdata)
{
	loop_watch_enter(source);
	follow_free(userdata);
	return 0;
}

/* The client left: the follow ends, from the loop (we may be inside its callback). */
static void on_disconnect(void *userdata)
{
	LogsFollow *f = userdata;
	if (f->end)
		return;
	if (sd_event_add_defer(f->api->event, &f->end, on_end, f) < 0)
		vm_log_free(TAKE_PTR(f->log)); /* at least stop reading; freed with the daemon */
	else
		(void)sd_event_source_set_description(f->end, "logs follow, end");
}

static int on_entries(const VmLogEntry *entries, size_t n, void *userdata)
{
	LogsFollow *f = userdata;
	json_object *reply = entries_json(entries, n);
	if (!reply)
		return 0; /* these are lost, the follow goes on */
	return varlink_call_reply_continues(f->call, reply);
}

static void on_read(int result, VmLog *log, VmLogEntry *entries, size_t n, void *userdata)
{
	LogsFollow *f = userdata;
	VarlinkCall *call = f->call;

	f->reading = NULL;
	f->log = log;
	if (result < 0) {
		(void)api_reply_errorf(call, API_ERROR_INTERNAL,
				       "Cannot read the log of VM %s: %s.", f->name,
				       strerror(-result));
		follow_free(f);
		return;
	}
	json_object *reply = entries_json(entries, n);
	vm_log_entries_free(entries, n);
	if (!reply) {
		(void)api_reply_out_of_memory(call);
		follow_free(f);
		return;
	}
	if (!f->follow) {
		(void)varlink_call_reply(call, reply);
		follow_free(f);
		return;
	}
	if (varlink_call_reply_continues(call, reply) < 0) {
		follow_free(f); /* the client left already */
		return;
	}
	int r = vm_log_follow(f->log, f->api->event, on_entries, f);
	if (r < 0) {
		/* The lines so far went out; the stream still ends with a reason. */
		(void)api_reply_errorf(call, API_ERROR_INTERNAL,
				       "Cannot follow the log of VM %s: %s.", f->name,
				       strerror(-r));
		follow_free(f);
		return;
	}
	varlink_call_on_disconnect(call, on_disconnect, f);
}

static void on_vm(const VmOutcome *outcome, void *userdata)
{
	LogsFollow *f = userdata;

	if (!outcome->final)
		return;
	if (outcome->failure != VM_OK) {
		api_reply_vm_failure(f->call, f->name, outcome);
		follow_free(f);
		return;
	}
	int r = vm_manager_log_read(f->api->manager, f->name, f->lines, on_read, f, &f->reading);
	if (r < 0) {
		(void)api_reply_errorf(f->call, API_ERROR_INTERNAL,
				       "Cannot read the log of VM %s: %s.", f->name, strerror(-r));
		follow_free(f);
	}
}

typedef struct LogsParameters {
	const char *name;
	int64_t lines;
	bool follow;
	bool interactive;
} LogsParameters;

int vm_logs_api_call(VarlinkCall *call, json_object *parameters, void *userdata)
{
	static const VarlinkField fields[] = {
		{ "name", VARLINK_FIELD_STRING, VARLINK_FIELD_REQUIRED,
		  offsetof(LogsParameters, name) },
		{ "lines", VARLINK_FIELD_INT, VARLINK_FIELD_NULLABLE,
		  offsetof(LogsParameters, lines) },
		{ "follow", VARLINK_FIELD_BOOL, VARLINK_FIELD_NULLABLE,
		  offsetof(LogsParameters, follow) },
		{ "allowInteractiveAuthentication", VARLINK_FIELD_BOOL, VARLINK_FIELD_NULLABLE,
		  offsetof(LogsParameters, interactive) },
		{ 0 },
	};
	LogsParameters p = { .lines = LOGS_DEFAULT_LINES };
	const char *bad;
	VmsApi *api = userdata;

	if (varlink_parameters_dispatch(parameters, fields, &p, &bad) < 0)
		return varlink_call_reply_invalid_parameter(call, bad);
	if (!vm_name_is_valid(p.name))
		return varlink_call_reply_invalid_parameter(call, "name");
	if (p.lines < 0 || p.lines > LOGS_MAX_LINES)
		return varlink_call_reply_invalid_parameter(call, "lines");
	if (p.follow && !varlink_call_wants_more(call))
		return varlink_call_reply_invalid_parameter(call, "follow");
	int r = authz_check(api->authz, call, AUTHZ_VM_CONTROL, p.name, p.interactive);
	if (r <= 0)
		return r;
	LogsFollow *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	*f = (LogsFollow){ .api = api,
			   .next = api->follows,
			   .call = varlink_call_ref(call),
			   .lines = (size_t)p.lines,
			   .follow = p.follow };
	(void)snprintf(f->name, sizeof(f->name), "%s", p.name);
	if (f->next)
		f->next->prev = f;
	api->follows = f;
	vm_manager_get(api->manager, p.name, on_vm, f);
	return 0;
}

void vm_logs_api_done(VmsApi *api)
{
	while (api->follows)
		follow_free(api->follows);
}
