/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A QMP client on the event loop: QEMU's machine protocol, one JSON object a
 * line over a Unix socket (qemu docs/interop/qmp-spec). It reads the greeting,
 * enters command mode with qmp_capabilities, then matches each reply to its
 * command by "id" and hands asynchronous events to the owner. Never blocks:
 * a QEMU that stops reading only fills our output buffer.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

/* query-qmp-schema, the largest answer QEMU gives, is well under 1 MiB. */
#define QMP_MAX_MESSAGE (16U << 20)

typedef struct Qmp Qmp;

typedef struct QmpCallbacks {
	/* Command mode reached: commands may be sent (they may be sent before, too). */
	void (*ready)(Qmp *qmp, void *userdata);
	/* An event: "STOP", "RESUME", "SHUTDOWN"...; data may be NULL. */
	void (*event)(Qmp *qmp, const char *name, json_object *data, void *userdata);
	/* The connection ended (error: -ECONNRESET when QEMU closed it, or why we did). */
	void (*closed)(Qmp *qmp, int error, void *userdata);
} QmpCallbacks;

/*
 * A command's answer: result on success, otherwise error_class ("GenericError",
 * or "Disconnected" when the connection ended first) and a description.
 */
typedef void (*QmpReplyCallback)(Qmp *qmp, json_object *result, const char *error_class,
				 const char *description, void *userdata);

/*
 * Connects to QEMU's QMP socket at `path`. Returns 0, or a negative errno from
 * connect(): -ENOENT or -ECONNREFUSED while QEMU is not listening yet.
 */
int qmp_connect(sd_event *event, const char *path, const QmpCallbacks *callbacks, void *userdata,
		Qmp **ret);

/* Closes the connection without calling `closed`; pending replies get "Disconnected". */
Qmp *qmp_free(Qmp *qmp);

/* Sends `command` with `arguments` (taken; may be NULL). The callback is called exactly once. */
int qmp_execute(Qmp *qmp, const char *command, json_object *arguments, QmpReplyCallback callback,
		void *userdata);

/*
 * As qmp_execute(), with descriptor `fd` (taken, closed once sent or when the
 * command cannot go) passed along with the command (SCM_RIGHTS): for
 * "getfd", which names it for a later command such as "add_client".
 */
int qmp_execute_with_fd(Qmp *qmp, const char *command, json_object *arguments, int fd,
			QmpReplyCallback callback, void *userdata);

typedef enum QmpMessageKind {
	QMP_MESSAGE_GREETING,
	QMP_MESSAGE_EVENT,
	QMP_MESSAGE_REPLY,
} QmpMessageKind;

/* One message from QEMU, as understood. Strings and objects are borrowed from the message. */
typedef struct QmpMessage {
	QmpMessageKind kind;
	const char *event; /* an event's name (as text whatever its type); NULL for null */
	json_object *data; /* an event's data, or NULL */
	int64_t id; /* a reply's */
	json_object *result; /* a successful reply's "return", else NULL */
	const char *error_class, *description; /* a failed reply's, never NULL then */
} QmpMessage;

/*
 * What one message received from QEMU is: before the greeting (greeted false)
 * only the greeting is accepted, after it an event or a reply carrying our "id".
 * Returns 0, or -EPROTO for anything else. The pure part of the reader, apart
 * so that the fuzz target (tests/fuzz/fuzz-qmp.c) reaches it without a socket.
 */
int qmp_message_parse(json_object *message, bool greeted, QmpMessage *ret);
