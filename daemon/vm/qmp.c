/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm/qmp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "array.h"
#include "base/log.h"
#include "base/loop_watch.h"
#include "json_util.h"
#include "macro.h"
#include "varlink_frame.h"

#define QMP_READ_SIZE 65536

typedef struct Pending {
	int64_t id;
	QmpReplyCallback callback;
	void *userdata;
} Pending;

/* A descriptor that goes out with the command starting at `offset` of the output. */
typedef struct OutgoingFd {
	size_t offset;
	int fd;
} OutgoingFd;

struct Qmp {
	int fd;
	sd_event_source *io;
	VarlinkReader *reader;
	char *out; /* commands not yet written */
	size_t out_size, out_sent;
	OutgoingFd *fds; /* in the order of their offsets */
	size_t n_fds, allocated_fds;
	Pending *pending;
	size_t n_pending, allocated_pending;
	int64_t next_id;
	bool greeted; /* QEMU's greeting came: commands may go out */
	bool closed;
	unsigned busy; /* inside a callback: freeing waits */
	bool free_requested;
	QmpCallbacks callbacks;
	void *userdata;
};

static void close_outgoing_fds(Qmp *qmp)
{
	for (size_t i = 0; i < qmp->n_fds; i++)
		close(qmp->fds[i].fd);
	qmp->n_fds = 0;
}

static void destroy(Qmp *qmp)
{
	close_outgoing_fds(qmp);
	free(qmp->fds);
	sd_event_source_disable_unref(qmp->io);
	if (qmp->fd >= 0)
		close(qmp->fd);
	varlink_reader_free(qmp->reader);
	free(qmp->out);
	free(qmp->pending);
	free(qmp);
}

/* Ends the connection once: pending commands get "Disconnected", then the owner hears of it. */
static void end(Qmp *qmp, int error, bool tell)
{
	if (qmp->closed)
		return;
	qmp->closed = true;
	/* QEMU closing is seen as EOF, ECONNRESET or, on a write, EPIPE: one meaning. */
	if (error == -EPIPE)
		error = -ECONNRESET;
	qmp->io = sd_event_source_disable_unref(qmp->io);
	if (qmp->fd >= 0)
		close(qmp->fd);
	qmp->fd = -1;
	close_outgoing_fds(qmp);
	qmp->busy++;
	while (qmp->n_pending > 0) {
		Pending p = qmp->pending[0];
		memmove(qmp->pending, qmp->pending + 1, --qmp->n_pending * sizeof(Pending));
		p.callback(qmp, NULL, "Disconnected", "The QMP connection ended.", p.userdata);
	}
	if (tell && qmp->callbacks.closed)
		qmp->callbacks.closed(qmp, error, qmp->userdata);
	qmp->busy--;
}

Qmp *qmp_free(Qmp *qmp)
{
	if (!qmp)
		return NULL;
	end(qmp, 0, false);
	if (qmp->busy)
		qmp->free_requested = true; /* the callback that called us returns first */
	else
		destroy(qmp);
	return NULL;
}

static int update_events(Qmp *qmp)
{
	uint32_t events = EPOLLIN;
	if (qmp->greeted && qmp->out_sent < qmp->out_size)
		events |= EPOLLOUT;
	return sd_event_source_set_io_events(qmp->io, events);
}

/*
 * Sends from out_sent up to `end`; with `fd` >= 0, that descriptor rides on
 * the first byte (SCM_RIGHTS), where QEMU's monitor takes it for the command
 * it starts (getfd).
 */
static ssize_t send_some(Qmp *qmp, size_t end, int fd)
{
	struct iovec iov = { .iov_base = qmp->out + qmp->out_sent, .iov_len = end - qmp->out_sent };
	union {
		struct cmsghdr header;
		char buffer[CMSG_SPACE(sizeof(int))];
	} control = { 0 };
	struct msghdr message = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		message.msg_control = control.buffer;
		message.msg_controllen = sizeof(control.buffer);
		struct cmsghdr *c = CMSG_FIRSTHDR(&message);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(qmp->fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static int flush(Qmp *qmp)
{
	while (qmp->greeted && qmp->out_sent < qmp->out_size) {
		/* Up to the next command that carries a descriptor, or with it. */
		bool with_fd = qmp->n_fds > 0 && qmp->fds[0].offset == qmp->out_sent;
		size_t end = qmp->out_size;
		if (qmp->n_fds > 0 && !with_fd)
			end = qmp->fds[0].offset;
		else if (with_fd && qmp->n_fds > 1)
			end = qmp->fds[1].offset;
		ssize_t n = send_some(qmp, end, with_fd ? qmp->fds[0].fd : -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0)
			return -errno;
		qmp->out_sent += (size_t)n;
		if (with_fd && n > 0) { /* it went with the first byte: QEMU has its own now */
			close(qmp->fds[0].fd);
			memmove(qmp->fds, qmp->fds + 1, --qmp->n_fds * sizeof(OutgoingFd));
		}
	}
	if (qmp->out_sent == qmp->out_size) {
		qmp->out_sent = qmp->out_size = 0;
	}
	return update_events(qmp);
}

int qmp_message_parse(json_object *message, bool greeted, QmpMessage *ret)
{
	json_object *value, *error;

	*ret = (QmpMessage){ 0 };
	if (!greeted) {
		if (!json_object_object_get_ex(message, "QMP", NULL))
			return -EPROTO;
		ret->kind = QMP_MESSAGE_GREETING;
		return 0;
	}
	if (json_object_object_get_ex(message, "event", &value)) {
		ret->kind = QMP_MESSAGE_EVENT;
		ret->event = json_object_get_string(value);
		ret->data = json_get_object(message, "data");
		return 0;
	}
	if (json_get_int(message, "id", &ret->id) < 0)
		return -EPROTO;
	ret->kind = QMP_MESSAGE_REPLY;
	if (json_object_object_get_ex(message, "return", &ret->result))
		return 0;
	if (json_object_object_get_ex(message, "error", &error)) {
		const char *class = json_get_string(error, "class");
		const char *description = json_get_string(error, "desc");
		ret->error_class = class ? class : "GenericError";
		ret->description = description ? description : "QEMU gave no description.";
	} else {
		ret->error_class = "GenericError";
		ret->description = "QEMU's reply held no result.";
	}
	return 0;
}

static void on_reply(Qmp *qmp, const QmpMessage *reply)
{
	for (size_t i = 0; i < qmp->n_pending; i++) {
		if (qmp->pending[i].id != reply->id)
			continue;
		Pending p = qmp->pending[i];
		memmove(qmp->pending + i, qmp->pending + i + 1,
			(--qmp->n_pending - i) * sizeof(Pending));
		p.callback(qmp, reply->result, reply->error_class, reply->description, p.userdata);
		return;
	}
	log_debug("QMP reply for unknown id %" PRId64 " ignored", reply->id);
}

/* One message from QEMU: the greeting, an event, or a reply. < 0 ends the connection. */
static int on_message(Qmp *qmp, json_object *json)
{
	QmpMessage message;

	int r = qmp_message_parse(json, qmp->greeted, &message);
	if (r < 0)
		return r;
	switch (message.kind) {
	case QMP_MESSAGE_GREETING:
		qmp->greeted = true;
		return flush(qmp);
	case QMP_MESSAGE_EVENT:
		if (message.event && qmp->callbacks.event)
			qmp->callbacks.event(qmp, message.event, message.data, qmp->userdata);
		return 0;
	case QMP_MESSAGE_REPLY:
		on_reply(qmp, &message);
		return 0;
	}
	return -EPROTO;
}

static int on_io(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	loop_watch_enter(source);
	Qmp *qmp = userdata;
	char buffer[QMP_READ_SIZE];
	int r = 0;

	qmp->busy++;
	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		ssize_t n = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
		if (n == 0)
			r = -ECONNRESET;
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			r = -errno;
		else if (n > 0)
			r = varlink_reader_feed(qmp->reader, buffer, (size_t)n);
		for (json_object *message = NULL; r >= 0 && !qmp->closed;) {
			r = varlink_reader_next(qmp->reader, &message);
			if (r <= 0)
				break;
			r = on_message(qmp, message);
			json_object_put(message);
		}
	}
	if (r >= 0 && !qmp->closed && (revents & EPOLLOUT))
		r = flush(qmp);
	if (r < 0)
		end(qmp, r, true);
	qmp->busy--;
	if (qmp->free_requested && !qmp->busy)
		destroy(qmp);
	return 0;
}

static void on_capabilities(Qmp *qmp, json_object *result, const char *error_class,
			    const char *description, void *userdata)
{
	if (!result) {
		if (strcmp(error_class, "Disconnected") != 0)
			log_warning("QEMU refused qmp_capabilities: %s", description);
		return; /* commands will fail with QEMU's own errors, or the owner hears of the end
			 */
	}
	if (qmp->callbacks.ready)
		qmp->callbacks.ready(qmp, qmp->userdata);
}

static int execute(Qmp *qmp, const char *command, json_object *arguments, int fd,
		   QmpReplyCallback callback, void *userdata)
{
	_cleanup_json_ json_object *message = json_object_new_object();
	int r;

	if (qmp->closed) {
		json_object_put(arguments);
		return -ENOTCONN;
	}
	if (!message ||
	    (arguments && json_object_object_add(message, "arguments", arguments) < 0)) {
		json_object_put(arguments);
		return -ENOMEM;
	}
	if (json_add_string(message, "execute", command) < 0 ||
	    json_add_int(message, "id", qmp->next_id) < 0)
		return -ENOMEM;
	size_t length;
	const char *text = json_object_to_json_string_length(
		message, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &length);
	if (!text)
		return -ENOMEM;
	if (ARRAY_RESERVE(qmp->pending, qmp->allocated_pending, qmp->n_pending + 1) < 0)
		return -ENOMEM;
	if (fd >= 0 && ARRAY_RESERVE(qmp->fds, qmp->allocated_fds, qmp->n_fds + 1) < 0)
		return -ENOMEM;
	char *out = realloc(qmp->out, qmp->out_size + length + 1);
	if (!out)
		return -ENOMEM;
	qmp->out = out;
	if (fd >= 0)
		qmp->fds[qmp->n_fds++] = (OutgoingFd){ qmp->out_size, fd };
	memcpy(qmp->out + qmp->out_size, text, length);
	qmp->out[qmp->out_size + length] = '\n';
	qmp->out_size += length + 1;
	qmp->pending[qmp->n_pending++] = (Pending){ qmp->next_id++, callback, userdata };
	/* Queued: from here the callback is called once, with "Disconnected" if need be. */
	r = flush(qmp);
	if (r < 0)
		end(qmp, r, true);
	return 0;
}

int qmp_execute(Qmp *qmp, const char *command, json_object *arguments, QmpReplyCallback callback,
		void *userdata)
{
	return execute(qmp, command, arguments, -1, callback, userdata);
}

int qmp_execute_with_fd(Qmp *qmp, const char *command, json_object *arguments, int fd,
			QmpReplyCallback callback, void *userdata)
{
	int r = execute(qmp, command, arguments, fd, callback, userdata);
	if (r < 0)
		close(fd);
	return r;
}

int qmp_connect(sd_event *event, const char *path, const QmpCallbacks *callbacks, void *userdata,
		Qmp **ret)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	Qmp *qmp;
	int r;

	if (strlen(path) >= sizeof(address.sun_path))
		return -ENAMETOOLONG;
	strcpy(address.sun_path, path);
	qmp = calloc(1, sizeof(Qmp));
	if (!qmp)
		return -ENOMEM;
	qmp->callbacks = *callbacks;
	qmp->userdata = userdata;
	qmp->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	qmp->reader = varlink_reader_new(QMP_MAX_MESSAGE);
	if (qmp->fd < 0 || !qmp->reader) {
		r = qmp->fd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	varlink_reader_set_terminator(qmp->reader, '\n');
	if (connect(qmp->fd, (struct sockaddr *)&address, sizeof(address)) < 0 &&
	    errno != EINPROGRESS) {
		r = -errno;
		goto fail;
	}
	r = sd_event_add_io(event, &qmp->io, qmp->fd, EPOLLIN, on_io, qmp);
	if (r < 0)
		goto fail;
	(void)sd_event_source_set_description(qmp->io, "QMP");
	r = qmp_execute(qmp, "qmp_capabilities", NULL, on_capabilities, NULL);
	if (r < 0)
		goto fail;
	*ret = qmp;
	return 0;
fail:
	destroy(qmp);
	return r;
}
