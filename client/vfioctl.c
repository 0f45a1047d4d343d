/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfioctl: the unprivileged client of libvfiod. Global options, then one
 * command from the table in commands.h. Exit codes: 0 success, 1 failure,
 * 2 usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build-config.h"
#include "commands.h"
#include "macro.h"

static const Command *const commands[] = {
	&command_version,
};

static void help(void)
{
	printf("Usage: vfioctl [OPTION]... COMMAND [ARG]...\n"
	       "Controls GPU virtual machines through libvfiod.\n"
	       "\n"
	       "Commands:\n");
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		printf("  %-12s %s\n", commands[i]->name, commands[i]->summary);
	printf("\n"
	       "Options (before or after the command):\n"
	       "  -s, --socket PATH  the daemon's socket (default $LIBVFIO_SOCKET, else %s)\n"
	       "  -j, --json         machine-readable output on stdout, nothing else there\n"
	       "  -h, --help         this help, or a command's help after the command\n"
	       "  -V, --version      vfioctl's own version (no daemon needed)\n"
	       "\n"
	       "Exit status: 0 success, 1 failure (the message says why), 2 bad usage.\n",
	       DEFAULT_SOCKET_PATH);
}

static const Command *find_command(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

int main(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	ClientOptions client = { .socket_path = getenv("LIBVFIO_SOCKET") };
	bool want_help = false;
	int c;

	if (!client.socket_path || !client.socket_path[0])
		client.socket_path = DEFAULT_SOCKET_PATH;

	/*
	 * Global options may stand anywhere; getopt moves the command and its
	 * arguments to the end, in order. Command-specific options come later.
	 */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "s:jhV", options, NULL)) >= 0) {
		switch (c) {
		case 's':
			client.socket_path = optarg;
			break;
		case 'j':
			client.json = true;
			break;
		case 'h':
			want_help = true;
			break;
		case 'V':
			printf("vfioctl %s (protocol %s)\n", PROJECT_VERSION, PROTOCOL_VERSION);
			return EXIT_OK;
		default:
			fprintf(stderr, "vfioctl: unknown option '%s'. Try 'vfioctl --help'.\n",
				argv[optind - 1]);
			return EXIT_USAGE;
		}
	}

	if (optind >= argc) {
		if (want_help) {
			help();
			return EXIT_OK;
		}
		fprintf(stderr, "vfioctl: missing command. Try 'vfioctl --help'.\n");
		return EXIT_USAGE;
	}

	const char *name = argv[optind];
	if (strcmp(name, "help") == 0) {
		if (optind + 1 >= argc) {
			help();
			return EXIT_OK;
		}
		name = argv[optind + 1];
		want_help = true;
	}
	const Command *command = find_command(name);
	if (!command) {
		fprintf(stderr, "vfioctl: unknown command '%s'. Try 'vfioctl --help'.\n", name);
		return EXIT_USAGE;
	}
	if (want_help) {
		fputs(command->usage, stdout);
		return EXIT_OK;
	}
	return command->run(&client, argc - optind, argv + optind);
}
