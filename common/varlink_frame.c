/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "varlink_frame.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "utf8.h"

struct VarlinkReader {
	char *buffer;
	size_t allocated;
	size_t start; /* first byte not yet returned */
	size_t end; /* one past the last byte received */
	size_t scanned; /* bytes in [start, scanned) hold no NUL */
	size_t max_message_size;
	char terminator; /* '\0' for Varlink, '\n' for line-delimited JSON (QMP) */
	json_tokener *tokener;
};

VarlinkReader *varlink_reader_new(size_t max_message_size)
{
	VarlinkReader *reader = calloc(1, sizeof(*reader));
	if (!reader)
		return NULL;
	reader->tokener = json_tokener_new_ex(VARLINK_MAX_DEPTH);
	if (!reader->tokener) {
		free(reader);
		return NULL;
	}
	/*
	 * Not JSON_TOKENER_VALIDATE_UTF8: parse_message() checks every byte with
	 * utf8_is_valid() first, more strictly (no overlong forms, no surrogates),
	 * and json-c's second pass cost 15% of parsing a large reply.
	 */
	json_tokener_set_flags(reader->tokener, JSON_TOKENER_STRICT);
	reader->max_message_size = max_message_size;
	return reader;
}

VarlinkReader *varlink_reader_free(VarlinkReader *reader)
{
	if (!reader)
		return NULL;
	if (reader->tokener)
		json_tokener_free(reader->tokener);
	free(reader->buffer);
	free(reader);
	return NULL;
}

void varlink_reader_set_max_message_size(VarlinkReader *reader, size_t max_message_size)
{
	reader->max_message_size = max_message_size;
}

void varlink_reader_set_terminator(VarlinkReader *reader, char terminator)
{
	reader->terminator = terminator;
}

/* Length of the unterminated message at the end of the buffer, when all of it is scanned. */
static size_t partial_length(const VarlinkReader *reader)
{
	return reader->scanned - reader->start;
}

void *varlink_reader_reserve(VarlinkReader *reader, size_t size, size_t *ret_size)
{
	/* Drop what was consumed before growing. */
	if (reader->start > 0) {
		memmove(reader->buffer, reader->buffer + reader->start,
			reader->end - reader->start);
		reader->end -= reader->start;
		reader->scanned -= reader->start;
		reader->start = 0;
	}

	if (size > SIZE_MAX - reader->end)
		return NULL;
	if (reader->end + size > reader->allocated) {
		size_t want = MAX(reader->end + size, MAX(reader->allocated * 2, (size_t)4096));
		char *p = realloc(reader->buffer, want);
		if (!p)
			return NULL;
		reader->buffer = p;
		reader->allocated = want;
	}
	*ret_size = reader->allocated - reader->end;
	return reader->buffer + reader->end;
}

int varlink_reader_commit(VarlinkReader *reader, size_t size)
{
	assert(size <= reader->allocated - reader->end);
	reader->end += size;

	/* Refuse early: a peer must not make us buffer an endless message. */
	if (size > 0 && !memchr(reader->buffer + reader->scanned, reader->terminator,
				reader->end - reader->scanned)) {
		reader->scanned = reader->end;
		if (partial_length(reader) > reader->max_message_size)
			return -EMSGSIZE;
	}
	return 0;
}

int varlink_reader_feed(VarlinkReader *reader, const void *data, size_t size)
{
	size_t room;

	if (size == 0)
		return 0;
	void *p = varlink_reader_reserve(reader, size, &room);
	if (!p)
		return -ENOMEM;
	memcpy(p, data, size);
	return varlink_reader_commit(reader, size);
}

static const char *find_terminator(VarlinkReader *reader)
{
	const char *nul = memchr(reader->buffer + reader->scanned, reader->terminator,
				 reader->end - reader->scanned);
	if (!nul)
		reader->scanned = reader->end;
	return nul;
}

bool varlink_reader_has_message(VarlinkReader *reader)
{
	return reader->end > reader->start && find_terminator(reader);
}

bool varlink_reader_has_partial(const VarlinkReader *reader)
{
	return reader->end > reader->start;
}

size_t varlink_reader_buffered(const VarlinkReader *reader)
{
	return reader->end - reader->start;
}

/* json-c reads NaN and Infinity, which JSON has not; every comparison with NaN is false. */
static bool is_finite_everywhere(json_object *value)
{
	switch (json_object_get_type(value)) {
	case json_type_double:
		return isfinite(json_object_get_double(value));
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(value); i++)
			if (!is_finite_everywhere(json_object_array_get_idx(value, i)))
				return false;
		return true;
	case json_type_object: {
		json_object_object_foreach (value, key, member) {
			(void)key;
			if (!is_finite_everywhere(member))
				return false;
		}
		return true;
	}
	default:
		return true;
	}
}

static int parse_message(json_tokener *tokener, const char *text, size_t length, json_object **ret)
{
	if (!utf8_is_valid(text, length))
		return -EBADMSG;
	json_tokener_reset(tokener);
	json_object *object = json_tokener_parse_ex(tokener, text, (int)length);
	enum json_tokener_error error = json_tokener_get_error(tokener);
	size_t parsed = json_tokener_get_parse_end(tokener); /* of this call, not the one below */

	if (error == json_tokener_continue) {
		/* The text ended inside a value: maybe a bare number, which is complete only now.
		 */
		object = json_tokener_parse_ex(tokener, "", 1);
		error = json_tokener_get_error(tokener);
	}
	if (error == json_tokener_error_depth) {
		json_object_put(object);
		return -ELOOP;
	}
	if (error != json_tokener_success || parsed < length) {
		json_object_put(object);
		return -EBADMSG;
	}
	if (!json_object_is_type(object, json_type_object)) {
		json_object_put(object);
		return -EPROTO;
	}
	if (!is_finite_everywhere(object)) {
		json_object_put(object);
		return -EBADMSG;
	}
	*ret = object;
	return 1;
}

int varlink_reader_next(VarlinkReader *reader, json_object **ret)
{
	if (reader->end == reader->start)
		return 0;

	const char *nul = find_terminator(reader);
	if (!nul)
		return partial_length(reader) > reader->max_message_size ? -EMSGSIZE : 0;

	const char *text = reader->buffer + reader->start;
	size_t length = (size_t)(nul - text);
	reader->start += length + 1;
	reader->scanned = reader->start;
	if (reader->terminator == '\n' && length > 0 && text[length - 1] == '\r')
		length--;

	if (length > reader->max_message_size)
		return -EMSGSIZE;
	if (length > INT32_MAX - 1)
		return -EMSGSIZE;
	return parse_message(reader->tokener, text, length, ret);
}

int varlink_frame_encode(json_object *message, char **ret, size_t *ret_size)
{
	size_t length;
	const char *text = json_object_to_json_string_length(
		message, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &length);
	if (!text)
		return -ENOMEM;

	char *copy = malloc(length + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, text, length + 1); /* with the NUL that ends the frame */
	*ret = copy;
	*ret_size = length + 1;
	return 0;
}
