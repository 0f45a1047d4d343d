/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the server's files share and nobody else sees: the Server, a
 * Connection and a VarlinkCall as they are, and the calls between
 * server.c (the server, listening, accepting and the limits on who gets a
 * connection), connection.c (one connection: framing, the output budget,
 * timeouts, dispatch and replies) and varlink_service.c (org.varlink.service).
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "api/server.h"
#include "json_text.h"
#include "macro.h"
#include "varlink_frame.h"
#include "varlink_message.h"

typedef struct Connection Connection;

typedef struct Listener {
	Server *server;
	int fd;
	sd_event_source *io;
	sd_event_source *retry;
} Listener;

typedef struct RegisteredInterface {
	const VarlinkIdl *idl;
	const VarlinkMethod *methods;
	void *userdata;
	/* GetInterfaceDescription's parameters, as JSON text: written at the first call, kept. */
	JsonText description;
} RegisteredInterface;

struct Server {
	sd_event *event;
	ServerInfo info;
	ServerLimits limits;

	Listener **listeners; /* pointers: each is the userdata of its event sources */
	size_t n_listeners;
	char *bound_path; /* a socket file we created, removed at exit */

	RegisteredInterface *interfaces;
	size_t n_interfaces;

	Connection *connections;
	unsigned n_connections; /* root's and everyone else's */
	unsigned n_root_connections;
	/* Replies queued on every connection and not yet taken by their clients. */
	uint64_t unread_output;
	uint64_t next_connection_id;

	/* Refused connections are logged at most once a second. */
	uint64_t refused_logged_usec;
	unsigned refused_unlogged;

	void (*change_callback)(Server *server, void *userdata);
	void *change_userdata;

	/* Gives the heap's free pages back a moment after clients were served. */
	sd_event_source *trim;
};

struct Connection {
	Server *server;
	Connection *prev, *next;
	uint64_t id;
	int fd;
	struct ucred peer;
	gid_t *peer_groups; /* its supplementary groups (SO_PEERGROUPS) */
	size_t n_peer_groups;
	uint64_t peer_start_time; /* its process's (process_stat.h); 0 when it was gone */
	sd_event_source *io;
	sd_event_source *timer;
	sd_event_source *defer;
	VarlinkReader *reader;

	char *out;
	size_t out_start, out_end, out_allocated;

	VarlinkCall *call; /* the call being handled; later ones wait in the reader */
	bool eof; /* the client will send no more */
	bool gone; /* it closed both ways: what it sent before is served, nothing goes back */
	bool closing; /* send what is queued, then close */
	bool dead; /* close at the next chance; nothing more is sent */
	bool idle_timer; /* the timer counts idleness (not a partial message, not a grace) */
};

struct VarlinkCall {
	unsigned n_ref;
	Connection *connection; /* NULL once the client is gone */
	json_object *message; /* owns everything `parsed` points to */
	VarlinkCallMessage parsed;
	const VarlinkMethod *method; /* for varlink_call_redispatch() */
	void *userdata;
	int verdict; /* varlink_call_set_verdict(), 0 until set */
	void (*on_disconnect)(void *userdata); /* varlink_call_on_disconnect() */
	void *disconnect_userdata;
	bool finished;
	bool in_handler;
};

static inline bool peer_is_root(const struct ucred *peer)
{
	return peer->uid == 0;
}

/* connection.c */

/* Takes `fd` (accepted, non-blocking) and serves it; the peer is its SO_PEERCRED. */
int connection_new(Server *server, int fd, const struct ucred *peer);
/* Closes and frees; a call still held elsewhere outlives it, its replies no-ops. */
void connection_free(Connection *c);

/*
 * The parameters of an io.libvfio error: {"message": TEXT}, and {LIMIT_KEY: LIMIT}
 * too when limit_key is set. NULL on OOM.
 */
json_object *server_error_parameters(const char *limit_key, uint64_t limit, const char *format,
				     va_list ap) _printf_(3, 0);
json_object *server_error_parametersf(const char *limit_key, uint64_t limit, const char *format,
				      ...) _printf_(3, 4);

/* Sends `message` (taken) as a reply to `call`; `final` ends the call. */
int varlink_call_send(VarlinkCall *call, json_object *message, bool final);

/* server.c */

/* Tells the change callback that a connection opened or closed. */
void server_notify_change(Server *server);
/* Clients were served: the heap's free pages go back to the kernel soon. */
void server_schedule_trim(Server *server);

/* varlink_service.c */

/* Serves org.varlink.service (GetInfo, GetInterfaceDescription) for `server`. */
int varlink_service_register(Server *server);
