/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What QEMU sends on the QMP socket: the reader the QMP client uses ('\n'-framed
 * JSON, QMP_MAX_MESSAGE) and qmp_message_parse() on each message, greeting first,
 * stopping at the first error as the client ends the connection there.
 */
#include <stdbool.h>

#include "fuzz.h"
#include "varlink_frame.h"
#include "vm/qmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	VarlinkReader *reader = varlink_reader_new(QMP_MAX_MESSAGE);
	bool greeted = false;

	if (!reader)
		return 0;
	varlink_reader_set_terminator(reader, '\n');
	int r = varlink_reader_feed(reader, data, size);
	while (r >= 0) {
		json_object *json = NULL;
		QmpMessage message;

		r = varlink_reader_next(reader, &json);
		if (r <= 0)
			break;
		r = qmp_message_parse(json, greeted, &message);
		if (r == 0 && message.kind == QMP_MESSAGE_GREETING)
			greeted = true;
		json_object_put(json);
	}
	varlink_reader_free(reader);
	return 0;
}
