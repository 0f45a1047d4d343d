/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A peer's bytes on the Varlink socket: the framing (split at a point the input
 * chooses, as a stream arrives), then each message as a call and as a reply,
 * its parameters against a table of fields, and the encoding of what was read.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include "fuzz.h"
#include "varlink_frame.h"
#include "varlink_message.h"

typedef struct Parameters {
	bool flag;
	int64_t number;
	double ratio;
	const char *name;
	json_object *object, *array, *any;
} Parameters;

static const VarlinkField fields[] = {
	{ "flag", VARLINK_FIELD_BOOL, 0, offsetof(Parameters, flag) },
	{ "number", VARLINK_FIELD_INT, VARLINK_FIELD_NULLABLE, offsetof(Parameters, number) },
	{ "ratio", VARLINK_FIELD_FLOAT, 0, offsetof(Parameters, ratio) },
	{ "name", VARLINK_FIELD_STRING, VARLINK_FIELD_REQUIRED, offsetof(Parameters, name) },
	{ "object", VARLINK_FIELD_OBJECT, 0, offsetof(Parameters, object) },
	{ "array", VARLINK_FIELD_ARRAY, 0, offsetof(Parameters, array) },
	{ "any", VARLINK_FIELD_ANY, 0, offsetof(Parameters, any) },
	{ NULL },
};

static void check_message(json_object *message)
{
	VarlinkCallMessage call;
	VarlinkReplyMessage reply;
	Parameters parameters = { 0 };
	const char *bad = NULL;

	if (varlink_call_parse(message, &call, &bad) == 0) {
		(void)varlink_interface_name_is_valid(call.method, call.interface_length);
		(void)varlink_parameters_dispatch(call.parameters, fields, &parameters, &bad);
	}
	if (varlink_reply_parse(message, &reply) == 0 && reply.error)
		(void)varlink_member_name_is_valid(reply.error);

	char *frame = NULL;
	size_t frame_size;
	if (varlink_frame_encode(message, &frame, &frame_size) == 0)
		free(frame);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	VarlinkReader *reader = varlink_reader_new(64U << 10);
	if (!reader)
		return 0;
	/* The first byte says where the stream is cut in two, the rest is the stream. */
	size_t cut = 0;
	if (size > 0) {
		cut = data[0];
		data++;
		size--;
	}
	cut = cut < size ? cut : size;

	int r = varlink_reader_feed(reader, data, cut);
	for (int part = 0; r >= 0 && part < 2; part++) {
		if (part == 1)
			r = varlink_reader_feed(reader, data + cut, size - cut);
		while (r >= 0) {
			json_object *message = NULL;
			(void)varlink_reader_has_message(reader);
			r = varlink_reader_next(reader, &message);
			if (r <= 0)
				break;
			check_message(message);
			json_object_put(message);
		}
	}
	(void)varlink_reader_has_partial(reader);
	(void)varlink_reader_buffered(reader);
	varlink_reader_free(reader);
	return 0;
}
