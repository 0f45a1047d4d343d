/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvfiod's entry point: command-line options, then daemon_run(). It always
 * runs in the foreground; systemd (or the user's terminal) supervises it.
 */
#include <assert.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/daemon.h"
#include "base/log.h"
#include "build-config.h"
#include "macro.h"

static void help(void)
{
	printf("Usage: libvfiod [OPTION]...\n"
	       "The libvfio daemon: owns GPU partitions and the QEMU processes of VMs, and\n"
	       "answers vfioctl over a Varlink socket. It runs in the foreground.\n"
	       "\n"
	       "  -c, --config PATH       configuration file (default %s)\n"
	       "  -s, --socket PATH       listen on PATH when not socket-activated\n"
	       "                          (default %s)\n"
	       "      --sysfs-root DIR    read sys/ and proc/ below DIR instead of / (tests)\n"
	       "      --runtime-dir DIR   per-VM runtime records (default %s)\n"
	       "      --state-dir DIR     persistent state (default %s)\n"
	       "  -l, --log-level LEVEL   error, warning, notice, info (default) or debug\n"
	       "  -V, --version           print the version and exit\n"
	       "  -h, --help              print this help and exit\n"
	       "\n"
	       "Options override the configuration file. SIGHUP reloads the file;\n"
	       "SIGTERM or SIGINT stops the daemon.\n",
	       DEFAULT_CONFIG_PATH, DEFAULT_SOCKET_PATH, DEFAULT_RUNTIME_DIR, DEFAULT_STATE_DIR);
}

/*
 * The daemon's heap is small and lives long; glibc's defaults suit neither.
 * Arenas: the loop has the main one, and each other thread one of its own
 * (discovery and its helpers, the definitions read at start, a worker's
 * job), up to 8 in all, an exiting thread's handed to the next. With only
 * one, the loop waited for the arena's lock while a discovery allocated
 * (10-15 ms dispatches under load); with two, glibc gave a thread that found
 * the second busy the loop's own, and the loop waited on a thread that waited
 * for a CPU (16 ms under load). Past the limit that can happen again; the
 * daemon never has that many threads. Fixed thresholds: by default
 * glibc raises both after the first large buffer is freed (a List reply of a
 * thousand VMs), so every later one stays on the heap for good; with these,
 * buffers of 64 KiB and more are mapped and unmapped, and free memory above
 * 128 KiB at the top of the heap is given back. server.c trims the rest when
 * clients have been served.
 */
static void malloc_tune(void)
{
	(void)mallopt(M_ARENA_MAX, 8);
	(void)mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	(void)mallopt(M_TRIM_THRESHOLD, 128 * 1024);
}

enum {
	OPTION_SYSFS_ROOT = 0x100,
	OPTION_RUNTIME_DIR,
	OPTION_STATE_DIR,
};

int main(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "sysfs-root", required_argument, NULL, OPTION_SYSFS_ROOT },
		{ "runtime-dir", required_argument, NULL, OPTION_RUNTIME_DIR },
		{ "state-dir", required_argument, NULL, OPTION_STATE_DIR },
		{ "log-level", required_argument, NULL, 'l' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	ConfigOverride overrides[8];
	DaemonOptions daemon_options = { .config_path = DEFAULT_CONFIG_PATH,
					 .overrides = overrides };
	int c;

	malloc_tune();
	log_setup("libvfiod");

	while ((c = getopt_long(argc, argv, "c:s:l:Vh", options, NULL)) >= 0) {
		const char *key = NULL;
		switch (c) {
		case 'c':
			daemon_options.config_path = optarg;
			break;
		case 's':
			key = "socket";
			break;
		case OPTION_SYSFS_ROOT:
			key = "sysfs-root";
			break;
		case OPTION_RUNTIME_DIR:
			key = "runtime-dir";
			break;
		case OPTION_STATE_DIR:
			key = "state-dir";
			break;
		case 'l':
			key = "log-level";
			break;
		case 'V':
			printf("libvfiod %s (protocol %s)\n", PROJECT_VERSION, PROTOCOL_VERSION);
			return EXIT_SUCCESS;
		case 'h':
			help();
			return EXIT_SUCCESS;
		default:
			fprintf(stderr, "Try 'libvfiod --help'.\n");
			return 2;
		}
		if (!key)
			continue;
		/* An option given again replaces its value: the last one wins. */
		size_t i = 0;
		while (i < daemon_options.n_overrides && strcmp(overrides[i].key, key) != 0)
			i++;
		assert(i < ELEMENTSOF(overrides)); /* one slot per option that overrides */
		overrides[i] = (ConfigOverride){ key, optarg };
		if (i == daemon_options.n_overrides)
			daemon_options.n_overrides++;
	}
	if (optind < argc) {
		fprintf(stderr,
			"libvfiod takes no arguments, only options: '%s'.\n"
			"Try 'libvfiod --help'.\n",
			argv[optind]);
		return 2;
	}

	/* A bad --log-level is reported before anything else is logged. */
	for (size_t i = 0; i < daemon_options.n_overrides; i++)
		if (strcmp(overrides[i].key, "log-level") == 0 &&
		    log_level_from_string(overrides[i].value) < 0) {
			fprintf(stderr,
				"libvfiod: '%s' is not a log level (error, warning, notice, info, "
				"debug).\n",
				overrides[i].value);
			return 2;
		}

	return daemon_run(&daemon_options) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
