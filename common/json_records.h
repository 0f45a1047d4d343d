/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A directory of JSON records, one object per NAME.json: saved atomically
 * and durably (fs_util.h), removed durably, and read back all at once, where
 * a damaged file is a sentence in a list of problems, never a failure and
 * never trusted. Partition records and VM runtime records are kept this way.
 */
#pragma once

#include <json-c/json.h>
#include <stddef.h>

/* DIR/NAME.json from `object`, mode 0600 (DIR is made 0700 when missing). */
int json_record_save(const char *directory, const char *name, json_object *object);

/* Removes DIR/NAME.json; a missing file is fine. */
int json_record_remove(const char *directory, const char *name);

/*
 * Takes one record: returns 1 when it was kept, 0 when it is refused with
 * `problem` filled ("is damaged: bad pid", "names another id"), < 0 to stop
 * (-ENOMEM). `name` is the file name without ".json".
 */
typedef int (*JsonRecordTake)(json_object *object, const char *name, void *userdata, char *problem,
			      size_t problem_size);

/*
 * Calls `take` for each DIR/NAME.json (not hidden ones, which are temporary
 * files), at most `max_files` of them, each at most `max_size` bytes. What
 * cannot be read or parsed, or what `take` refuses, is a sentence appended to
 * *problems ("record NAME.json is too large"). A missing directory has no
 * records. Returns 0, or < 0 from opendir or `take`.
 */
int json_record_load_all(const char *directory, size_t max_files, size_t max_size,
			 JsonRecordTake take, void *userdata, char ***problems);
