/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VM's runtime record (RUNTIME_DIR/vms/NAME.json) as json_record_load_all()
 * hands it over: text parsed by json-c, then vm_runtime_from_json(); an accepted
 * record is written back to JSON, as the daemon does when it saves it again.
 */
#include "fuzz.h"
#include "json_util.h"
#include "vm/vm_runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	VmRuntime runtime;
	const char *bad_field = NULL;

	json_object *object = fuzz_json_record(data, size);
	if (object && vm_runtime_from_json(object, &runtime, &bad_field) == 0) {
		json_object_put(vm_runtime_to_json(&runtime));
		vm_runtime_done(&runtime);
	}
	json_object_put(object);
	return 0;
}
