/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Varlink server: listening sockets, client connections and their limits,
 * and dispatch of calls to the methods of registered interfaces. It answers
 * org.varlink.service itself. It knows connections and calls, not VMs or GPUs:
 * the meaning of a call lives in its handler.
 *
 * Calls on one connection are handled one at a time, in order, as Varlink
 * requires; a handler may reply later (after the loop has run), and the next
 * call of that connection waits until it has.
 *
 * Files: server.c (the server, listening, accepting and who gets a
 * connection), connection.c (one connection: framing, output and its budget,
 * timeouts, dispatch, replies), varlink_service.c (org.varlink.service);
 * server_internal.h is what they share.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

#include "varlink_idl.h"

typedef struct Server Server;
typedef struct VarlinkCall VarlinkCall;

/*
 * A method handler. It must reply (now or later) unless it returns < 0 without
 * replying, in which case the server answers io.libvfio.Manager.InternalError.
 * `parameters` is borrowed for the duration of the handler.
 */
typedef int (*VarlinkMethodHandler)(VarlinkCall *call, json_object *parameters, void *userdata);

enum {
	VARLINK_METHOD_REQUIRES_MORE = 1 << 0, /* refused with ExpectedMore without "more" */
};

typedef struct VarlinkMethod {
	const char *name; /* "GetVersion" */
	VarlinkMethodHandler handler;
	unsigned flags;
} VarlinkMethod;

typedef struct ServerLimits {
	uint64_t max_message_size; /* bytes in one message */
	uint64_t client_timeout_usec; /* silence allowed in the middle of a message */
	uint64_t max_connections; /* of non-root clients together; root's have their own cap */
	uint64_t max_connections_per_user; /* of one non-root uid */
	uint64_t idle_timeout_usec; /* a non-root connection with nothing going on is closed */
	uint64_t max_unread_output; /* replies waiting for all clients together, in bytes */
} ServerLimits;

/* What org.varlink.service.GetInfo answers. */
typedef struct ServerInfo {
	const char *vendor;
	const char *product;
	const char *version;
	const char *url;
} ServerInfo;

int server_new(sd_event *event, const ServerInfo *info, const ServerLimits *limits, Server **ret);
Server *server_free(Server *server);

/* New limits apply to existing connections too (their next message). */
void server_set_limits(Server *server, const ServerLimits *limits);

/*
 * Serves the interface described by `idl` (from varlink_idl.h; NULL gives
 * -ENOENT) with `methods`, a table ending with a NULL name. Handlers get
 * `userdata`. The tables must outlive the server.
 */
int server_add_interface(Server *server, const VarlinkIdl *idl, const VarlinkMethod *methods,
			 void *userdata);

/* Accepts connections on an already listening socket (socket activation). Takes the fd. */
int server_listen_fd(Server *server, int fd);

/*
 * Binds and listens on `path` itself: creates the parent directory, removes a
 * stale socket only when nothing answers on it (-EADDRINUSE when something
 * does), and makes it mode 0666 (authorization is per call). The socket file
 * is removed when the server is freed.
 */
int server_listen_path(Server *server, const char *path);

unsigned server_n_connections(const Server *server);

/* Called whenever a connection opens or closes (for status lines). */
void server_set_change_callback(Server *server, void (*callback)(Server *server, void *userdata),
				void *userdata);

/* Replies. Each takes ownership of `parameters` (may be NULL for {}). */

/* The final reply. */
int varlink_call_reply(VarlinkCall *call, json_object *parameters);
/*
 * The final reply, its parameters given as JSON text already (an object,
 * `size` bytes, trusted to be valid JSON): for replies too large to build as
 * json-c objects cheaply. The text is copied.
 */
int varlink_call_reply_text(VarlinkCall *call, const char *parameters, size_t size);
/* One of several replies to a call made with "more"; more follow. */
int varlink_call_reply_continues(VarlinkCall *call, json_object *parameters);
/* An error reply; ends the call. */
int varlink_call_reply_error(VarlinkCall *call, const char *error, json_object *parameters);
/* org.varlink.service.InvalidParameter naming `parameter`. */
int varlink_call_reply_invalid_parameter(VarlinkCall *call, const char *parameter);
/* An io.libvfio error whose only parameter is "message", formatted like printf. */
int varlink_call_reply_errorf(VarlinkCall *call, const char *error, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

bool varlink_call_wants_more(const VarlinkCall *call);
bool varlink_call_is_oneway(const VarlinkCall *call);
const char *varlink_call_method(const VarlinkCall *call);

/* Who called: from SO_PEERCRED when the connection was accepted. */
const struct ucred *varlink_call_peer(const VarlinkCall *call);
/*
 * Whether the caller's process was in group `gid` when it connected (its
 * primary or a supplementary group, SO_PEERGROUPS): the kernel's word, as
 * for file permissions, with no user database asked.
 */
bool varlink_call_peer_in_group(const VarlinkCall *call, gid_t gid);
/* The caller's process start time, read when it connected; 0 when it was gone. */
uint64_t varlink_call_peer_start_time(const VarlinkCall *call);

/*
 * Keeps a call alive past its handler, for a reply that comes later. When
 * the client disconnects meanwhile, replies become no-ops that return
 * -ECONNRESET. Drop with varlink_call_unref().
 */
VarlinkCall *varlink_call_ref(VarlinkCall *call);
VarlinkCall *varlink_call_unref(VarlinkCall *call);

/*
 * Calls `callback` once if the client disconnects while the call is kept (a
 * stream with "more" that waits for something to send): what it holds can
 * go at once rather than at the next reply. NULL cancels.
 */
void varlink_call_on_disconnect(VarlinkCall *call, void (*callback)(void *userdata),
				void *userdata);

/*
 * For a handler that kept the call to wait for an answer (polkit's) before it
 * acts: the answer is noted on the call, and the handler runs again with the
 * same parameters and finds it (systemd's varlink_verify_polkit_async() does
 * the same). Redispatch does nothing once the client is gone or the call is
 * answered. The verdict is 0 until set.
 */
void varlink_call_set_verdict(VarlinkCall *call, int verdict);
int varlink_call_verdict(const VarlinkCall *call);
void varlink_call_redispatch(VarlinkCall *call);
