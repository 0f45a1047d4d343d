/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Varlink framing: every message on the wire is one JSON object followed by a
 * NUL byte (varlink.org). VarlinkReader turns a byte stream that arrives split
 * anywhere into whole JSON objects, with a bound on message size and nesting;
 * varlink_frame_encode() does the reverse. No sockets here: callers feed bytes.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* Deepest JSON nesting accepted from a peer; deeper is -ELOOP. */
#define VARLINK_MAX_DEPTH 64

typedef struct VarlinkReader VarlinkReader;

/* A reader that refuses messages longer than max_message_size bytes (NUL excluded). */
VarlinkReader *varlink_reader_new(size_t max_message_size);
VarlinkReader *varlink_reader_free(VarlinkReader *reader);

/* Changes the size limit; applies to the message being received too. */
void varlink_reader_set_max_message_size(VarlinkReader *reader, size_t max_message_size);

/*
 * Reads a different framing: '\n' for line-delimited JSON such as QEMU's QMP
 * (an "\r\n" ending is accepted too). The default is Varlink's NUL.
 */
void varlink_reader_set_terminator(VarlinkReader *reader, char terminator);

/*
 * Appends bytes received from the peer. -ENOMEM, or -EMSGSIZE as soon as an
 * unterminated message is already longer than the limit.
 */
int varlink_reader_feed(VarlinkReader *reader, const void *data, size_t size);

/*
 * For reading straight into the buffer, without a copy: room for at least
 * `size` more bytes at its end. Returns where to write them, with how many fit
 * there in *ret_size (`size` or more), or NULL when out of memory. Then
 * varlink_reader_commit() with the number of bytes written, which appends
 * them as varlink_reader_feed() would (the same -EMSGSIZE).
 */
void *varlink_reader_reserve(VarlinkReader *reader, size_t size, size_t *ret_size);
int varlink_reader_commit(VarlinkReader *reader, size_t size);

/*
 * Takes the next whole message out of the buffer.
 * Returns 1 and the object in *ret, 0 when no whole message is buffered yet, or:
 *   -EMSGSIZE  a message longer than the limit
 *   -EBADMSG   not valid JSON (or not UTF-8, or bytes after the object)
 *   -ELOOP     nested deeper than VARLINK_MAX_DEPTH
 *   -EPROTO    valid JSON but not an object
 *   -ENOMEM
 * After an error the stream cannot be resynchronised: the caller closes it.
 */
int varlink_reader_next(VarlinkReader *reader, json_object **ret);

/* True when bytes of an unfinished message are buffered. */
bool varlink_reader_has_partial(const VarlinkReader *reader);

/* True when a whole message is buffered and varlink_reader_next() would return it. */
bool varlink_reader_has_message(VarlinkReader *reader);

/* Bytes buffered and not yet returned by varlink_reader_next(). */
size_t varlink_reader_buffered(const VarlinkReader *reader);

/*
 * Serialises one message: compact JSON text followed by its NUL terminator.
 * *ret_size counts the NUL. Returns 0 or -ENOMEM.
 */
int varlink_frame_encode(json_object *message, char **ret, size_t *ret_size);
