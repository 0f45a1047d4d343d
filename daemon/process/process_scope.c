/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "process/process_scope.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/loop_watch.h"
#include "macro.h"
#include "parse_util.h"

/* Making a scope is quick (the cgroup and a move); this bounds a stuck systemd. */
#define SCOPE_TIMEOUT_USEC (10 * USEC_PER_SEC)

#define SYSTEMD_SERVICE "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"
#define SYSTEMD_ERROR_UNIT_EXISTS "org.freedesktop.systemd1.UnitExists"

struct ScopeJob {
	sd_event *event;
	sd_bus *bus;
	sd_bus_slot *call; /* StartTransientUnit under way */
	sd_bus_slot *match; /* JobRemoved */
	sd_event_source *timer, *defer;
	char unit[256];
	char *job_path; /* systemd's job, once it replied */
	bool retried;
	ScopeResult result; /* a deferred answer, and its message */
	char message[512];
	ScopeCallback callback;
	void *userdata;
	/* The request, kept for a retry. */
	char *description, *slice, **device_allow;
	pid_t *pids;
	size_t n_pids;
};

static void job_stop(ScopeJob *job)
{
	job->call = sd_bus_slot_unref(job->call);
	job->match = sd_bus_slot_unref(job->match);
	job->timer = sd_event_source_disable_unref(job->timer);
	job->defer = sd_event_source_disable_unref(job->defer);
}

ScopeJob *scope_job_free(ScopeJob *job)
{
	if (!job)
		return NULL;
	job_stop(job);
	sd_bus_unref(job->bus);
	sd_event_unref(job->event);
	free(job->job_path);
	free(job->description);
	free(job->slice);
	if (job->device_allow)
		for (char **d = job->device_allow; *d; d++)
			free(*d);
	free(job->device_allow);
	free(job->pids);
	free(job);
	return NULL;
}

/*
 * Ends the job: nothing of it runs any more, then the caller hears. The unit
 * and the message it hears are copies of its own: it may free the job at once.
 */
static void job_finish(ScopeJob *job, ScopeResult result, const char *format, ...) _printf_(3, 4);
static void job_finish(ScopeJob *job, ScopeResult result, const char *format, ...)
{
	char unit[sizeof(job->unit)], message[sizeof(job->message)] = "";
	job_stop(job);
	memcpy(unit, job->unit, sizeof(unit));
	if (format) {
		va_list ap;
		va_start(ap, format);
		(void)vsnprintf(message, sizeof(message), format, ap);
		va_end(ap);
	}
	job->callback(result, result == SCOPE_MADE ? unit : NULL, message[0] ? message : NULL,
		      job->userdata);
}

/* Opens property `name`, an array of `element` ("u", "(ss)"), for its items. */
static int open_array_property(sd_bus_message *m, const char *name, const char *element)
{
	char variant[16];
	(void)snprintf(variant, sizeof(variant), "a%s", element);
	int r = sd_bus_message_open_container(m, 'r', "sv");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", name);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', variant);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', element);
	return r;
}

/* Closes what open_array_property() opened. */
static int close_array_property(sd_bus_message *m)
{
	int r = 0;
	for (int k = 0; r >= 0 && k < 3; k++)
		r = sd_bus_message_close_container(m);
	return r;
}

static int append_properties(sd_bus_message *m, const ScopeJob *job)
{
	int r = sd_bus_message_open_container(m, 'a', "(sv)");
	if (r >= 0)
		r = sd_bus_message_append(m, "(sv)(sv)(sv)", "Description", "s", job->description,
					  "Slice", "s", job->slice, "CollectMode", "s",
					  "inactive-or-failed");
	if (r >= 0)
		r = open_array_property(m, "PIDs", "u");
	for (size_t i = 0; r >= 0 && i < job->n_pids; i++)
		r = sd_bus_message_append(m, "u", (uint32_t)job->pids[i]);
	if (r >= 0)
		r = close_array_property(m);
	if (r >= 0 && job->device_allow) {
		r = sd_bus_message_append(m, "(sv)", "DevicePolicy", "s", "closed");
		if (r >= 0)
			r = open_array_property(m, "DeviceAllow", "(ss)");
		for (char **d = job->device_allow; r >= 0 && d[0] && d[1]; d += 2)
			r = sd_bus_message_append(m, "(ss)", d[0], d[1]);
		if (r >= 0)
			r = close_array_property(m);
	}
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}

static int ask(ScopeJob *job);

static int on_start_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	ScopeJob *job = userdata;
	const sd_bus_error *error = sd_bus_message_get_error(reply);
	const char *path;
	(void)ret_error;

	job->call = sd_bus_slot_unref(job->call);
	if (error && sd_bus_error_has_name(error, SYSTEMD_ERROR_UNIT_EXISTS) && !job->retried) {
		/* The last run's scope, not collected yet: this run's pid makes a new name. */
		job->retried = true;
		size_t n = strlen(job->unit) - strlen(".scope");
		(void)snprintf(job->unit + n, sizeof(job->unit) - n, "-%d.scope",
			       (int)job->pids[0]);
		if (ask(job) < 0)
			job_finish(job, SCOPE_FAILED, "Cannot ask systemd for %s.", job->unit);
		return 0;
	}
	if (error) {
		job_finish(job, SCOPE_FAILED, "systemd refused %s: %s", job->unit,
			   error->message ? error->message : error->name);
		return 0;
	}
	if (sd_bus_message_read(reply, "o", &path) < 0 || !(job->job_path = strdup(path)))
		job_finish(job, SCOPE_FAILED, "systemd's answer for %s cannot be read.", job->unit);
	return 0;
}

static int on_job_removed(sd_bus_message *message, void *userdata, sd_bus_error *ret_error)
{
	ScopeJob *job = userdata;
	uint32_t id;
	const char *path, *unit, *result;
	(void)ret_error;

	if (sd_bus_message_read(message, "uoss", &id, &path, &unit, &result) < 0)
		return 0;
	if (!job->job_path || strcmp(path, job->job_path) != 0)
		return 0; /* someone else's, or before our answer (cannot be: one connection, in
			     order) */
	if (strcmp(result, "done") == 0)
		job_finish(job, SCOPE_MADE, NULL);
	else
		job_finish(job, SCOPE_FAILED, "systemd's job for %s ended: %s.", job->unit, result);
	return 0;
}

static int on_timeout(sd_event_source *source, uint64_t usec, void *userdata)
{
	loop_watch_enter(source);
	ScopeJob *job = userdata;
	(void)usec;
	job_finish(job, SCOPE_FAILED, "systemd did not make %s within %llu s.", job->unit,
		   (unsigned long long)(SCOPE_TIMEOUT_USEC / USEC_PER_SEC));
	return 0;
}

static int on_defer(sd_event_source *source, void *userdata)
{
	loop_watch_enter(source);
	ScopeJob *job = userdata;
	job_finish(job, job->result, "%s", job->message);
	return 0;
}

/* Sends StartTransientUnit for job->unit. */
static int ask(ScopeJob *job)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	free(job->job_path);
	job->job_path = NULL;
	int r = sd_bus_message_new_method_call(job->bus, &m, SYSTEMD_SERVICE, SYSTEMD_PATH,
					       SYSTEMD_MANAGER, "StartTransientUnit");
	if (r >= 0)
		r = sd_bus_message_append(m, "ss", job->unit, "fail");
	if (r >= 0)
		r = append_properties(m, job);
	if (r >= 0)
		r = sd_bus_message_append(m, "a(sa(sv))", 0);
	if (r >= 0)
		r = sd_bus_call_async(job->bus, &job->call, m, on_start_reply, job,
				      SCOPE_TIMEOUT_USEC);
	return r;
}

static int job_copy_request(ScopeJob *job, const ScopeRequest *request)
{
	size_t n = 0;
	if (strlen(request->name) + sizeof("-2147483647.scope") > sizeof(job->unit))
		return -ENAMETOOLONG;
	(void)snprintf(job->unit, sizeof(job->unit), "%s.scope", request->name);
	job->description = strdup(request->description);
	job->slice = strdup(request->slice);
	job->pids = calloc(request->n_pids, sizeof(pid_t));
	if (!job->description || !job->slice || !job->pids)
		return -ENOMEM;
	memcpy(job->pids, request->pids, request->n_pids * sizeof(pid_t));
	job->n_pids = request->n_pids;
	if (!request->device_allow)
		return 0;
	while (request->device_allow[n])
		n++;
	job->device_allow = calloc(n + 1, sizeof(char *));
	if (!job->device_allow)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(job->device_allow[i] = strdup(request->device_allow[i])))
			return -ENOMEM;
	return 0;
}

/* An answer known at once, given from the loop (never before scope_start() returned). */
static int answer_later(ScopeJob *job, ScopeResult result, const char *message)
{
	job->result = result;
	(void)snprintf(job->message, sizeof(job->message), "%s", message);
	int r = sd_event_add_defer(job->event, &job->defer, on_defer, job);
	if (r >= 0)
		(void)sd_event_source_set_description(job->defer, "systemd scope, answer");
	return r;
}

int scope_start(BusConnection *systemd, sd_event *event, const ScopeRequest *request,
		ScopeCallback callback, void *userdata, ScopeJob **ret)
{
	ScopeJob *job = calloc(1, sizeof(*job));
	if (!job)
		return -ENOMEM;
	*job = (ScopeJob){ .event = sd_event_ref(event),
			   .callback = callback,
			   .userdata = userdata };
	int r = request->n_pids > 0 ? job_copy_request(job, request) : -EINVAL;
	if (r < 0) {
		scope_job_free(job);
		return r;
	}

	sd_bus *bus = NULL;
	r = bus_connection_get(systemd, &bus);
	if (r == -ENOENT || r == -ECONNREFUSED || r == -EACCES || r == -EPERM) {
		/* No systemd as PID 1, or a daemon that is not root (tests, development). */
		r = answer_later(job, SCOPE_NO_SYSTEMD,
				 "systemd is not running, or not ours to ask");
	} else if (r < 0) {
		char message[256];
		(void)snprintf(message, sizeof(message), "Cannot reach systemd: %s.", strerror(-r));
		r = answer_later(job, SCOPE_FAILED, message);
	} else {
		job->bus = sd_bus_ref(bus);
		/* A direct connection: the match is kept here, no bus daemon is asked. */
		r = sd_bus_match_signal(bus, &job->match, SYSTEMD_SERVICE, SYSTEMD_PATH,
					SYSTEMD_MANAGER, "JobRemoved", on_job_removed, job);
		if (r >= 0)
			r = sd_event_add_time_relative(event, &job->timer, CLOCK_MONOTONIC,
						       SCOPE_TIMEOUT_USEC, USEC_PER_MSEC,
						       on_timeout, job);
		if (r >= 0)
			(void)sd_event_source_set_description(job->timer, "systemd scope, timeout");
		if (r >= 0)
			r = ask(job);
	}
	if (r < 0) {
		scope_job_free(job);
		return r;
	}
	*ret = job;
	return 0;
}
