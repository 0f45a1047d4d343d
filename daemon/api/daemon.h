/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon as a whole: the event loop, its configuration (file plus
 * command-line overrides), the Varlink server with its interfaces, signals
 * (SIGTERM/SIGINT exit, SIGHUP reloads) and what it tells systemd.
 */
#pragma once

#include <stddef.h>

/* A command-line setting that overrides the file, as config_set() takes it. */
typedef struct ConfigOverride {
	const char *key;
	const char *value;
} ConfigOverride;

typedef struct DaemonOptions {
	const char *config_path;
	const ConfigOverride *overrides;
	size_t n_overrides;
} DaemonOptions;

/* Runs the daemon until SIGTERM/SIGINT. Returns 0 on a clean exit, < 0 on failure (logged). */
int daemon_run(const DaemonOptions *options);
