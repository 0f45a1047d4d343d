/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "varlink_client.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "macro.h"
#include "time_util.h"
#include "varlink_frame.h"

struct VarlinkClient {
	int fd;
	VarlinkReader *reader;
};

/* The least room a read is given in the reader's buffer. */
#define RECEIVE_MINIMUM (64 * 1024)

/* Waits between attempts while the server's backlog is full. */
#define CONNECT_RETRY_USEC (10 * 1000)

int varlink_client_connect(const char *path, uint64_t timeout_usec, VarlinkClient **ret)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof(address.sun_path))
		return -ENAMETOOLONG;
	strcpy(address.sun_path, path);

	/*
	 * Non-blocking: a Unix socket whose backlog is full (a server that stopped
	 * accepting) would block a plain connect() forever. It says EAGAIN instead,
	 * and the attempt is repeated until the timeout.
	 */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return negative_errno();
	for (uint64_t waited = 0;; waited += CONNECT_RETRY_USEC) {
		if (connect(fd, (struct sockaddr *)&address, sizeof(address)) == 0)
			break;
		if (errno != EAGAIN)
			return negative_errno();
		if (timeout_usec > 0 && waited >= timeout_usec)
			return -ETIMEDOUT;
		(void)usleep(CONNECT_RETRY_USEC);
	}

	VarlinkClient *client = calloc(1, sizeof(*client));
	if (!client)
		return -ENOMEM;
	client->reader = varlink_reader_new(VARLINK_CLIENT_MAX_MESSAGE);
	if (!client->reader) {
		free(client);
		return -ENOMEM;
	}
	client->fd = TAKE_FD(fd);
	*ret = client;
	return 0;
}

VarlinkClient *varlink_client_free(VarlinkClient *client)
{
	if (!client)
		return NULL;
	safe_close(client->fd);
	varlink_reader_free(client->reader);
	free(client);
	return NULL;
}

/* Waits for `events` until `deadline` (0: forever). */
static int wait_for(int fd, short events, uint64_t deadline)
{
	for (;;) {
		int timeout_ms = -1;
		if (deadline) {
			uint64_t now = now_usec(CLOCK_MONOTONIC);
			if (now >= deadline)
				return -ETIMEDOUT;
			timeout_ms = (int)MIN((deadline - now + 999) / 1000, (uint64_t)INT32_MAX);
		}
		struct pollfd pfd = { .fd = fd, .events = events };
		int r = poll(&pfd, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return negative_errno();
		if (r > 0)
			return 0;
	}
}

static uint64_t deadline_after(uint64_t timeout_usec)
{
	return timeout_usec ? now_usec(CLOCK_MONOTONIC) + timeout_usec : 0;
}

int varlink_client_send(VarlinkClient *client, const char *method, json_object *parameters,
			unsigned flags, uint64_t timeout_usec)
{
	json_object *call = varlink_call_new(method, parameters, flags);
	_cleanup_free_ char *data = NULL;
	size_t size, done = 0;
	uint64_t deadline = deadline_after(timeout_usec);

	if (!call)
		return -ENOMEM;
	int r = varlink_frame_encode(call, &data, &size);
	json_object_put(call);
	if (r < 0)
		return r;

	while (done < size) {
		r = wait_for(client->fd, POLLOUT, deadline);
		if (r < 0)
			return r;
		ssize_t n = send(client->fd, data + done, size - done, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return errno == EPIPE ? -ECONNRESET : negative_errno();
		done += (size_t)n;
	}
	return 0;
}

int varlink_client_receive(VarlinkClient *client, uint64_t timeout_usec, json_object **ret_message,
			   VarlinkReplyMessage *ret_reply)
{
	uint64_t deadline = deadline_after(timeout_usec);

	for (;;) {
		json_object *message = NULL;
		int r = varlink_reader_next(client->reader, &message);
		if (r < 0)
			return r;
		if (r > 0) {
			r = varlink_reply_parse(message, ret_reply);
			if (r < 0) {
				json_object_put(message);
				return r;
			}
			*ret_message = message;
			return 0;
		}

		r = wait_for(client->fd, POLLIN, deadline);
		if (r < 0)
			return r;
		/*
		 * Straight into the reader's buffer, as much as it has room for: a reply of
		 * 300 KB arrives in a few reads and is never copied.
		 */
		size_t room;
		void *p = varlink_reader_reserve(client->reader, RECEIVE_MINIMUM, &room);
		if (!p)
			return -ENOMEM;
		ssize_t n = recv(client->fd, p, room, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return negative_errno();
		if (n == 0)
			return -ECONNRESET;
		r = varlink_reader_commit(client->reader, (size_t)n);
		if (r < 0)
			return r;
	}
}

int varlink_client_call(VarlinkClient *client, const char *method, json_object *parameters,
			uint64_t timeout_usec, json_object **ret_message,
			VarlinkReplyMessage *ret_reply)
{
	int r = varlink_client_send(client, method, parameters, 0, timeout_usec);
	/* A server that refused us may have said why before closing: read that first. */
	if (r < 0 && r != -ECONNRESET)
		return r;
	int k = varlink_client_receive(client, timeout_usec, ret_message, ret_reply);
	return r < 0 && k < 0 ? r : k;
}
