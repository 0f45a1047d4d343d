/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

int fuzz_memfd_set(const uint8_t *data, size_t size)
{
	static int fd = -1;

	if (fd < 0)
		fd = memfd_create("fuzz-input", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, 0) < 0)
		return -1;
	for (size_t done = 0; done < size;) {
		ssize_t n = pwrite(fd, data + done, size - done, (off_t)done);
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return fd;
}

char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return NULL;
	if (size > 0)
		memcpy(text, data, size);
	text[size] = '\0';
	return text;
}

struct json_object *fuzz_json_record(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size);
	if (!text)
		return NULL;
	json_object *object = json_tokener_parse(text);
	free(text);
	if (object && !json_object_is_type(object, json_type_object)) {
		json_object_put(object);
		object = NULL;
	}
	return object;
}
