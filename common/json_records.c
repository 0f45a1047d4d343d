/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "json_records.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_util.h"
#include "json_util.h"
#include "macro.h"
#include "strv.h"
#include "varlink_frame.h"

#define SUFFIX ".json"

static int file_name(const char *name, char *buf, size_t size)
{
	if (!name[0] || name[0] == '.' || strchr(name, '/'))
		return -EINVAL;
	if (snprintf(buf, size, "%s" SUFFIX, name) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

int json_record_save(const char *directory, const char *name, json_object *object)
{
	char file[256];
	_cleanup_free_ char *text = NULL;
	size_t size;

	int r = file_name(name, file, sizeof(file));
	if (r < 0)
		return r;
	if (varlink_frame_encode(object, &text, &size) < 0)
		return -ENOMEM;
	return write_file_replace(directory, file, text, size - 1 /* no NUL in the file */, 0600);
}

int json_record_remove(const char *directory, const char *name)
{
	char file[256];
	char path[4096];
	int r = file_name(name, file, sizeof(file));
	if (r < 0)
		return r;
	if (snprintf(path, sizeof(path), "%s/%s", directory, file) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return unlink(path) < 0 && errno != ENOENT ? negative_errno() : 0;
}

typedef struct Loader {
	size_t element_size;
	JsonRecordParse parse;
	char *elements;
	size_t n;
} Loader;

/* Reads one file: 1 kept, 0 a problem noted, < 0 to stop. */
static int load_one(int dir, const char *file, size_t max_size, Loader *loader, char ***problems)
{
	char name[256], problem[256] = "";
	_cleanup_free_ char *buffer = NULL;
	size_t n;

	_cleanup_close_ int fd = openat(dir, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	int r = fd < 0 ? negative_errno() : read_full_fd(fd, max_size, &buffer, &n);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return strv_appendf(problems, "record %s cannot be read: %s", file, strerror(-r)) <
				       0
			       ? -ENOMEM
			       : 0;
	if (n > max_size)
		return strv_appendf(problems, "record %s is too large", file) < 0 ? -ENOMEM : 0;
	_cleanup_json_ json_object *object = json_tokener_parse(buffer);
	if (!object || !json_object_is_type(object, json_type_object))
		return strv_appendf(problems, "record %s is damaged: not JSON", file) < 0 ? -ENOMEM
											  : 0;
	char *grown = reallocarray(loader->elements, loader->n + 1, loader->element_size);
	if (!grown)
		return -ENOMEM;
	loader->elements = grown;
	snprintf(name, sizeof(name), "%.*s", (int)(strlen(file) - strlen(SUFFIX)), file);
	r = loader->parse(object, name, loader->elements + loader->n * loader->element_size,
			  problem, sizeof(problem));
	if (r > 0)
		loader->n++;
	if (r == 0)
		return strv_appendf(problems, "record %s %s", file, problem) < 0 ? -ENOMEM : 0;
	return r;
}

int json_record_load_all(const char *directory, size_t max_files, size_t max_size,
			 size_t element_size, JsonRecordParse parse, void (*done)(void *element),
			 void **ret, size_t *ret_n, char ***problems)
{
	Loader loader = { .element_size = element_size, .parse = parse };
	size_t files = 0;
	int r = 0;

	*ret = NULL;
	*ret_n = 0;
	DIR *dir = opendir(directory);
	if (!dir)
		return errno == ENOENT ? 0 : negative_errno();
	for (struct dirent *e; r >= 0 && (e = readdir(dir));) {
		size_t length = strlen(e->d_name);
		if (e->d_name[0] == '.' || length <= strlen(SUFFIX) || length >= 256 ||
		    strcmp(e->d_name + length - strlen(SUFFIX), SUFFIX) != 0)
			continue; /* temporary files and others: not records */
		if (files++ >= max_files) {
			r = strv_append(problems, "too many records; the rest were ignored");
			break;
		}
		r = load_one(dirfd(dir), e->d_name, max_size, &loader, problems);
	}
	closedir(dir);
	if (r < 0) {
		for (size_t i = 0; i < loader.n; i++)
			done(loader.elements + i * element_size);
		free(loader.elements);
		return r;
	}
	*ret = loader.elements;
	*ret_n = loader.n;
	return 0;
}
