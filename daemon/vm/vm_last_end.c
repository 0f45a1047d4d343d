/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm/vm_last_end.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_records.h"
#include "json_util.h"
#include "utf8.h"

/* More VMs than anyone defines: a directory past this is damaged. */
#define LAST_END_MAX_FILES 4096
/* A name, a state, a reason and a time. */
#define LAST_END_MAX_SIZE (8 * 1024)

void vm_last_end_done(VmLastEnd *end)
{
	free(end->problem);
	*end = (VmLastEnd){ 0 };
}

bool vm_last_end_state_is_valid(VmState state)
{
	return state == VM_STATE_STOPPED || state == VM_STATE_CRASHED || state == VM_STATE_FAILED;
}

json_object *vm_last_end_to_json(const VmLastEnd *end)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	if (!o || json_add_string(o, "name", end->name) < 0 ||
	    json_add_string(o, "state", vm_state_to_string(end->state)) < 0 ||
	    json_add_string(o, "problem", end->problem) < 0 ||
	    json_add_int(o, "atUsec", (int64_t)end->at_usec) < 0)
		return NULL;
	return TAKE_PTR(o);
}

int vm_last_end_from_json(json_object *object, VmLastEnd *ret, const char **ret_bad_field)
{
	VmLastEnd end = { 0 };
	json_object *problem = NULL;
	int64_t at = 0;

	const char *name = json_get_string(object, "name");
	if (!name || !vm_name_is_valid(name)) {
		*ret_bad_field = "name";
		return -EINVAL;
	}
	const char *state = json_get_string(object, "state");
	int value = state ? vm_state_from_string(state) : -EINVAL;
	if (value < 0 || !vm_last_end_state_is_valid((VmState)value)) {
		*ret_bad_field = "state";
		return -EINVAL;
	}
	if (json_get_int(object, "atUsec", &at) < 0 || at < 0) {
		*ret_bad_field = "atUsec";
		return -EINVAL;
	}
	/* A reason is shown to people: text of a bounded size, or nothing. */
	if (json_object_object_get_ex(object, "problem", &problem) && problem &&
	    (!json_object_is_type(problem, json_type_string) ||
	     (size_t)json_object_get_string_len(problem) > VM_LAST_END_PROBLEM_MAX ||
	     strlen(json_object_get_string(problem)) !=
		     (size_t)json_object_get_string_len(problem) ||
	     !utf8_is_valid(json_object_get_string(problem),
			    (size_t)json_object_get_string_len(problem)))) {
		*ret_bad_field = "problem";
		return -EINVAL;
	}
	snprintf(end.name, sizeof(end.name), "%s", name);
	end.state = (VmState)value;
	end.at_usec = (uint64_t)at;
	if (problem && json_object_get_string_len(problem) > 0) {
		end.problem = strdup(json_object_get_string(problem));
		if (!end.problem)
			return -ENOMEM;
	}
	*ret = end;
	return 0;
}

int vm_last_end_save(const char *directory, const VmLastEnd *end)
{
	if (!vm_name_is_valid(end->name) || !vm_last_end_state_is_valid(end->state))
		return -EINVAL;
	_cleanup_json_ json_object *o = vm_last_end_to_json(end);
	return o ? json_record_save(directory, end->name, o) : -ENOMEM;
}

int vm_last_end_remove(const char *directory, const char *name)
{
	if (!vm_name_is_valid(name))
		return -EINVAL;
	return json_record_remove(directory, name);
}

/* One record; a damaged one, or one filed under another VM's name, is refused. */
static int parse_record(json_object *object, const char *name, void *element, char *problem,
			size_t problem_size)
{
	VmLastEnd *end = element;
	const char *what = NULL;

	int r = vm_last_end_from_json(object, end, &what);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		snprintf(problem, problem_size, "is damaged: bad %s", what);
		return 0;
	}
	if (strcmp(name, end->name) != 0) {
		vm_last_end_done(end);
		snprintf(problem, problem_size, "names another VM");
		return 0;
	}
	return 1;
}

static void record_done(void *element)
{
	vm_last_end_done(element);
}

int vm_last_end_load_all(const char *directory, VmLastEnd **ret, size_t *ret_n,
			 char ***ret_problems)
{
	void *records;
	int r = json_record_load_all(directory, LAST_END_MAX_FILES, LAST_END_MAX_SIZE,
				     sizeof(VmLastEnd), parse_record, record_done, &records, ret_n,
				     ret_problems);
	*ret = records;
	return r;
}
