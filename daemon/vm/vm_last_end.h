/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How a VM last ended, kept so that a restarted daemon tells the truth about
 * the VMs it does not re-adopt: RUNTIME_DIR/vm-states/NAME.json, in a
 * directory of root's alone (0700), with the end state (stopped, crashed or
 * failed), the reason when there is one, and when. Like the runtime records
 * it lives on the runtime tmpfs: a host reboot forgets it, as it forgets the
 * VMs. Written whenever a VM ends, removed with its definition. The
 * conversion to and from JSON is pure; save, remove and load are the only I/O.
 */
#pragma once

#include <json-c/json.h>
#include <stdint.h>

#include "vm/vm.h"
#include "vm_definition.h"

/* A reason is a sentence or a few: past this, a record is damaged. */
#define VM_LAST_END_PROBLEM_MAX 2048

typedef struct VmLastEnd {
	char name[VM_NAME_MAX + 1];
	VmState state; /* VM_STATE_STOPPED, VM_STATE_CRASHED or VM_STATE_FAILED */
	char *problem; /* NULL when it ended without one */
	uint64_t at_usec; /* CLOCK_REALTIME */
} VmLastEnd;

void vm_last_end_done(VmLastEnd *end);

/* Whether `state` is one a record keeps: an end. */
bool vm_last_end_state_is_valid(VmState state);

json_object *vm_last_end_to_json(const VmLastEnd *end);
/* -EINVAL with *ret_bad_field naming the bad field, or -ENOMEM. */
int vm_last_end_from_json(json_object *object, VmLastEnd *ret, const char **ret_bad_field);

/* DIR/NAME.json, atomically (json_records.h). */
int vm_last_end_save(const char *directory, const VmLastEnd *end);
int vm_last_end_remove(const char *directory, const char *name);

/*
 * Every record in DIR. A damaged one (or one filed under another VM's name)
 * is skipped with a sentence in *ret_problems; only -ENOMEM fails. A missing
 * directory is no records.
 */
int vm_last_end_load_all(const char *directory, VmLastEnd **ret, size_t *ret_n,
			 char ***ret_problems);
