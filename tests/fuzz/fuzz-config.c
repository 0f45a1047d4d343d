/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's configuration file: config_load_file() reads a path, so the input
 * goes into a memfd opened through /proc/self/fd. Then one command-line setting
 * (config_set) from the input's first line, split at '='.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	DaemonConfig config;
	char path[64], *error = NULL;

	if (size > CONFIG_MAX_FILE_SIZE)
		return 0;
	int fd = fuzz_memfd_set(data, size);
	if (fd < 0 || config_init(&config) < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	(void)config_load_file(&config, path, &error);
	free(error);
	error = NULL;

	char *line = fuzz_strndup(data, size);
	if (line) {
		line[strcspn(line, "\n")] = '\0';
		char *value = strchr(line, '=');
		if (value) {
			*value++ = '\0';
			(void)config_set(&config, line, value, &error);
			free(error);
		}
		free(line);
	}
	config_done(&config);
	return 0;
}
