/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A blocking Varlink client over a Unix stream socket: connect, send a call,
 * read its replies. For command-line tools and tests, where waiting is fine;
 * the daemon never uses it.
 */
#pragma once

#include <json-c/json.h>
#include <stdint.h>

#include "varlink_message.h"

/* Largest reply the client accepts. */
#define VARLINK_CLIENT_MAX_MESSAGE (64u * 1024u * 1024u)

typedef struct VarlinkClient VarlinkClient;

/*
 * Connects to the socket at `path`, waiting up to timeout_usec (0: forever)
 * while the server's backlog is full. Returns 0, or the negative errno of the
 * failure: -ENOENT (no socket there), -ECONNREFUSED (nothing listens),
 * -ETIMEDOUT (it listens but does not accept), -EACCES, -ENAMETOOLONG, ...
 */
int varlink_client_connect(const char *path, uint64_t timeout_usec, VarlinkClient **ret);
VarlinkClient *varlink_client_free(VarlinkClient *client);

/* Sends one call; takes ownership of `parameters` (may be NULL). */
int varlink_client_send(VarlinkClient *client, const char *method, json_object *parameters,
			unsigned flags, uint64_t timeout_usec);

/*
 * Waits for the next reply. Returns 0 with the message in *ret_message (the
 * caller owns it) and its parts in *ret_reply (borrowed from the message), or:
 *   -ECONNRESET  the daemon closed the connection
 *   -ETIMEDOUT   nothing complete arrived in time (0 waits forever)
 *   -EBADMSG / -EPROTO / -ELOOP / -EMSGSIZE   the bytes were not a Varlink reply
 */
int varlink_client_receive(VarlinkClient *client, uint64_t timeout_usec, json_object **ret_message,
			   VarlinkReplyMessage *ret_reply);

/* varlink_client_send() then varlink_client_receive() for a call with one reply. */
int varlink_client_call(VarlinkClient *client, const char *method, json_object *parameters,
			uint64_t timeout_usec, json_object **ret_message,
			VarlinkReplyMessage *ret_reply);
