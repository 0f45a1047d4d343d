/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm/vm_runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_records.h"
#include "json_util.h"
#include "strv.h"

/* More VMs than anyone runs at once: a directory past this is damaged. */
#define RUNTIME_MAX_FILES 1024
/* A record holds a few ids and paths. */
#define RUNTIME_MAX_SIZE (64 * 1024)

void vm_lent_done(VmLent *lent, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(lent[i].path);
		if (lent[i].fd >= 0)
			close(lent[i].fd);
	}
	free(lent);
}

void vm_runtime_done(VmRuntime *runtime)
{
	strv_free(runtime->partitions);
	vm_lent_done(runtime->lent, runtime->n_lent);
	*runtime = (VmRuntime){ 0 };
}

static json_object *lent_to_json(const VmLent *lent, size_t n)
{
	_cleanup_json_ json_object *array = json_object_new_array();
	if (!array)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_new_object();
		if (!o || json_object_array_add(array, o) < 0) {
			json_object_put(o);
			return NULL;
		}
		if (json_add_string(o, "path", lent[i].path) < 0 ||
		    json_add_int(o, "uid", lent[i].uid) < 0 ||
		    json_add_int(o, "gid", lent[i].gid) < 0 ||
		    json_add_int(o, "mode", lent[i].mode) < 0 ||
		    json_add_int(o, "device", (int64_t)lent[i].device) < 0)
			return NULL;
	}
	return TAKE_PTR(array);
}

json_object *vm_runtime_to_json(const VmRuntime *runtime)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	if (!o || json_add_string(o, "name", runtime->name) < 0 ||
	    json_add_int(o, "pid", runtime->pid) < 0 ||
	    json_add_int(o, "startTime", (int64_t)runtime->start_time) < 0 ||
	    json_add_int(o, "startedAtUsec", (int64_t)runtime->started_at_usec) < 0 ||
	    json_add_strv(o, "partitions", runtime->partitions) < 0)
		return NULL;
	json_object *lent = lent_to_json(runtime->lent, runtime->n_lent);
	if (!lent || json_object_object_add(o, "lent", lent) < 0) {
		json_object_put(lent);
		return NULL;
	}
	if (runtime->hugepages.active) {
		const HugepageReservation *h = &runtime->hugepages;
		json_object *pages = json_object_new_object();
		if (!pages || json_object_object_add(o, "hugepages", pages) < 0) {
			json_object_put(pages);
			return NULL;
		}
		if (json_add_int(pages, "node", h->node) < 0 ||
		    json_add_int(pages, "sizeKib", (int64_t)h->size_kib) < 0 ||
		    json_add_int(pages, "before", (int64_t)h->before) < 0 ||
		    json_add_int(pages, "added", (int64_t)h->added) < 0)
			return NULL;
	}
	return TAKE_PTR(o);
}

/* A strv from an array of strings; *ret_ok false when it is not one. */
static int strv_from_json(json_object *array, bool (*valid)(const char *), char ***ret,
			  bool *ret_ok)
{
	_cleanup_strv_ char **list = NULL;

	*ret_ok = false;
	if (!array)
		return 0;
	for (size_t i = 0; i < json_array_size(array); i++) {
		json_object *item = json_object_array_get_idx(array, i);
		if (!json_object_is_type(item, json_type_string) ||
		    !valid(json_object_get_string(item)))
			return 0;
		if (strv_append(&list, json_object_get_string(item)) < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(list);
	*ret_ok = true;
	return 0;
}

static bool partition_id_plain(const char *id)
{
	size_t n = strlen(id);
	return n > 0 && n <= 64 &&
	       strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-") ==
		       n;
}

/* An absolute path without ".." components: what may be given back is what was lent. */
static bool plain_absolute_path(const char *path)
{
	size_t n = strlen(path);
	return path[0] == '/' && n < 4096 && !strstr(path, "/../") &&
	       !(n >= 3 && strcmp(path + n - 3, "/..") == 0);
}

/* The "lent" array; *ret_ok false when it is not a list of valid entries. */
static int lent_from_json(json_object *array, VmLent **ret, size_t *ret_n, bool *ret_ok)
{
	size_t n = json_array_size(array);
	VmLent *lent = calloc(n > 0 ? n : 1, sizeof(VmLent));

	*ret_ok = false;
	if (!lent)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(array, i);
		const char *path = json_get_string(o, "path");
		int64_t uid, gid, mode, device = 0;
		if (json_object_object_get_ex(o, "device", NULL) &&
		    (json_get_int(o, "device", &device) < 0 || device < 0))
			device = -1;
		if (!path || device < 0 || !plain_absolute_path(path) ||
		    json_get_int(o, "uid", &uid) < 0 || json_get_int(o, "gid", &gid) < 0 ||
		    json_get_int(o, "mode", &mode) < 0 || uid < 0 || uid > UINT32_MAX - 1 ||
		    gid < 0 || gid > UINT32_MAX - 1 || mode < 0 || mode > 07777) {
			vm_lent_done(lent, i);
			return 0;
		}
		lent[i] = (VmLent){ .path = strdup(path),
				    .uid = (uid_t)uid,
				    .gid = (gid_t)gid,
				    .mode = (mode_t)mode,
				    .device = (dev_t)device,
				    .fd = -1 };
		if (!lent[i].path) {
			vm_lent_done(lent, i);
			return -ENOMEM;
		}
	}
	*ret = lent;
	*ret_n = n;
	*ret_ok = true;
	return 0;
}

/* The "hugepages" object, when there is one; false when it is not a valid reservation. */
static bool hugepages_from_json(json_object *object, HugepageReservation *ret)
{
	json_object *pages;
	int64_t node, size_kib, before, added;
	char path[256];

	*ret = (HugepageReservation){ .node = -1 };
	if (!json_object_object_get_ex(object, "hugepages", &pages))
		return true;
	if (!json_object_is_type(pages, json_type_object) ||
	    json_get_int(pages, "node", &node) < 0 ||
	    json_get_int(pages, "sizeKib", &size_kib) < 0 ||
	    json_get_int(pages, "before", &before) < 0 ||
	    json_get_int(pages, "added", &added) < 0 || node < -1 || node > 1023 || size_kib < 0 ||
	    before < 0 || (uint64_t)before > HUGEPAGES_MAX_PAGES || added <= 0 ||
	    (uint64_t)added > HUGEPAGES_MAX_PAGES ||
	    hugepage_pool_path((int)node, (uint64_t)size_kib, path, sizeof(path)) < 0)
		return false;
	*ret = (HugepageReservation){ .active = true,
				      .node = (int)node,
				      .size_kib = (uint64_t)size_kib,
				      .before = (uint64_t)before,
				      .added = (uint64_t)added };
	return true;
}

int vm_runtime_from_json(json_object *object, VmRuntime *ret, const char **ret_bad_field)
{
	VmRuntime runtime = { 0 };
	int64_t pid = 0, start_time = 0, started_at = 0;
	bool ok;

	const char *name = json_get_string(object, "name");
	if (!name || !vm_name_is_valid(name)) {
		*ret_bad_field = "name";
		return -EINVAL;
	}
	if (json_get_int(object, "pid", &pid) < 0 || pid < 0 || pid == 1 || pid > INT32_MAX) {
		*ret_bad_field = "pid";
		return -EINVAL;
	}
	if (json_get_int(object, "startTime", &start_time) < 0 || start_time < 0 ||
	    json_get_int(object, "startedAtUsec", &started_at) < 0 || started_at < 0) {
		*ret_bad_field = "startTime";
		return -EINVAL;
	}
	snprintf(runtime.name, sizeof(runtime.name), "%s", name);
	runtime.pid = (pid_t)pid;
	runtime.start_time = (uint64_t)start_time;
	runtime.started_at_usec = (uint64_t)started_at;

	int r = strv_from_json(json_get_array(object, "partitions"), partition_id_plain,
			       &runtime.partitions, &ok);
	if (r >= 0 && !ok)
		*ret_bad_field = "partitions";
	if (r >= 0 && ok) {
		r = lent_from_json(json_get_array(object, "lent"), &runtime.lent, &runtime.n_lent,
				   &ok);
		if (r >= 0 && !ok)
			*ret_bad_field = "lent";
	}
	if (r >= 0 && ok && !hugepages_from_json(object, &runtime.hugepages)) {
		ok = false;
		*ret_bad_field = "hugepages";
	}
	if (r < 0 || !ok) {
		vm_runtime_done(&runtime);
		return r < 0 ? r : -EINVAL;
	}
	*ret = runtime;
	return 0;
}

int vm_runtime_save(const char *directory, const VmRuntime *runtime)
{
	if (!vm_name_is_valid(runtime->name))
		return -EINVAL;
	_cleanup_json_ json_object *o = vm_runtime_to_json(runtime);
	return o ? json_record_save(directory, runtime->name, o) : -ENOMEM;
}

int vm_runtime_remove(const char *directory, const char *name)
{
	if (!vm_name_is_valid(name))
		return -EINVAL;
	return json_record_remove(directory, name);
}

/* One record; a damaged one, or one filed under another VM's name, is refused. */
static int parse_record(json_object *object, const char *name, void *element, char *problem,
			size_t problem_size)
{
	VmRuntime *runtime = element;
	const char *what = NULL;

	int r = vm_runtime_from_json(object, runtime, &what);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		snprintf(problem, problem_size, "is damaged: bad %s", what);
		return 0;
	}
	/* The file name is the VM's: a record copied to another name is not trusted. */
	if (strcmp(name, runtime->name) != 0) {
		vm_runtime_done(runtime);
		snprintf(problem, problem_size, "names another VM");
		return 0;
	}
	return 1;
}

static void record_done(void *element)
{
	vm_runtime_done(element);
}

int vm_runtime_load_all(const char *directory, VmRuntime **ret, size_t *ret_n, char ***ret_problems)
{
	void *records;
	int r = json_record_load_all(directory, RUNTIME_MAX_FILES, RUNTIME_MAX_SIZE,
				     sizeof(VmRuntime), parse_record, record_done, &records, ret_n,
				     ret_problems);
	*ret = records;
	return r;
}
