/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host/sysfs_write.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "base/loop_watch.h"
#include "base/worker.h"
#include "macro.h"

/*
 * The way results come back: a datagram socket pair, the threads sending op
 * pointers into one end, the loop reading them from the other. It is shared,
 * refcounted, so a thread stuck past the writer's life still sends into a
 * socket of its own (never a descriptor number since reused), and MSG_NOSIGNAL
 * makes that harmless once the loop's end is closed.
 */
typedef struct Channel {
	atomic_int refs;
	int thread_end;
} Channel;

typedef struct WriteOp {
	atomic_int refs; /* the thread's and the loop's */
	Channel *channel;
	char *path;
	char *value;
	int result;

	/* Loop side only. */
	SysfsWriter *writer;
	struct WriteOp *next, *prev;
	sd_event_source *timer;
	SysfsWriteCallback callback;
	SysfsWriteCallback late; /* the real end of a write reported as timed out; may be NULL */
	void *userdata;
	bool reported; /* callback called (result or timeout) */
} WriteOp;

struct SysfsWriter {
	sd_event *event;
	Channel *channel;
	int loop_end;
	sd_event_source *source;
	WriteOp *ops; /* started and not yet heard back from their thread */
};

static void channel_unref(Channel *channel)
{
	if (atomic_fetch_sub(&channel->refs, 1) == 1) {
		safe_close(channel->thread_end);
		free(channel);
	}
}

static void op_unref(WriteOp *op)
{
	if (atomic_fetch_sub(&op->refs, 1) != 1)
		return;
	sd_event_source_disable_unref(op->timer);
	channel_unref(op->channel);
	free(op->path);
	free(op->value);
	free(op);
}

int sysfs_write_now(const SysfsRoot *root, const char *relative, const char *value)
{
	char path[4096];
	int r = sysfs_path(root, relative, path, sizeof(path));
	if (r < 0)
		return r;
	/* O_TRUNC as a shell's "echo 4 > sriov_numvfs" does: sysfs ignores it, a plain file needs
	 * it. */
	_cleanup_close_ int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return negative_errno();
	size_t length = strlen(value);
	/* sysfs takes an attribute in one write: a short one is the kernel refusing the rest. */
	ssize_t n = write(fd, value, length);
	if (n < 0)
		return negative_errno();
	return (size_t)n == length ? 0 : -EIO;
}

static int write_path(const char *path, const char *value)
{
	SysfsRoot none = { .path = (char *)"" };
	/* `path` is already absolute: "" + "/" + path without its leading slash. */
	return sysfs_write_now(&none, path + 1, value);
}

static void thread_run(void *userdata)
{
	WriteOp *op = userdata;

	op->result = write_path(op->path, op->value);
	(void)send(op->channel->thread_end, &op, sizeof(op), MSG_NOSIGNAL | MSG_DONTWAIT);
	op_unref(op);
}

/* Takes the op off the loop's list and drops the loop's reference. */
static void op_forget(WriteOp *op)
{
	SysfsWriter *writer = op->writer;
	if (op->prev)
		op->prev->next = op->next;
	else
		writer->ops = op->next;
	if (op->next)
		op->next->prev = op->prev;
	op->timer = sd_event_source_disable_unref(op->timer);
	op_unref(op);
}

static void op_report(WriteOp *op, int result)
{
	if (op->reported)
		return;
	op->reported = true;
	op->callback(result, op->userdata);
}

static int on_result(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	SysfsWriter *writer = userdata;
	WriteOp *op;
	loop_watch_enter(source);

	while (recv(fd, &op, sizeof(op), MSG_DONTWAIT) == sizeof(op)) {
		/* Only ops still on our list: the pointer was ours when it was sent. */
		bool known = false;
		for (WriteOp *o = writer->ops; o && !known; o = o->next)
			known = o == op;
		if (!known)
			continue;
		if (op->reported) {
			log_notice("A write to %s that timed out finished after all (%s)", op->path,
				   op->result < 0 ? strerror(-op->result) : "success");
			if (op->late)
				op->late(op->result, op->userdata);
		} else
			op_report(op, op->result);
		op_forget(op);
	}
	return 0;
}

static int on_timeout(sd_event_source *source, uint64_t usec, void *userdata)
{
	WriteOp *op = userdata;
	loop_watch_enter(source);
	log_warning("Writing \"%.64s\" to %s takes too long; giving up on it", op->value, op->path);
	/* Keep it listed until its thread reports, so the late answer is recognised. */
	op_report(op, -ETIMEDOUT);
	return 0;
}

int sysfs_write_async(SysfsWriter *writer, const SysfsRoot *root, const char *relative,
		      const char *value, uint64_t timeout_usec, SysfsWriteCallback callback,
		      SysfsWriteCallback late, void *userdata)
{
	char path[4096];
	int r = sysfs_path(root, relative, path, sizeof(path));
	if (r < 0)
		return r;

	WriteOp *op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	atomic_init(&op->refs, 1);
	atomic_fetch_add(&writer->channel->refs, 1);
	op->channel = writer->channel;
	op->writer = writer;
	op->callback = callback;
	op->late = late;
	op->userdata = userdata;
	op->path = strdup(path);
	op->value = strdup(value);
	if (!op->path || !op->value) {
		op_unref(op);
		return -ENOMEM;
	}
	r = sd_event_add_time_relative(writer->event, &op->timer, CLOCK_MONOTONIC, timeout_usec, 0,
				       on_timeout, op);
	if (r < 0) {
		op_unref(op);
		return r;
	}
	(void)sd_event_source_set_description(op->timer, "sysfs write, timeout");

	/* On a worker thread (one that waits, not one made now: base/worker.h); a write
	 * that never ends keeps its thread. */
	atomic_fetch_add(&op->refs, 1); /* the thread's */
	r = worker_run_detached(thread_run, op);
	if (r < 0) {
		atomic_fetch_sub(&op->refs, 1);
		op_unref(op);
		return r == -EAGAIN ? -EAGAIN : r;
	}

	op->next = writer->ops;
	if (op->next)
		op->next->prev = op;
	writer->ops = op;
	return 0;
}

int sysfs_writer_new(sd_event *event, SysfsWriter **ret)
{
	int fds[2];
	SysfsWriter *writer = calloc(1, sizeof(*writer));
	Channel *channel = calloc(1, sizeof(*channel));

	if (!writer || !channel || socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds) < 0) {
		int r = writer && channel ? negative_errno() : -ENOMEM;
		free(writer);
		free(channel);
		return r;
	}
	atomic_init(&channel->refs, 1);
	channel->thread_end = fds[1];
	writer->channel = channel;
	writer->loop_end = fds[0];
	writer->event = sd_event_ref(event);
	int r = sd_event_add_io(event, &writer->source, writer->loop_end, EPOLLIN, on_result,
				writer);
	if (r < 0) {
		sysfs_writer_free(writer);
		return r;
	}
	(void)sd_event_source_set_description(writer->source, "sysfs write, done");
	*ret = writer;
	return 0;
}

SysfsWriter *sysfs_writer_free(SysfsWriter *writer)
{
	if (!writer)
		return NULL;
	while (writer->ops) {
		WriteOp *op = writer->ops;
		if (op->reported && op->late)
			op->late(-ECANCELED, op->userdata);
		op_report(op, -ECANCELED);
		op_forget(op); /* its thread finishes on its own */
	}
	sd_event_source_disable_unref(writer->source);
	safe_close(writer->loop_end);
	channel_unref(writer->channel);
	sd_event_unref(writer->event);
	free(writer);
	return NULL;
}
