/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A directory of JSON records, one object per NAME.json: saved atomically
 * (fs_util.h), removed, and read back all at once, where a damaged file is a
 * sentence in a list of problems, never a failure and never trusted.
 * Partition records, VM runtime records and how VMs last ended are kept this
 * way, in the runtime directory (/run/libvfio).
 *
 * Not fsynced, on purpose. A record is written before the change it records
 * (an mdev made, a driver bound, QEMU started) so that a daemon that dies at
 * any point is followed by one that finds it: the renamed file is in the page
 * cache, which outlives the process, at once. What fsync adds is surviving a
 * power cut or a kernel crash, and those end with a reboot, which undoes
 * everything the records describe (mdevs, VFs, driver bindings, hugepage pools,
 * QEMU itself) and empties /run. It cost 1-15 ms on the loop per record.
 */
#pragma once

#include <json-c/json.h>
#include <stddef.h>

/* DIR/NAME.json from `object`, mode 0600 (DIR is made 0700 when missing). */
int json_record_save(const char *directory, const char *name, json_object *object);

/* Removes DIR/NAME.json; a missing file is fine. */
int json_record_remove(const char *directory, const char *name);

/*
 * Parses one record into `element`: returns 1 when it is kept, 0 when it is
 * refused with `problem` filled ("is damaged: bad pid", "names another id"),
 * < 0 to stop (-ENOMEM). `name` is the file name without ".json".
 */
typedef int (*JsonRecordParse)(json_object *object, const char *name, void *element, char *problem,
			       size_t problem_size);

/*
 * Reads DIR/NAME.json (not hidden ones, which are temporary files), at most
 * `max_files` of them, each at most `max_size` bytes, into an array of
 * `element_size` elements that `parse` fills (*ret, *ret_n; free() it after
 * `done` on each element). What cannot be read or parsed, or what `parse`
 * refuses, is a sentence appended to *problems ("record NAME.json is too
 * large"). A missing directory has no records. Returns 0, or < 0 from
 * opendir or `parse`, with nothing kept.
 */
int json_record_load_all(const char *directory, size_t max_files, size_t max_size,
			 size_t element_size, JsonRecordParse parse, void (*done)(void *element),
			 void **ret, size_t *ret_n, char ***problems);
