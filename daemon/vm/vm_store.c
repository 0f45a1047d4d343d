/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm/vm_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include "base/log.h"
#include "error_message.h"
#include "fs_util.h"
#include "macro.h"
#include "strv.h"
#include "utf8.h"

#define DEFINITION_SUFFIX ".yaml"

static int definition_path(const char *directory, const char *name, char **ret)
{
	if (!vm_name_is_valid(name))
		return -EINVAL;
	return asprintf(ret, "%s/%s" DEFINITION_SUFFIX, directory, name) < 0 ? -ENOMEM : 0;
}

/*
 * Opens NAME.yaml in the VMs directory as root's own file: never through a
 * link (O_NOFOLLOW, a link is ELOOP), a regular file, owned by root and not
 * writable by others. Anything else is refused with a sentence and logged: the
 * daemon is root, and a link to a root-only file would show its first key in
 * the errors anyone may List.
 */
static int definition_open(int directory_fd, const char *directory, const char *name,
			   const char *path, struct stat *ret_stat, char **ret_message)
{
	_cleanup_close_ int own = -1;
	char file[VM_NAME_MAX + sizeof(DEFINITION_SUFFIX)];
	struct stat st = { 0 };

	if (directory_fd < 0) {
		own = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (own < 0)
			return errno == ENOENT ? -ENOENT : negative_errno();
	}
	int dir = directory_fd >= 0 ? directory_fd : own;
	snprintf(file, sizeof(file), "%s" DEFINITION_SUFFIX, name);
	int fd = openat(dir, file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return -ENOENT;
	if (fd >= 0 && fstat(fd, &st) < 0) {
		int r = negative_errno();
		close(fd);
		return r;
	}
	bool link = fd < 0 && errno == ELOOP;
	if (ret_stat)
		*ret_stat = st;
	if (fd >= 0 && S_ISREG(st.st_mode) && st.st_uid == 0 && !(st.st_mode & S_IWOTH))
		return fd;
	safe_close(fd);
	log_warning("Not reading %s: %s", path,
		    link ? "it is a symbolic link" : "it is not a regular file owned by root");
	return error_message(ret_message, -EINVAL, /* a definition it cannot use, as a bad one */
			     "%s: %s; libvfiod reads only regular files owned by root, not "
			     "writable by others, in its VMs directory. Replace it with the "
			     "file itself (vfioctl define does).",
			     path, link ? "a symbolic link" : "not a regular file owned by root");
}

int vm_store_load(const char *directory, const char *name, VmDefinition *ret, char **ret_message)
{
	return vm_store_load_at(-1, directory, name, ret, NULL, ret_message);
}

int vm_store_load_at(int directory_fd, const char *directory, const char *name, VmDefinition *ret,
		     struct stat *ret_stat, char **ret_message)
{
	_cleanup_free_ char *path = NULL;
	VmDefinition definition;

	int r = definition_path(directory, name, &path);
	if (r == -EINVAL)
		return -ENOENT; /* no file can have that name */
	if (r < 0)
		return r;
	if (ret_stat)
		*ret_stat = (struct stat){ 0 };
	_cleanup_close_ int fd =
		definition_open(directory_fd, directory, name, path, ret_stat, ret_message);
	if (fd < 0)
		return fd;
	r = vm_definition_load_fd(fd, path, &definition, ret_message);
	if (r < 0)
		return r;
	if (strcmp(definition.name, name) != 0) {
		r = error_message(ret_message, -EINVAL,
				  "%s: name: '%s' is not the file's name; rename the file to "
				  "%s" DEFINITION_SUFFIX " or change the name",
				  path, definition.name, definition.name);
		vm_definition_done(&definition);
		return r;
	}
	*ret = definition;
	return 0;
}

int vm_store_read(const char *directory, const char *name, char **ret_text, size_t *ret_size,
		  char **ret_message)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	size_t size = 0;

	int r = definition_path(directory, name, &path);
	if (r == -EINVAL)
		return -ENOENT;
	if (r < 0)
		return r;
	_cleanup_close_ int fd = definition_open(-1, directory, name, path, NULL, ret_message);
	if (fd < 0)
		return fd;
	r = read_full_fd(fd, VM_DEFINITION_MAX_FILE_SIZE, &text, &size);
	if (r < 0)
		return r;
	if (size > VM_DEFINITION_MAX_FILE_SIZE)
		return error_message(ret_message, -EINVAL,
				     "%s: larger than the %u KiB a definition may have", path,
				     VM_DEFINITION_MAX_FILE_SIZE >> 10);
	/* It goes out as a JSON string: text, as any definition must be. */
	if (memchr(text, '\0', size) || !utf8_is_valid(text, size))
		return error_message(ret_message, -EINVAL,
				     "%s: not UTF-8 text; fix or replace the file (vfioctl define)",
				     path);
	*ret_text = TAKE_PTR(text);
	*ret_size = size;
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int vm_store_list(const char *directory, char ***ret_names)
{
	_cleanup_strv_ char **names = NULL;
	DIR *dir = opendir(directory);

	if (!dir) {
		if (errno != ENOENT)
			return negative_errno();
		*ret_names = NULL;
		return 0;
	}
	for (struct dirent *entry; (entry = readdir(dir));) {
		size_t n = strlen(entry->d_name), suffix = strlen(DEFINITION_SUFFIX);
		char name[VM_NAME_MAX + 1];

		if (n <= suffix || n - suffix > VM_NAME_MAX ||
		    strcmp(entry->d_name + n - suffix, DEFINITION_SUFFIX) != 0)
			continue;
		memcpy(name, entry->d_name, n - suffix);
		name[n - suffix] = '\0';
		if (vm_name_is_valid(name) && strv_append(&names, name) < 0) {
			closedir(dir);
			return -ENOMEM;
		}
	}
	closedir(dir);
	if (names)
		qsort(names, strv_length(names), sizeof(char *), compare_names);
	*ret_names = TAKE_PTR(names);
	return 0;
}

/* A new random (version 4) UUID in its text form. */
static int new_uuid(char ret[UUID_STRING_SIZE])
{
	sd_id128_t id;
	int r = sd_id128_randomize(&id);
	if (r < 0)
		return r;
	(void)snprintf(ret, UUID_STRING_SIZE, SD_ID128_UUID_FORMAT_STR, SD_ID128_FORMAT_VAL(id));
	return 0;
}

/*
 * The text with a top-level "uuid:" line appended. The result is parsed
 * again: a definition written in a form that appending cannot extend (a flow
 * mapping, an explicit document end) is refused rather than stored wrong.
 */
static int add_uuid(const char *text, size_t size, const char *uuid, char **ret_text,
		    size_t *ret_size, VmDefinition *ret, char **ret_message)
{
	_cleanup_free_ char *combined = NULL;
	VmDefinition check;

	const char *separator = size > 0 && text[size - 1] != '\n' ? "\n" : "";
	int n = asprintf(&combined,
			 "%.*s%s# Added by libvfio: the VM's stable identity.\nuuid: %s\n",
			 (int)size, text, separator, uuid);
	if (n < 0)
		return -ENOMEM;
	int r = vm_definition_load_string(combined, (size_t)n, "<definition>", &check, ret_message);
	if (r == -EINVAL) {
		free(*ret_message);
		return error_message(
			ret_message, -EINVAL,
			"the definition has no uuid and libvfio cannot add one to text in this "
			"form; add the line 'uuid: %s' yourself",
			uuid);
	}
	if (r < 0)
		return r;
	*ret = check;
	*ret_text = TAKE_PTR(combined);
	*ret_size = (size_t)n;
	return 0;
}

int vm_store_define_prepare(const char *directory, const char *text, size_t size, VmDefinition *ret,
			    char **ret_text, size_t *ret_size, char **ret_message)
{
	_cleanup_free_ char *stored = NULL;
	VmDefinition definition, existing;
	char uuid[UUID_STRING_SIZE] = "";

	int r = vm_definition_load_string(text, size, "<definition>", &definition, ret_message);
	if (r < 0)
		return r == -ENOMEM ? r : -EINVAL; /* too large is invalid too */

	_cleanup_free_ char *existing_error = NULL;
	r = vm_store_load(directory, definition.name, &existing, &existing_error);
	if (r == 0) {
		/* A file that no longer loads may be replaced: that is how it gets fixed. */
		if (definition.uuid[0] && strcmp(definition.uuid, existing.uuid) != 0 &&
		    existing.uuid[0])
			r = error_message(
				ret_message, -EEXIST,
				"a VM named '%s' with uuid %s is already defined; undefine it "
				"first, or keep its uuid",
				definition.name, existing.uuid);
		memcpy(uuid, existing.uuid, sizeof(uuid));
		vm_definition_done(&existing);
		if (r < 0)
			goto out;
	} else if (r == -ENOMEM)
		goto out;

	if (!definition.uuid[0]) {
		if (!uuid[0] && (r = new_uuid(uuid)) < 0)
			goto out;
		VmDefinition with_uuid;
		r = add_uuid(text, size, uuid, &stored, &size, &with_uuid, ret_message);
		if (r < 0)
			goto out;
		vm_definition_done(&definition);
		definition = with_uuid;
	} else {
		stored = strndup(text, size);
		if (!stored) {
			r = -ENOMEM;
			goto out;
		}
	}
	*ret = definition;
	*ret_text = TAKE_PTR(stored);
	*ret_size = size;
	return 0;
out:
	vm_definition_done(&definition);
	return r;
}

int vm_store_write(const char *directory, const char *name, const char *text, size_t size)
{
	_cleanup_free_ char *file_name = NULL;

	if (!vm_name_is_valid(name))
		return -EINVAL;
	int r = mkdir_p(directory, 0755);
	if (r < 0)
		return r;
	if (asprintf(&file_name, "%s" DEFINITION_SUFFIX, name) < 0)
		return -ENOMEM;
	return write_file_atomic(directory, file_name, text, size, 0644);
}

int vm_store_define(const char *directory, const char *text, size_t size, VmDefinition *ret,
		    char **ret_message)
{
	_cleanup_free_ char *stored = NULL;
	VmDefinition definition;
	size_t stored_size;

	int r = vm_store_define_prepare(directory, text, size, &definition, &stored, &stored_size,
					ret_message);
	if (r < 0)
		return r;
	r = vm_store_write(directory, definition.name, stored, stored_size);
	if (r < 0) {
		vm_definition_done(&definition);
		return r;
	}
	*ret = definition;
	return 0;
}

int vm_store_undefine(const char *directory, const char *name)
{
	_cleanup_free_ char *file_name = NULL;

	if (!vm_name_is_valid(name))
		return -ENOENT;
	if (asprintf(&file_name, "%s" DEFINITION_SUFFIX, name) < 0)
		return -ENOMEM;
	char path[4096];
	if (snprintf(path, sizeof(path), "%s/%s", directory, file_name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (access(path, F_OK) < 0)
		return errno == ENOENT ? -ENOENT : negative_errno();
	return unlink_durable(directory, file_name);
}
