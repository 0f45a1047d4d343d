/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "api/polkit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "base/bus.h"
#include "base/log.h"
#include "base/loop_watch.h"
#include "fs_util.h"
#include "macro.h"
#include "parse_util.h"

/* How long polkit may take: a password prompt waits for a person. */
#define POLKIT_TIMEOUT_USEC (25 * USEC_PER_SEC)
#define POLKIT_INTERACTIVE_TIMEOUT_USEC (10 * 60 * USEC_PER_SEC)

/* CheckAuthorization's flags. */
#define POLKIT_CHECK_ALLOW_USER_INTERACTION UINT32_C(1)

typedef struct PolkitQuestion PolkitQuestion;

struct Polkit {
	sd_event *event;
	BusConnection bus;
	PolkitQuestion *questions; /* pending, a list */
};

struct PolkitQuestion {
	Polkit *polkit;
	PolkitQuestion *prev, *next;
	sd_bus_slot *slot; /* the call under way, or NULL */
	sd_event_source *defer; /* an answer known at once, delivered from the loop */
	PolkitAnswer answer;
	PolkitCallback callback;
	void *userdata;
};

static void question_free(PolkitQuestion *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		q->polkit->questions = q->next;
	if (q->next)
		q->next->prev = q->prev;
	sd_bus_slot_unref(q->slot);
	sd_event_source_disable_unref(q->defer);
	free(q);
}

/* Calls back once and frees the question. */
static void question_answer(PolkitQuestion *q, PolkitAnswer answer)
{
	PolkitCallback callback = q->callback;
	void *userdata = q->userdata;
	question_free(q);
	callback(answer, userdata);
}

int polkit_new(sd_event *event, Polkit **ret)
{
	Polkit *polkit = calloc(1, sizeof(*polkit));
	if (!polkit)
		return -ENOMEM;
	polkit->event = sd_event_ref(event);
	polkit->bus = (BusConnection){ .event = event, .kind = BUS_SYSTEM };
	*ret = polkit;
	return 0;
}

Polkit *polkit_free(Polkit *polkit)
{
	if (!polkit)
		return NULL;
	while (polkit->questions)
		question_answer(polkit->questions, POLKIT_CANCELLED);
	bus_connection_close(&polkit->bus);
	sd_event_unref(polkit->event);
	free(polkit);
	return NULL;
}

static int on_defer(sd_event_source *source, void *userdata)
{
	loop_watch_enter(source);
	PolkitQuestion *q = userdata;
	question_answer(q, q->answer);
	return 0;
}

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	PolkitQuestion *q = userdata;
	Polkit *polkit = q->polkit;
	const sd_bus_error *error = sd_bus_message_get_error(reply);
	int authorized = 0, challenge = 0;
	(void)ret_error;

	if (polkit->bus.bus && !sd_bus_is_open(polkit->bus.bus))
		bus_connection_close(&polkit->bus); /* open anew next time */
	if (error) {
		if (bus_error_is_absent(error)) {
			question_answer(q, POLKIT_ABSENT);
			return 0;
		}
		log_warning("polkit refused the question: %s: %s", error->name,
			    error->message ? error->message : "");
		question_answer(q, POLKIT_FAILED);
		return 0;
	}
	int r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
	if (r >= 0)
		r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
	if (r < 0) {
		log_warning_errno(r, "polkit's answer cannot be read");
		question_answer(q, POLKIT_FAILED);
		return 0;
	}
	question_answer(q, authorized ? POLKIT_YES : POLKIT_NO);
	return 0;
}

static int append_request(sd_bus_message *m, const struct ucred *subject, uint64_t start_time,
			  const char *action_id, const char *const *details, bool interactive)
{
	int r = sd_bus_message_append(m, "(sa{sv})", "unix-process", 3, "pid", "u",
				      (uint32_t)subject->pid, "start-time", "t", start_time, "uid",
				      "i", (int32_t)subject->uid);
	if (r < 0)
		return r;
	r = sd_bus_message_append(m, "s", action_id);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{ss}");
	for (const char *const *d = details; r >= 0 && d && d[0] && d[1]; d += 2)
		r = sd_bus_message_append(m, "{ss}", d[0], d[1]);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_append(
			m, "us", interactive ? POLKIT_CHECK_ALLOW_USER_INTERACTION : 0, "");
	return r;
}

int polkit_check(Polkit *polkit, const struct ucred *subject, uint64_t start_time,
		 const char *action_id, const char *const *details, bool interactive,
		 PolkitCallback callback, void *userdata)
{
	PolkitQuestion *q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	*q = (PolkitQuestion){ .polkit = polkit,
			       .next = polkit->questions,
			       .callback = callback,
			       .userdata = userdata };
	if (q->next)
		q->next->prev = q;
	polkit->questions = q;

	sd_bus *bus = NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	int r;
	if (start_time == 0)
		q->answer = POLKIT_FAILED; /* the caller was gone when it connected */
	else if (bus_connection_get(&polkit->bus, &bus) < 0)
		q->answer = POLKIT_ABSENT;
	else {
		r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.PolicyKit1",
						   "/org/freedesktop/PolicyKit1/Authority",
						   "org.freedesktop.PolicyKit1.Authority",
						   "CheckAuthorization");
		if (r >= 0)
			r = append_request(m, subject, start_time, action_id, details, interactive);
		if (r >= 0)
			r = sd_bus_call_async(bus, &q->slot, m, on_reply, q,
					      interactive ? POLKIT_INTERACTIVE_TIMEOUT_USEC
							  : POLKIT_TIMEOUT_USEC);
		if (r == -ENOMEM) {
			question_free(q);
			return r;
		}
		if (r >= 0)
			return 0;
		log_full_errno(LOG_DEBUG, r, "Cannot ask polkit");
		q->answer = POLKIT_ABSENT; /* the bus broke under us */
		bus_connection_close(&polkit->bus);
	}
	r = sd_event_add_defer(polkit->event, &q->defer, on_defer, q);
	if (r < 0) {
		question_free(q);
		return r;
	}
	(void)sd_event_source_set_description(q->defer, "polkit answer");
	return 0;
}
