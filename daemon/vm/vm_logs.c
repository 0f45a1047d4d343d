/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VM's log from the journal or QEMU's log file (vm_logs.h).
 */
#include "vm/vm_logs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "array.h"
#include "base/loop_watch.h"
#include "base/worker.h"
#include "macro.h"
#include "parse_util.h"
#include "utf8.h"
#include "vm_definition.h"

/* How much of the file's end a tail reads, and a follow reads per second. */
#define FILE_TAIL_BYTES (256 * 1024)
#define FILE_FOLLOW_BYTES (64 * 1024)
#define FILE_POLL_USEC USEC_PER_SEC
/* Entries handed to the callback at once. */
#define BATCH 100

struct VmLog {
	char name[VM_NAME_MAX + 1];
	char qemu_identifier[VM_NAME_MAX + 8];
	char *file;
	sd_journal *journal; /* NULL: the file */
	off_t file_offset; /* what of the file was read */
	sd_event_source *source;
	VmLogCallback callback;
	void *userdata;
};

void vm_log_entries_free(VmLogEntry *entries, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(entries[i].message);
	free(entries);
}

VmLog *vm_log_free(VmLog *log)
{
	if (!log)
		return NULL;
	sd_event_source_disable_unref(log->source);
	sd_journal_close(log->journal);
	free(log->file);
	free(log);
	return NULL;
}

typedef struct Entries {
	VmLogEntry *entries;
	size_t n, allocated;
} Entries;

static int entries_add(Entries *e, uint64_t usec, bool qemu, int priority, const char *text,
		       size_t length)
{
	if (ARRAY_RESERVE(e->entries, e->allocated, e->n + 1) < 0)
		return -ENOMEM;
	char *message = utf8_printable(text, length, VM_LOG_MAX_MESSAGE);
	if (!message)
		return -ENOMEM;
	e->entries[e->n++] = (VmLogEntry){ usec, qemu, priority, message };
	return 0;
}

/* ---- The journal ---- */

/* A field's value of the current entry ("" when it has none). */
static const char *journal_field(sd_journal *j, const char *field, size_t *ret_length)
{
	const void *data;
	size_t length, prefix = strlen(field) + 1;
	if (sd_journal_get_data(j, field, &data, &length) < 0 || length < prefix) {
		*ret_length = 0;
		return "";
	}
	*ret_length = length - prefix;
	return (const char *)data + prefix;
}

static int journal_add_current(VmLog *log, Entries *e)
{
	uint64_t usec = 0;
	size_t length, id_length, priority_length;
	(void)sd_journal_get_realtime_usec(log->journal, &usec);
	const char *message = journal_field(log->journal, "MESSAGE", &length);
	const char *id = journal_field(log->journal, "SYSLOG_IDENTIFIER", &id_length);
	const char *priority = journal_field(log->journal, "PRIORITY", &priority_length);
	bool qemu = id_length == strlen(log->qemu_identifier) &&
		    memcmp(id, log->qemu_identifier, id_length) == 0;
	int level = priority_length == 1 && priority[0] >= '0' && priority[0] <= '7'
			    ? priority[0] - '0'
			    : -1;
	return entries_add(e, usec, qemu, level, message, length);
}

/*
 * The VM's entries: the daemon's (LIBVFIO_VM=NAME, written by root) and
 * QEMU's output (its stream; journald credits each line to the process that
 * wrote it, so QEMU's user, or root when QEMU runs as root). Anyone may log
 * LIBVFIO_VM= or that identifier, but not as those users.
 */
static void journal_open(VmLog *log, uid_t qemu_uid)
{
	char vm_match[VM_NAME_MAX + 16], qemu_match[VM_NAME_MAX + 32], uid_match[32];
	(void)snprintf(vm_match, sizeof(vm_match), "LIBVFIO_VM=%s", log->name);
	(void)snprintf(qemu_match, sizeof(qemu_match), "SYSLOG_IDENTIFIER=%s",
		       log->qemu_identifier);
	(void)snprintf(uid_match, sizeof(uid_match), "_UID=%u", (unsigned)qemu_uid);
	int r = sd_journal_open(&log->journal, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
	if (r >= 0)
		r = sd_journal_add_match(log->journal, vm_match, 0);
	if (r >= 0)
		r = sd_journal_add_match(log->journal, "_UID=0", 0);
	if (r >= 0)
		r = sd_journal_add_disjunction(log->journal);
	if (r >= 0)
		r = sd_journal_add_match(log->journal, qemu_match, 0);
	/* Two values of one field: either. */
	if (r >= 0)
		r = sd_journal_add_match(log->journal, "_UID=0", 0);
	if (r >= 0)
		r = sd_journal_add_match(log->journal, uid_match, 0);
	if (r >= 0)
		r = sd_journal_set_data_threshold(log->journal, VM_LOG_MAX_MESSAGE + 64);
	/* Only a journal that knows the VM: else its story is in the file. */
	if (r >= 0)
		r = sd_journal_seek_tail(log->journal);
	if (r >= 0)
		r = sd_journal_previous(log->journal);
	if (r <= 0) { /* a journal that cannot be read is none */
		sd_journal_close(log->journal);
		log->journal = NULL;
	}
}

static int journal_tail(VmLog *log, size_t n, Entries *e)
{
	int r = sd_journal_seek_tail(log->journal);
	if (r >= 0)
		r = sd_journal_previous_skip(log->journal, n);
	if (r <= 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = journal_add_current(log, e);
		if (r < 0)
			return r;
		r = sd_journal_next(log->journal);
		if (r <= 0)
			break;
	}
	/* Back on the last one read: a follow goes on after it. */
	if (r > 0)
		(void)sd_journal_previous(log->journal);
	return r < 0 ? r : 0;
}

static int hand_over(VmLog *log, Entries *e)
{
	int r = 0;
	for (size_t i = 0; i < e->n && r >= 0; i += BATCH)
		r = log->callback(e->entries + i, e->n - i < BATCH ? e->n - i : BATCH,
				  log->userdata);
	vm_log_entries_free(e->entries, e->n);
	*e = (Entries){ 0 };
	if (r < 0) /* nobody reads any more */
		log->source = sd_event_source_disable_unref(log->source);
	return 0;
}

static int on_journal(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	loop_watch_enter(source);
	VmLog *log = userdata;
	Entries e = { 0 };
	(void)fd;
	(void)revents;
	if (sd_journal_process(log->journal) < 0)
		return 0;
	while (sd_journal_next(log->journal) > 0)
		if (journal_add_current(log, &e) < 0)
			break;
	return hand_over(log, &e);
}

/* ---- The file ---- */

/* Adds each line of text[0..length) (a last one without newline too). */
static int file_add_lines(Entries *e, const char *text, size_t length)
{
	while (length > 0) {
		const char *end = memchr(text, '\n', length);
		size_t line = end ? (size_t)(end - text) : length;
		int r = entries_add(e, 0, true, -1, text, line);
		if (r < 0)
			return r;
		line += end ? 1 : 0;
		text += line;
		length -= line;
	}
	return 0;
}

/* The file, opened without following a link, and what fstat() says of it; -ENOENT: none. */
static int file_open(const VmLog *log, struct stat *ret)
{
	_cleanup_close_ int fd = open(log->file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 || fstat(fd, ret) < 0)
		return negative_errno();
	if (!S_ISREG(ret->st_mode))
		return -EBADF;
	return TAKE_FD(fd);
}

/* The file's bytes from `offset` (at most `max`); -ENOENT when there is no file. */
static int file_read(const VmLog *log, off_t offset, size_t max, char **ret, size_t *ret_size,
		     off_t *ret_end)
{
	struct stat st;
	_cleanup_close_ int fd = file_open(log, &st);
	if (fd < 0)
		return fd;
	if (offset > st.st_size)
		offset = 0; /* the file was cut: from its start */
	if (offset < st.st_size - (off_t)max)
		offset = st.st_size - (off_t)max;
	size_t size = (size_t)(st.st_size - offset);
	char *buffer = malloc(size + 1);
	if (!buffer)
		return -ENOMEM;
	ssize_t n = pread(fd, buffer, size, offset);
	if (n < 0) {
		free(buffer);
		return negative_errno();
	}
	*ret = buffer;
	*ret_size = (size_t)n;
	*ret_end = offset + n;
	return 0;
}

static int file_tail(VmLog *log, size_t n, Entries *e)
{
	_cleanup_free_ char *text = NULL;
	size_t size;
	int r = file_read(log, 0, FILE_TAIL_BYTES, &text, &size, &log->file_offset);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	/* The last n lines: back from the end over n newlines (a final one ends a line). */
	size_t start = size, lines = 0;
	if (start > 0 && text[start - 1] == '\n')
		start--;
	while (start > 0 && lines < n) {
		if (text[start - 1] == '\n' && ++lines == n)
			break;
		start--;
	}
	size_t length = size - start;
	if (length > 0 && text[size - 1] == '\n')
		length--;
	return file_add_lines(e, text + start, length);
}

static int on_file_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
	loop_watch_enter(source);
	VmLog *log = userdata;
	_cleanup_free_ char *text = NULL;
	Entries e = { 0 };
	size_t size;
	off_t end;
	(void)usec;
	if (file_read(log, log->file_offset, FILE_FOLLOW_BYTES, &text, &size, &end) >= 0) {
		/* Whole lines only; a partial one waits for its end. */
		char *last = size > 0 ? memrchr(text, '\n', size) : NULL;
		if (last) {
			size_t whole = (size_t)(last - text) + 1;
			if (file_add_lines(&e, text, whole - 1) >= 0)
				log->file_offset = end - (off_t)(size - whole);
		} else if (size == FILE_FOLLOW_BYTES) { /* one long line: as it is */
			(void)file_add_lines(&e, text, size);
			log->file_offset = end;
		}
	}
	(void)sd_event_source_set_time_relative(source, FILE_POLL_USEC);
	return hand_over(log, &e);
}

/* ---- Both ---- */

int vm_log_open(const char *name, const char *file, uid_t qemu_uid, VmLog **ret)
{
	VmLog *log = calloc(1, sizeof(*log));
	if (!log)
		return -ENOMEM;
	(void)snprintf(log->name, sizeof(log->name), "%s", name);
	(void)snprintf(log->qemu_identifier, sizeof(log->qemu_identifier), "qemu-%s", name);
	log->file = strdup(file);
	if (!log->file) {
		vm_log_free(log);
		return -ENOMEM;
	}
	journal_open(log, qemu_uid);
	*ret = log;
	return 0;
}

int vm_log_tail(VmLog *log, size_t n, VmLogEntry **ret, size_t *ret_n)
{
	Entries e = { 0 };
	int r = n == 0 ? 0 : log->journal ? journal_tail(log, n, &e) : file_tail(log, n, &e);
	if (r < 0) {
		vm_log_entries_free(e.entries, e.n);
		return r;
	}
	*ret = e.entries;
	*ret_n = e.n;
	return 0;
}

/* A vm_log_read(): what the worker is given, and what it brings back. */
typedef struct Reading {
	char name[VM_NAME_MAX + 1];
	char *file;
	uid_t qemu_uid;
	size_t lines;
	VmLog *log;
	VmLogEntry *entries;
	size_t n;
	VmLogRead done;
	void *userdata;
} Reading;

static void reading_free(void *data)
{
	Reading *reading = data;
	vm_log_free(reading->log);
	vm_log_entries_free(reading->entries, reading->n);
	free(reading->file);
	free(reading);
}

static int reading_work(void *data)
{
	Reading *reading = data;
	int r = vm_log_open(reading->name, reading->file, reading->qemu_uid, &reading->log);
	if (r >= 0)
		r = vm_log_tail(reading->log, reading->lines, &reading->entries, &reading->n);
	return r;
}

static void reading_done(int result, void *data)
{
	Reading *reading = data;
	VmLog *log = NULL;
	VmLogEntry *entries = NULL;
	size_t n = 0;
	if (result >= 0) {
		log = TAKE_PTR(reading->log);
		entries = TAKE_PTR(reading->entries);
		n = reading->n;
		reading->n = 0;
	}
	VmLogRead done = reading->done;
	void *userdata = reading->userdata;
	reading_free(reading); /* what an error left */
	done(result, log, entries, n, userdata);
}

int vm_log_read(sd_event *event, const char *name, const char *file, uid_t qemu_uid, size_t n,
		VmLogRead done, void *userdata, WorkerJob **ret)
{
	Reading *reading = calloc(1, sizeof(*reading));
	if (!reading)
		return -ENOMEM;
	*reading =
		(Reading){ .qemu_uid = qemu_uid, .lines = n, .done = done, .userdata = userdata };
	(void)snprintf(reading->name, sizeof(reading->name), "%s", name);
	reading->file = strdup(file);
	if (!reading->file) {
		reading_free(reading);
		return -ENOMEM;
	}
	return worker_start_returning(event, "VM log, read", reading_work, reading, reading_free,
				      reading_done, ret);
}

int vm_log_follow(VmLog *log, sd_event *event, VmLogCallback callback, void *userdata)
{
	log->callback = callback;
	log->userdata = userdata;
	if (!log->journal) {
		if (log->file_offset == 0) { /* no tail was read: from the end as it is now */
			struct stat st;
			_cleanup_close_ int fd = file_open(log, &st);
			if (fd >= 0)
				log->file_offset = st.st_size;
		}
		int r = sd_event_add_time_relative(event, &log->source, CLOCK_MONOTONIC,
						   FILE_POLL_USEC, 0, on_file_timer, log);
		if (r >= 0)
			(void)sd_event_source_set_description(log->source, "VM log file");
		return r;
	}
	int fd = sd_journal_get_fd(log->journal);
	if (fd < 0)
		return fd;
	int events = sd_journal_get_events(log->journal);
	if (events < 0)
		return events;
	int r = sd_event_add_io(event, &log->source, fd, (uint32_t)events, on_journal, log);
	if (r >= 0)
		(void)sd_event_source_set_description(log->source, "VM log journal");
	return r;
}
