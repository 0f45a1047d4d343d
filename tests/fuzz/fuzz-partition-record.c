/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A partition record (RUNTIME_DIR/partitions/ID.json) as json_record_load_all()
 * hands it over: text parsed by json-c, then partition_record_from_json(); an accepted
 * record is written back to JSON, as the daemon does when it saves it again.
 */
#include "fuzz.h"
#include "json_util.h"
#include "partitions/partition_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	PartitionRecord record;
	const char *bad_field = NULL;

	json_object *object = fuzz_json_record(data, size);
	if (object && partition_record_from_json(object, &record, &bad_field) == 0) {
		json_object_put(partition_record_to_json(&record));
		partition_record_done(&record);
	}
	json_object_put(object);
	return 0;
}
