/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One client connection: reading and framing its messages (with the size
 * limit and the timeout for a message left incomplete), its output and its
 * share of the budget for unread output, idleness, dispatching its calls one
 * at a time to the registered methods, and the replies (VarlinkCall).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "api/errors.h"
#include "api/server_internal.h"
#include "base/log.h"
#include "base/loop_watch.h"
#include "parse_util.h"
#include "process/process_stat.h"
#include "safe_open.h"
#include "time_util.h"

/* Stop reading a client's calls while this much output waits for it to read. */
#define OUTPUT_HIGH_WATER (4u * 1024u * 1024u)
/* A client that lets this much output pile up (a stream it does not read) is dropped. */
#define OUTPUT_MAX (64u * 1024u * 1024u)
/* How long a connection being closed may take to read its last error. */
#define CLOSE_GRACE_USEC (1 * USEC_PER_SEC)
#define READ_CHUNK (64 * 1024)
/*
 * Calls handled for one connection before the others get their turn: a client
 * that pipelines thousands must not make everyone else wait for them all; nor
 * a few costly ones (a turn also ends once it took this long).
 */
#define CALLS_PER_TURN 16
#define TURN_USEC 2000

static void connection_update(Connection *c);
static void connection_process(Connection *c);

/*
 * Logs about one client: the text names the connection and who holds it, and
 * the journal gets LIBVFIO_CLIENT_UID= / LIBVFIO_CLIENT_PID= to filter on.
 */
#define log_connection(c, level, ...) \
	log_connection_at(c, level, __FILE__, __LINE__, __func__, __VA_ARGS__)
_printf_(6, 7) static void log_connection_at(const Connection *c, int level, const char *file,
					     int line, const char *func, const char *format, ...)
{
	char uid[16], pid[16], text[1024];
	va_list ap;

	snprintf(uid, sizeof(uid), "%u", (unsigned)c->peer.uid);
	snprintf(pid, sizeof(pid), "%d", (int)c->peer.pid);
	va_start(ap, format);
	vsnprintf(text, sizeof(text), format, ap);
	va_end(ap);
	log_internal(level, 0, file, line, func,
		     LOG_FIELDS({ "LIBVFIO_CLIENT_UID", uid }, { "LIBVFIO_CLIENT_PID", pid }),
		     "Connection %llu (uid %s, pid %s): %s", (unsigned long long)c->id, uid, pid,
		     text);
}

/* ---- output ---- */

static size_t output_pending(const Connection *c)
{
	return c->out_end - c->out_start;
}

/* Throws away what waits to be sent, giving its memory back at once. */
static void connection_discard_output(Connection *c)
{
	c->server->unread_output -= output_pending(c);
	free(c->out);
	c->out = NULL;
	c->out_start = c->out_end = c->out_allocated = 0;
}

/*
 * The connection holding the most unread output, a non-root one whenever one
 * holds any: root's clients are the administrator's, and dropping them would
 * let a user lock root out again. `c` counts with the `size` bytes it is about
 * to queue. Dead connections count too: their output will never be sent. NULL
 * when nobody holds anything.
 */
static Connection *unread_output_victim(Server *server, Connection *c, size_t size)
{
	Connection *best = NULL;
	uint64_t best_size = 0;
	bool best_is_root = true;

	for (Connection *o = server->connections; o; o = o->next) {
		uint64_t unread = output_pending(o) + (o == c ? size : 0);
		bool is_root = peer_is_root(&o->peer);
		if (unread == 0)
			continue;
		if (!best || (best_is_root && !is_root) ||
		    (best_is_root == is_root && unread > best_size)) {
			best = o;
			best_size = unread;
			best_is_root = is_root;
		}
	}
	return best;
}

/*
 * Makes room for `size` more bytes of output on `c` within
 * limits.max-unread-output by dropping the connections holding the most.
 * -ENOBUFS when `c` itself is dropped.
 */
static int server_reserve_output(Server *server, Connection *c, size_t size)
{
	while (server->unread_output + size > server->limits.max_unread_output) {
		Connection *victim = unread_output_victim(server, c, size);
		if (!victim)
			break; /* cannot happen: the total is made of someone's output */
		if (victim->dead && victim != c) {
			/* Being closed already: what it holds will never be sent. */
			connection_discard_output(victim);
			continue;
		}
		log_connection(victim, LOG_WARNING,
			       "dropped: %zu bytes of replies unread while all clients together "
			       "reached limits.max-unread-output (%llu bytes)",
			       output_pending(victim),
			       (unsigned long long)server->limits.max_unread_output);
		connection_discard_output(victim);
		victim->dead = true;
		if (victim == c)
			return -ENOBUFS;
		/* Freed from its own event, never under another connection's handler. */
		(void)sd_event_source_set_enabled(victim->defer, SD_EVENT_ONESHOT);
	}
	return 0;
}

static void connection_flush(Connection *c)
{
	while (output_pending(c) > 0 && !c->dead) {
		ssize_t n = send(c->fd, c->out + c->out_start, output_pending(c),
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			log_connection(c, LOG_DEBUG, "write failed, closing: %s", strerror(errno));
			c->dead = true;
			return;
		}
		c->out_start += (size_t)n;
		c->server->unread_output -= (uint64_t)n;
	}
	if (c->out_start == c->out_end) {
		c->out_start = c->out_end = 0;
		/* A burst (a big reply, a client that caught up) does not pin its buffer. */
		if (c->out_allocated > READ_CHUNK)
			connection_discard_output(c);
	}
}

/* Queues the bytes of one message, given in pieces, and tries to send them at once. */
static int connection_queue(Connection *c, const struct iovec *pieces, size_t n_pieces)
{
	size_t size = 0;
	for (size_t i = 0; i < n_pieces; i++)
		size += pieces[i].iov_len;
	if (c->dead || c->gone)
		return -ECONNRESET;

	if (output_pending(c) + size > OUTPUT_MAX) {
		log_connection(
			c, LOG_WARNING,
			"the client does not read its replies (%zu bytes waiting), closing it",
			output_pending(c));
		c->dead = true;
		return -ENOBUFS;
	}
	int r = server_reserve_output(c->server, c, size);
	if (r < 0)
		return r;
	if (c->out_start > 0) {
		memmove(c->out, c->out + c->out_start, output_pending(c));
		c->out_end -= c->out_start;
		c->out_start = 0;
	}
	if (c->out_end + size > c->out_allocated) {
		size_t want = MAX(c->out_end + size, c->out_allocated * 2);
		char *p = realloc(c->out, want);
		if (!p)
			return -ENOMEM;
		c->out = p;
		c->out_allocated = want;
	}
	for (size_t i = 0; i < n_pieces; i++) {
		memcpy(c->out + c->out_end, pieces[i].iov_base, pieces[i].iov_len);
		c->out_end += pieces[i].iov_len;
	}
	c->server->unread_output += size;
	connection_flush(c);
	return 0;
}

/* Queues one message and tries to send it at once. Takes `message`. */
static int connection_send(Connection *c, json_object *message)
{
	_cleanup_free_ char *data = NULL;
	size_t size;

	if (!message)
		return -ENOMEM;
	int r = varlink_frame_encode(message, &data, &size);
	json_object_put(message);
	if (r < 0)
		return r;
	return connection_queue(c, &(struct iovec){ .iov_base = data, .iov_len = size }, 1);
}

json_object *server_error_parameters(const char *limit_key, uint64_t limit, const char *format,
				     va_list ap)
{
	char text[1024];
	json_object *parameters = json_object_new_object();

	if (!parameters)
		return NULL;
	vsnprintf(text, sizeof(text), format, ap);
	if (limit_key)
		json_object_object_add(parameters, limit_key,
				       json_object_new_int64((int64_t)limit));
	json_object_object_add(parameters, "message", json_object_new_string(text));
	return parameters;
}

json_object *server_error_parametersf(const char *limit_key, uint64_t limit, const char *format,
				      ...)
{
	va_list ap;
	va_start(ap, format);
	json_object *parameters = server_error_parameters(limit_key, limit, format, ap);
	va_end(ap);
	return parameters;
}

/* Sends an io.libvfio error that names the limit the client went over. */
_printf_(5, 6) static void connection_send_error(Connection *c, const char *error,
						 const char *limit_key, uint64_t limit,
						 const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	json_object *parameters = server_error_parameters(limit_key, limit, format, ap);
	va_end(ap);
	if (parameters)
		(void)connection_send(c, varlink_error_new(error, parameters));
}

/* Sends a last error, then closes once it is flushed (or after a grace period). */
static void connection_close_after_error(Connection *c)
{
	c->closing = true;
	c->idle_timer = false;
	(void)sd_event_source_set_time_relative(c->timer, CLOSE_GRACE_USEC);
	(void)sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

/* A message over the size limit: say so, log it, and close. */
static void connection_refuse_oversize(Connection *c)
{
	unsigned long long limit = c->server->limits.max_message_size;

	log_connection(c, LOG_WARNING, "message over %llu bytes, closing it", limit);
	connection_send_error(c, api_error_to_string(API_ERROR_MESSAGE_TOO_LARGE), "limit", limit,
			      "The message is larger than the %llu bytes the daemon accepts.",
			      limit);
	connection_close_after_error(c);
}

/* ---- calls ---- */

VarlinkCall *varlink_call_ref(VarlinkCall *call)
{
	if (call)
		call->n_ref++;
	return call;
}

VarlinkCall *varlink_call_unref(VarlinkCall *call)
{
	if (!call || --call->n_ref > 0)
		return NULL;
	json_object_put(call->message);
	free(call);
	return NULL;
}

bool varlink_call_wants_more(const VarlinkCall *call)
{
	return call->parsed.more;
}

bool varlink_call_is_oneway(const VarlinkCall *call)
{
	return call->parsed.oneway;
}

const char *varlink_call_method(const VarlinkCall *call)
{
	return call->parsed.method;
}

const struct ucred *varlink_call_peer(const VarlinkCall *call)
{
	static const struct ucred nobody = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	return call->connection ? &call->connection->peer : &nobody;
}

bool varlink_call_peer_in_group(const VarlinkCall *call, gid_t gid)
{
	const Connection *c = call->connection;
	if (!c || gid == (gid_t)-1)
		return false;
	if (c->peer.gid == gid)
		return true;
	for (size_t i = 0; i < c->n_peer_groups; i++)
		if (c->peer_groups[i] == gid)
			return true;
	return false;
}

void varlink_call_on_disconnect(VarlinkCall *call, void (*callback)(void *userdata), void *userdata)
{
	call->on_disconnect = callback;
	call->disconnect_userdata = userdata;
}

uint64_t varlink_call_peer_start_time(const VarlinkCall *call)
{
	return call->connection ? call->connection->peer_start_time : 0;
}

/* The peer's supplementary groups, as they were when it connected. */
static int read_peer_groups(Connection *c)
{
	socklen_t length = 64 * sizeof(gid_t);
	for (int attempt = 0; attempt < 2; attempt++) {
		gid_t *groups = malloc(length ? length : sizeof(gid_t));
		if (!groups)
			return -ENOMEM;
		if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, groups, &length) == 0) {
			c->peer_groups = groups;
			c->n_peer_groups = length / sizeof(gid_t);
			return 0;
		}
		int r = negative_errno();
		free(groups);
		if (r != -ERANGE) /* length now says how much is needed (NGROUPS_MAX at most) */
			return r;
	}
	return -ERANGE;
}

/* The call is over: let the connection go on with the next one. */
static void call_finished(VarlinkCall *call)
{
	Connection *c = call->connection;

	call->finished = true;
	if (!c || call->in_handler)
		return; /* the dispatcher picks up from here */
	c->call = NULL;
	varlink_call_unref(call);
	(void)sd_event_source_set_enabled(c->defer, SD_EVENT_ONESHOT);
}

int varlink_call_send(VarlinkCall *call, json_object *message, bool final)
{
	if (call->finished) {
		json_object_put(message);
		return -EALREADY;
	}
	if (!call->connection) {
		json_object_put(message);
		if (final)
			call->finished = true;
		return -ECONNRESET;
	}

	int r = 0;
	if (call->parsed.oneway)
		json_object_put(message); /* the client asked for no reply */
	else
		r = connection_send(call->connection, message);
	if (final)
		call_finished(call);
	return r;
}

int varlink_call_reply(VarlinkCall *call, json_object *parameters)
{
	return varlink_call_send(call, varlink_reply_new(parameters, false), true);
}

int varlink_call_reply_text(VarlinkCall *call, const char *parameters, size_t size)
{
	static const char prefix[] = "{\"parameters\":", suffix[] = "}";
	const struct iovec pieces[] = {
		{ .iov_base = (void *)prefix, .iov_len = sizeof(prefix) - 1 },
		{ .iov_base = (void *)parameters, .iov_len = size },
		{ .iov_base = (void *)suffix, .iov_len = sizeof(suffix) }, /* with the NUL */
	};

	if (call->finished)
		return -EALREADY;
	if (!call->connection) {
		call->finished = true;
		return -ECONNRESET;
	}
	int r = call->parsed.oneway ? 0 : connection_queue(call->connection, pieces, 3);
	call_finished(call);
	return r;
}

int varlink_call_reply_continues(VarlinkCall *call, json_object *parameters)
{
	if (!call->parsed.more) {
		json_object_put(parameters);
		return -EINVAL;
	}
	return varlink_call_send(call, varlink_reply_new(parameters, true), false);
}

int varlink_call_reply_error(VarlinkCall *call, const char *error, json_object *parameters)
{
	return varlink_call_send(call, varlink_error_new(error, parameters), true);
}

int varlink_call_reply_invalid_parameter(VarlinkCall *call, const char *parameter)
{
	return varlink_call_send(call, varlink_error_invalid_parameter(parameter), true);
}

int varlink_call_reply_errorf(VarlinkCall *call, const char *error, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	json_object *parameters = server_error_parameters(NULL, 0, format, ap);
	va_end(ap);
	return varlink_call_reply_error(call, error, parameters);
}

/* ---- dispatch ---- */

static const VarlinkMethod *find_method(Server *server, const VarlinkCallMessage *call,
					void **ret_userdata, bool *ret_interface_found)
{
	const char *method_name = call->method + call->interface_length + 1;

	*ret_interface_found = false;
	for (size_t i = 0; i < server->n_interfaces; i++) {
		const VarlinkIdl *idl = server->interfaces[i].idl;
		if (strlen(idl->name) != call->interface_length ||
		    strncmp(idl->name, call->method, call->interface_length) != 0)
			continue;
		*ret_interface_found = true;
		for (const VarlinkMethod *m = server->interfaces[i].methods; m->name; m++)
			if (strcmp(m->name, method_name) == 0) {
				*ret_userdata = server->interfaces[i].userdata;
				return m;
			}
		return NULL;
	}
	return NULL;
}

/*
 * Runs the call's handler (again, when redispatched) and answers for it when it
 * failed. The connection's reference to its call goes once the call is over.
 */
static void call_run_handler(VarlinkCall *call)
{
	Connection *c = call->connection;
	const char *name = call->parsed.method;

	loop_watch_detail("%s", name);
	call->in_handler = true;
	int r = call->method->handler(call, call->parsed.parameters, call->userdata);
	call->in_handler = false;

	if (r >= 0 && !call->finished && call->n_ref == 1) {
		/* Nobody replied and nobody kept the call to reply later: a bug, not a hang. */
		log_error("%s returned without replying", name);
		r = -EPROTO;
	}
	if (r < 0 && !call->finished) {
		log_error_errno(r, "%s failed", name);
		(void)api_reply_errorf(call, API_ERROR_INTERNAL,
				       "The daemon failed to handle %s (%s); see its log "
				       "(journalctl -u libvfiod).",
				       name, strerror(-r));
	}
	if (call->finished && c && c->call == call) {
		c->call = NULL;
		varlink_call_unref(call);
	}
}

void varlink_call_set_verdict(VarlinkCall *call, int verdict)
{
	call->verdict = verdict;
}

int varlink_call_verdict(const VarlinkCall *call)
{
	return call->verdict;
}

void varlink_call_redispatch(VarlinkCall *call)
{
	if (call->finished || !call->connection || call->in_handler)
		return;
	/* The handler may drop the reference that keeps the call; hold one meanwhile. */
	Connection *c = call->connection;
	varlink_call_ref(call);
	call_run_handler(call);
	if (call->finished) /* the connection goes on with its next call */
		(void)sd_event_source_set_enabled(c->defer, SD_EVENT_ONESHOT);
	varlink_call_unref(call);
}

static void connection_dispatch(Connection *c, json_object *message)
{
	VarlinkCallMessage parsed;
	const char *bad_key;
	bool interface_found;
	void *userdata = NULL;

	int r = varlink_call_parse(message, &parsed, &bad_key);
	if (r < 0) {
		log_connection(c, LOG_WARNING, "not a Varlink call (bad \"%s\"), closing it",
			       bad_key ? bad_key : "?");
		connection_send_error(c, api_error_to_string(API_ERROR_PROTOCOL), NULL, 0,
				      "The message is not a Varlink call: its \"%s\" is missing or "
				      "malformed.",
				      bad_key ? bad_key : "method");
		json_object_put(message);
		connection_close_after_error(c);
		return;
	}

	const VarlinkMethod *method = find_method(c->server, &parsed, &userdata, &interface_found);
	json_object *error = NULL;
	if (!method && !interface_found) {
		char interface[VARLINK_MAX_NAME + 1];
		snprintf(interface, sizeof(interface), "%.*s", (int)parsed.interface_length,
			 parsed.method);
		error = varlink_error_interface_not_found(interface);
	} else if (!method)
		error = varlink_error_method_not_found(parsed.method);
	else if ((method->flags & VARLINK_METHOD_REQUIRES_MORE) && !parsed.more)
		error = varlink_error_new(VARLINK_ERROR_EXPECTED_MORE, NULL);

	if (error || !method) {
		if (!parsed.oneway)
			(void)connection_send(c, error);
		else
			json_object_put(error);
		json_object_put(message);
		return;
	}

	VarlinkCall *call = calloc(1, sizeof(*call));
	if (!call) {
		json_object_put(message);
		c->dead = true;
		return;
	}
	*call = (VarlinkCall){ .n_ref = 1,
			       .connection = c,
			       .message = message,
			       .parsed = parsed,
			       .method = method,
			       .userdata = userdata };
	c->call = call;

	call_run_handler(call);
}

/*
 * Handles the whole calls buffered, one at a time, while nothing else is in the
 * way, and at most CALLS_PER_TURN: then the connection goes to the back of the
 * loop's queue (its defer source) and the others are served first.
 */
static void connection_process(Connection *c)
{
	uint64_t began = now_usec(CLOCK_MONOTONIC);

	for (unsigned handled = 0;
	     !c->call && !c->closing && !c->dead && output_pending(c) < OUTPUT_HIGH_WATER;
	     handled++) {
		if (handled == CALLS_PER_TURN ||
		    (handled > 0 && now_usec(CLOCK_MONOTONIC) - began > TURN_USEC)) {
			if (varlink_reader_has_message(c->reader))
				(void)sd_event_source_set_enabled(c->defer, SD_EVENT_ONESHOT);
			break;
		}
		json_object *message = NULL;
		int r = varlink_reader_next(c->reader, &message);
		if (r == 0)
			break;
		if (r == -EMSGSIZE) {
			connection_refuse_oversize(c);
			return;
		}
		if (r < 0) {
			const char *why = r == -ELOOP    ? "JSON nested too deeply"
					  : r == -EPROTO ? "JSON that is not an object"
							 : "invalid JSON";
			log_connection(c, LOG_WARNING, "received %s, closing it", why);
			connection_send_error(c, api_error_to_string(API_ERROR_PROTOCOL), NULL, 0,
					      "The daemon received %s; every message must be one "
					      "JSON object followed by a NUL byte.",
					      why);
			connection_close_after_error(c);
			return;
		}
		connection_dispatch(c, message);
	}
}

/* ---- connection events ---- */

/* One read; whether it got bytes (not at the end, an error or nothing to read yet). */
static bool connection_read(Connection *c)
{
	char buffer[READ_CHUNK];

	ssize_t n = recv(c->fd, buffer, sizeof(buffer), MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			log_connection(c, LOG_DEBUG, "read failed: %s", strerror(errno));
			c->dead = true;
		}
		return false;
	}
	if (n == 0) {
		c->eof = true;
		return false;
	}

	int r = varlink_reader_feed(c->reader, buffer, (size_t)n);
	if (r == -EMSGSIZE) {
		connection_refuse_oversize(c);
		return false;
	}
	if (r < 0) {
		log_error_errno(r, "Connection %llu: cannot buffer input",
				(unsigned long long)c->id);
		c->dead = true;
		return false;
	}

	/* Silence counts from the last byte: re-arm while a message is incomplete. */
	c->idle_timer = false;
	if (!varlink_reader_has_message(c->reader)) {
		(void)sd_event_source_set_time_relative(c->timer,
							c->server->limits.client_timeout_usec);
		(void)sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
	} else
		(void)sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
	return true;
}

/*
 * The client closed both ways (for stream sockets the kernel signals HUP only
 * then). Its calls sent before the close are still served when none of its
 * calls is under way (a oneway call, sent and closed at once, is the usual
 * case), their replies dropped; else, or with nothing whole left to read, it
 * is closed at once. Its events are off from here: HUP would come at every
 * turn of the loop.
 */
static void connection_hang_up(Connection *c)
{
	if (!c->call)
		while (!c->dead && !c->closing && connection_read(c))
			;
	connection_discard_output(c);
	c->gone = c->eof = true;
	(void)sd_event_source_set_enabled(c->io, SD_EVENT_OFF);
	if (c->call || c->closing || !varlink_reader_has_message(c->reader))
		c->dead = true;
}

/*
 * Nothing is going on: no call (a Watch stream is a call in progress), nothing
 * unsent, no partial message. Such a connection costs a slot and nothing else,
 * which is exactly how a user would hold slots to lock others out.
 */
static bool connection_is_idle(Connection *c)
{
	return !c->call && !c->closing && !c->dead && output_pending(c) == 0 &&
	       varlink_reader_buffered(c->reader) == 0;
}

/*
 * Starts counting idleness when a non-root connection becomes idle, and stops
 * when it is not any more. root's connections are never closed for idling.
 */
static void connection_update_idle_timer(Connection *c)
{
	bool idle = connection_is_idle(c) && !peer_is_root(&c->peer);

	if (idle && !c->idle_timer) {
		c->idle_timer = true;
		(void)sd_event_source_set_time_relative(c->timer,
							c->server->limits.idle_timeout_usec);
		(void)sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
	} else if (!idle && c->idle_timer) {
		c->idle_timer = false;
		(void)sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
	}
}

/* Closes the connection when it is done or broken; returns true if it did. */
static bool connection_maybe_close(Connection *c)
{
	bool done = c->dead || (c->closing && output_pending(c) == 0) ||
		    (c->eof && !c->call && output_pending(c) == 0 &&
		     !varlink_reader_has_message(c->reader));
	if (done)
		connection_free(c);
	return done;
}

static void connection_update(Connection *c)
{
	uint32_t events = 0;

	if (!c->eof && !c->closing && !c->call && output_pending(c) < OUTPUT_HIGH_WATER &&
	    !varlink_reader_has_message(c->reader))
		events |= EPOLLIN;
	if (output_pending(c) > 0)
		events |= EPOLLOUT;
	if (!c->gone)
		(void)sd_event_source_set_io_events(c->io, events);
	connection_update_idle_timer(c);
}

static void connection_after_event(Connection *c)
{
	server_schedule_trim(c->server);
	connection_process(c);
	if (!connection_maybe_close(c))
		connection_update(c);
}

static int on_connection_io(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	Connection *c = userdata;

	loop_watch_enter(source);
	if (revents & EPOLLHUP) {
		connection_hang_up(c);
	} else {
		if (revents & EPOLLOUT)
			connection_flush(c);
		if ((revents & (EPOLLIN | EPOLLERR)) && !c->dead)
			connection_read(c);
	}
	connection_after_event(c);
	return 0;
}

static int on_connection_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
	Connection *c = userdata;

	loop_watch_enter(source);
	if (c->closing) {
		c->dead = true; /* it did not read its last error in time */
	} else if (c->idle_timer) {
		/*
		 * A clean close, no error message: Varlink has no messages outside a
		 * call, and a client that made none is told by the end of the stream.
		 */
		char limit[32];
		log_connection(
			c, LOG_INFO, "idle for %s, closing it (limits.idle-timeout)",
			format_duration(limit, sizeof(limit), c->server->limits.idle_timeout_usec));
		c->dead = true;
	} else {
		char limit[32];
		log_connection(c, LOG_WARNING,
			       "silent for %s in the middle of a message, closing it",
			       format_duration(limit, sizeof(limit),
					       c->server->limits.client_timeout_usec));
		connection_send_error(
			c, api_error_to_string(API_ERROR_TIMEOUT), "limitMilliseconds",
			c->server->limits.client_timeout_usec / USEC_PER_MSEC,
			"The message stayed incomplete for %s; send whole messages.", limit);
		connection_close_after_error(c);
	}
	connection_after_event(c);
	return 0;
}

static int on_connection_defer(sd_event_source *source, void *userdata)
{
	loop_watch_enter(source);
	connection_after_event(userdata);
	return 0;
}

void connection_free(Connection *c)
{
	if (!c)
		return;
	Server *server = c->server;

	if (c->call) {
		VarlinkCall *call = c->call;
		call->connection = NULL; /* its owner may still reply: that becomes a no-op */
		void (*on_disconnect)(void *) = call->on_disconnect;
		call->on_disconnect = NULL;
		if (on_disconnect)
			on_disconnect(call->disconnect_userdata);
		varlink_call_unref(call);
	}
	sd_event_source_disable_unref(c->io);
	sd_event_source_disable_unref(c->timer);
	sd_event_source_disable_unref(c->defer);
	safe_close(c->fd);
	varlink_reader_free(c->reader);
	connection_discard_output(c);
	free(c->peer_groups);

	if (c->prev)
		c->prev->next = c->next;
	else
		server->connections = c->next;
	if (c->next)
		c->next->prev = c->prev;
	server->n_connections--;
	if (peer_is_root(&c->peer))
		server->n_root_connections--;
	log_connection(c, LOG_DEBUG, "closed, %u open", server->n_connections);
	free(c);
	server_notify_change(server);
}

int connection_new(Server *server, int fd, const struct ucred *peer)
{
	Connection *c = calloc(1, sizeof(*c));
	if (!c) {
		safe_close(fd);
		return -ENOMEM;
	}
	c->server = server;
	c->fd = fd;
	c->id = ++server->next_connection_id;
	c->peer = *peer;
	if (!peer_is_root(peer)) {
		/* What authorization may ask of the caller, fixed now (root is never asked). */
		int k = read_peer_groups(c);
		if (k < 0)
			log_connection(c, LOG_DEBUG, "has no peer groups: %s", strerror(-k));
		if (peer->pid > 0 && process_start_time(peer->pid, &c->peer_start_time) < 0)
			c->peer_start_time = 0;
	}

	c->next = server->connections;
	if (c->next)
		c->next->prev = c;
	server->connections = c;
	server->n_connections++;
	if (peer_is_root(peer))
		server->n_root_connections++;

	int r;
	c->reader = varlink_reader_new(server->limits.max_message_size);
	if (!c->reader)
		r = -ENOMEM;
	else
		r = sd_event_add_io(server->event, &c->io, fd, EPOLLIN, on_connection_io, c);
	if (r >= 0)
		r = sd_event_add_time_relative(server->event, &c->timer, CLOCK_MONOTONIC,
					       server->limits.client_timeout_usec, 0,
					       on_connection_timer, c);
	if (r >= 0)
		r = sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
	if (r >= 0)
		r = sd_event_add_defer(server->event, &c->defer, on_connection_defer, c);
	if (r >= 0)
		r = sd_event_source_set_enabled(c->defer, SD_EVENT_OFF);
	if (r >= 0) {
		(void)sd_event_source_set_description(c->io, "client connection");
		(void)sd_event_source_set_description(c->timer, "client connection timer");
		(void)sd_event_source_set_description(c->defer, "client connection, queued work");
	}
	if (r < 0) {
		log_error_errno(r, "Cannot set up a new connection");
		connection_free(c);
		return r;
	}
	log_connection(c, LOG_DEBUG, "opened, %u open", server->n_connections);
	connection_update(c); /* an idle connection from the start */
	server_notify_change(server);
	return 0;
}
