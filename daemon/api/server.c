/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The server: its interfaces, its listening sockets (given by systemd or bound
 * here), accepting, and the fairness limits on who gets a connection at all
 * (per user, all users together, root's own cap). What happens on a
 * connection is connection.c's.
 */
#include "api/server.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "api/errors.h"
#include "api/server_internal.h"
#include "base/log.h"
#include "base/loop_watch.h"
#include "fs_util.h"
#include "parse_util.h"
#include "safe_open.h"

/*
 * root's connections do not count against limits.max-connections, so that no
 * user can lock the administrator out; this cap only bounds the descriptors
 * root's own clients can make the daemon hold.
 */
#define ROOT_MAX_CONNECTIONS 64u
/* After EMFILE/ENFILE, pause accepting for this long instead of spinning. */
#define ACCEPT_RETRY_USEC (100 * USEC_PER_MSEC)
/* How soon after clients were served the heap's free pages go back to the kernel. */
#define TRIM_DELAY_USEC (1 * USEC_PER_SEC)

/* ---- listening ---- */

/* Which limit a new connection is over. */
typedef enum ConnectionRefusal {
	REFUSAL_NONE,
	REFUSAL_TOTAL, /* limits.max-connections, of non-root users together */
	REFUSAL_PER_USER, /* limits.max-connections-per-user */
	REFUSAL_ROOT, /* ROOT_MAX_CONNECTIONS */
} ConnectionRefusal;

/* How many connections `uid` holds. A walk: the list is bounded by the limits themselves. */
static unsigned server_connections_of(const Server *server, uid_t uid)
{
	unsigned n = 0;
	for (const Connection *c = server->connections; c; c = c->next)
		n += c->peer.uid == uid;
	return n;
}

/*
 * Whether a client may have one more connection. root is checked only against
 * its own cap, so a flood of other users' connections never locks it out.
 */
static ConnectionRefusal server_admit(const Server *server, const struct ucred *peer,
				      uint64_t *ret_limit)
{
	if (peer_is_root(peer)) {
		*ret_limit = ROOT_MAX_CONNECTIONS;
		return server->n_root_connections >= ROOT_MAX_CONNECTIONS ? REFUSAL_ROOT
									  : REFUSAL_NONE;
	}
	*ret_limit = server->limits.max_connections_per_user;
	if (server_connections_of(server, peer->uid) >= server->limits.max_connections_per_user)
		return REFUSAL_PER_USER;
	*ret_limit = server->limits.max_connections;
	if (server->n_connections - server->n_root_connections >= server->limits.max_connections)
		return REFUSAL_TOTAL;
	return REFUSAL_NONE;
}

/* Tells a client over a limit which one, then closes it; logs at most once a second. */
static void refuse_connection(Server *server, int fd, const struct ucred *peer,
			      ConnectionRefusal refusal, uint64_t limit)
{
	unsigned long long n = limit;
	_cleanup_free_ char *data = NULL;
	size_t size;
	const char *key;
	json_object *parameters;

	switch (refusal) {
	case REFUSAL_PER_USER:
		key = "limits.max-connections-per-user";
		parameters = server_error_parametersf(
			"limit", n,
			"You (uid %u) already have %llu connections to the daemon open, the "
			"per-user limit; close one and try again.",
			(unsigned)peer->uid, n);
		break;
	case REFUSAL_ROOT:
		key = "the fixed cap for root";
		parameters =
			server_error_parametersf("limit", n,
						 "root already has %llu connections to the daemon "
						 "open, its cap; close one and try again.",
						 n);
		break;
	default:
		key = "limits.max-connections";
		parameters =
			server_error_parametersf("limit", n,
						 "The daemon already serves %llu connections, its "
						 "limit; try again later.",
						 n);
		break;
	}
	json_object *message =
		varlink_error_new(api_error_to_string(API_ERROR_TOO_MANY_CONNECTIONS), parameters);
	if (message && varlink_frame_encode(message, &data, &size) == 0)
		(void)send(fd, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
	json_object_put(message);
	safe_close(fd);

	uint64_t now = 0;
	(void)sd_event_now(server->event, CLOCK_MONOTONIC, &now);
	if (now - server->refused_logged_usec >= USEC_PER_SEC) {
		char uid[16], pid[16];
		snprintf(uid, sizeof(uid), "%u", (unsigned)peer->uid);
		snprintf(pid, sizeof(pid), "%d", (int)peer->pid);
		log_internal(
			LOG_WARNING, 0, __FILE__, __LINE__, __func__,
			LOG_FIELDS({ "LIBVFIO_CLIENT_UID", uid }, { "LIBVFIO_CLIENT_PID", pid }),
			"Refused a connection from uid %s (pid %s): %llu are open, the limit "
			"(%s)%s",
			uid, pid, n, key,
			server->refused_unlogged ? "; more were refused since the last message"
						 : "");
		server->refused_logged_usec = now;
		server->refused_unlogged = 0;
	} else
		server->refused_unlogged++;
}

static int on_accept_retry(sd_event_source *source, uint64_t usec, void *userdata)
{
	Listener *listener = userdata;
	loop_watch_enter(source);
	(void)sd_event_source_set_enabled(listener->io, SD_EVENT_ON);
	return 0;
}

static int on_listener_io(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	Listener *listener = userdata;
	Server *server = listener->server;

	loop_watch_enter(source);
	/* A bounded batch, so one flood cannot starve the established connections. */
	for (int i = 0; i < 64; i++) {
		int client = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (client < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				return 0;
			log_warning_errno(errno, "Cannot accept a connection, pausing");
			(void)sd_event_source_set_enabled(listener->io, SD_EVENT_OFF);
			(void)sd_event_source_set_time_relative(listener->retry, ACCEPT_RETRY_USEC);
			(void)sd_event_source_set_enabled(listener->retry, SD_EVENT_ONESHOT);
			return 0;
		}
		struct ucred peer = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
		socklen_t length = sizeof(peer);
		if (getsockopt(client, SOL_SOCKET, SO_PEERCRED, &peer, &length) < 0)
			log_debug("A new connection has no peer credentials: %s", strerror(errno));

		uint64_t limit = 0;
		ConnectionRefusal refusal = server_admit(server, &peer, &limit);
		if (refusal != REFUSAL_NONE)
			refuse_connection(server, client, &peer, refusal, limit);
		else
			(void)connection_new(server, client, &peer);
	}
	return 0;
}

static void listener_free(Listener *listener)
{
	sd_event_source_disable_unref(listener->io);
	sd_event_source_disable_unref(listener->retry);
	safe_close(listener->fd);
	free(listener);
}

int server_listen_fd(Server *server, int fd)
{
	Listener **listeners =
		reallocarray(server->listeners, server->n_listeners + 1, sizeof(Listener *));
	if (!listeners) {
		safe_close(fd);
		return -ENOMEM;
	}
	server->listeners = listeners;

	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		int r = negative_errno();
		safe_close(fd);
		return r;
	}

	Listener *listener = calloc(1, sizeof(*listener));
	if (!listener) {
		safe_close(fd);
		return -ENOMEM;
	}
	*listener = (Listener){ .server = server, .fd = fd };

	int r = sd_event_add_io(server->event, &listener->io, fd, EPOLLIN, on_listener_io,
				listener);
	if (r >= 0)
		r = sd_event_add_time_relative(server->event, &listener->retry, CLOCK_MONOTONIC,
					       ACCEPT_RETRY_USEC, 0, on_accept_retry, listener);
	if (r >= 0)
		r = sd_event_source_set_enabled(listener->retry, SD_EVENT_OFF);
	if (r >= 0) {
		(void)sd_event_source_set_description(listener->io, "listening socket");
		(void)sd_event_source_set_description(listener->retry, "listening socket, retry");
	}
	if (r < 0) {
		listener_free(listener);
		return r;
	}
	listeners[server->n_listeners++] = listener;
	return 0;
}

/* True when a server answers on the socket at `address`. */
static bool socket_is_live(const struct sockaddr_un *address)
{
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true; /* cannot tell: do not remove it */
	if (connect(fd, (const struct sockaddr *)address, sizeof(*address)) == 0)
		return true;
	return errno != ECONNREFUSED;
}

int server_listen_path(Server *server, const char *path)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof(address.sun_path))
		return -ENAMETOOLONG;
	strcpy(address.sun_path, path);

	int r = mkdir_parents(path, 0755);
	if (r < 0)
		return r;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return negative_errno();

	if (bind(fd, (struct sockaddr *)&address, sizeof(address)) < 0) {
		struct stat st;
		if (errno != EADDRINUSE)
			return negative_errno();
		/* Remove what is there only when it is a socket nobody answers on. */
		if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode) || socket_is_live(&address))
			return -EADDRINUSE;
		log_info("Removing stale socket %s", path);
		if (unlink(path) < 0 && errno != ENOENT)
			return negative_errno();
		if (bind(fd, (struct sockaddr *)&address, sizeof(address)) < 0)
			return negative_errno();
	}
	/* Everyone may connect; each call is authorized on its own (SO_PEERCRED). */
	r = bound_socket_chown_chmod(path, 0, 0, 0666);
	if (r < 0 || listen(fd, SOMAXCONN) < 0) {
		r = r < 0 ? r : negative_errno();
		(void)unlink(path);
		return r;
	}

	free(server->bound_path);
	server->bound_path = strdup(path);
	if (!server->bound_path) {
		(void)unlink(path);
		return -ENOMEM;
	}
	return server_listen_fd(server, TAKE_FD(fd));
}

/* ---- the server ---- */

/*
 * A burst of calls (a List of a thousand VMs, many clients at once) leaves the
 * heap as large as its busiest moment, with its free pages in the middle where
 * glibc keeps them. malloc_trim() hands them back: once, at most a second
 * after clients were last served, so a busy daemon pays it once a second and
 * an idle one holds only what it uses. It walks the free chunks of a heap of a
 * few MiB, well under a millisecond.
 */
static int on_trim(sd_event_source *source, uint64_t usec, void *userdata)
{
	loop_watch_enter(source);
	(void)malloc_trim(0);
	return 0;
}

void server_schedule_trim(Server *server)
{
	int enabled = SD_EVENT_OFF;

	if (!server->trim)
		return;
	(void)sd_event_source_get_enabled(server->trim, &enabled);
	if (enabled != SD_EVENT_OFF)
		return;
	(void)sd_event_source_set_time_relative(server->trim, TRIM_DELAY_USEC);
	(void)sd_event_source_set_enabled(server->trim, SD_EVENT_ONESHOT);
}

int server_new(sd_event *event, const ServerInfo *info, const ServerLimits *limits, Server **ret)
{
	Server *server = calloc(1, sizeof(*server));
	if (!server)
		return -ENOMEM;
	server->event = sd_event_ref(event);
	server->info = *info;
	server->limits = *limits;

	int r = sd_event_add_time_relative(event, &server->trim, CLOCK_MONOTONIC, TRIM_DELAY_USEC,
					   TRIM_DELAY_USEC / 2, on_trim, server);
	if (r >= 0)
		r = sd_event_source_set_enabled(server->trim, SD_EVENT_OFF);
	if (r >= 0)
		(void)sd_event_source_set_description(server->trim, "heap trim");
	if (r >= 0)
		r = varlink_service_register(server);
	if (r < 0) {
		server_free(server);
		return r;
	}
	*ret = server;
	return 0;
}

Server *server_free(Server *server)
{
	if (!server)
		return NULL;
	while (server->connections)
		connection_free(server->connections);
	for (size_t i = 0; i < server->n_listeners; i++)
		listener_free(server->listeners[i]);
	if (server->bound_path)
		(void)unlink(server->bound_path);
	free(server->bound_path);
	free(server->listeners);
	for (size_t i = 0; i < server->n_interfaces; i++)
		json_text_done(&server->interfaces[i].description);
	free(server->interfaces);
	sd_event_source_disable_unref(server->trim);
	sd_event_unref(server->event);
	free(server);
	return NULL;
}

void server_set_limits(Server *server, const ServerLimits *limits)
{
	server->limits = *limits;
	for (Connection *c = server->connections; c; c = c->next)
		varlink_reader_set_max_message_size(c->reader, limits->max_message_size);
}

int server_add_interface(Server *server, const VarlinkIdl *idl, const VarlinkMethod *methods,
			 void *userdata)
{
	if (!idl)
		return -ENOENT;
	RegisteredInterface *interfaces = reallocarray(server->interfaces, server->n_interfaces + 1,
						       sizeof(RegisteredInterface));
	if (!interfaces)
		return -ENOMEM;
	server->interfaces = interfaces;
	interfaces[server->n_interfaces++] =
		(RegisteredInterface){ .idl = idl, .methods = methods, .userdata = userdata };
	return 0;
}

void server_notify_change(Server *server)
{
	if (server->change_callback)
		server->change_callback(server, server->change_userdata);
}

unsigned server_n_connections(const Server *server)
{
	return server->n_connections;
}

void server_set_change_callback(Server *server, void (*callback)(Server *server, void *userdata),
				void *userdata)
{
	server->change_callback = callback;
	server->change_userdata = userdata;
}
