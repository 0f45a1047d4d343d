/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfioctl: the unprivileged client of libvfiod. Global options, then one
 * command from the table in commands.h. Exit codes: 0 success, 1 failure,
 * 2 usage. Also what the shell completions ask: the commands and each one's
 * options (--list-commands, COMMAND --list-options), so they never go stale.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build-config.h"
#include "commands.h"
#include "macro.h"
#include "output.h"
#include "suggest.h"

/* In the order `vfioctl --help` lists them, under these headings. */
static const Command *const vm_commands[] = {
	&command_create,   &command_list,  &command_status,    &command_start,   &command_stop,
	&command_reboot,   &command_reset, &command_pause,     &command_resume,  &command_kill,
	&command_run,      &command_watch, &command_logs,      &command_console, &command_view,
	&command_show,     &command_edit,  &command_autostart, &command_define,  &command_undefine,
	&command_validate,
};
static const Command *const host_commands[] = {
	&command_gpus,       &command_gpu,       &command_topology, &command_check,
	&command_partitions, &command_partition, &command_vfs,      &command_version,
};
static const struct {
	const char *heading;
	const Command *const *commands;
	size_t n_commands;
} command_groups[] = {
	{ "Virtual machines", vm_commands, ELEMENTSOF(vm_commands) },
	{ "GPUs and the host", host_commands, ELEMENTSOF(host_commands) },
};

/*
 * What each command's arguments are, for the shell completions
 * (--list-commands): "vm" a VM's name (several where the command takes
 * several), "gpu" a GPU's address, "file" a file, "command" a command's name,
 * "partition" partition's subcommands; commands missing here take none or a
 * new name. Kept true by tests/integration/test_client_ux.py, which compares
 * it with each command's usage line.
 */
static const struct {
	const char *command;
	const char *arguments;
} command_arguments[] = {
	{ "status", "vm" },    { "start", "vm" },     { "stop", "vm" },
	{ "pause", "vm" },     { "resume", "vm" },    { "kill", "vm" },
	{ "reboot", "vm" },    { "reset", "vm" },     { "run", "vm" },
	{ "logs", "vm" },      { "undefine", "vm" },  { "show", "vm" },
	{ "edit", "vm" },      { "autostart", "vm" }, { "view", "vm" },
	{ "console", "vm" },   { "define", "file" },  { "validate", "file" },
	{ "gpu", "gpu" },      { "vfs", "gpu" },      { "partition", "partition" },
	{ "help", "command" },
};

static const char *command_arguments_kind(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(command_arguments); i++)
		if (strcmp(command_arguments[i].command, name) == 0)
			return command_arguments[i].arguments;
	return "none";
}

/* --list-commands: "NAME<tab>ARGUMENTS<tab>SUMMARY" per command, for completions and scripts. */
static void list_commands(void)
{
	for (size_t g = 0; g < ELEMENTSOF(command_groups); g++)
		for (size_t i = 0; i < command_groups[g].n_commands; i++) {
			const Command *c = command_groups[g].commands[i];
			printf("%s\t%s\t%s\n", c->name, command_arguments_kind(c->name),
			       c->summary);
		}
	printf("help\t%s\tShow the help of vfioctl or of a command\n",
	       command_arguments_kind("help"));
}

static void help(void)
{
	printf("Usage: vfioctl [OPTION]... COMMAND [ARG]...\n"
	       "Controls GPU virtual machines through libvfiod.\n");
	for (size_t g = 0; g < ELEMENTSOF(command_groups); g++) {
		printf("\n%s:\n", command_groups[g].heading);
		for (size_t i = 0; i < command_groups[g].n_commands; i++)
			printf("  %-12s %s\n", command_groups[g].commands[i]->name,
			       command_groups[g].commands[i]->summary);
	}
	printf("\n"
	       "'vfioctl COMMAND --help' tells more about one.\n"
	       "\n"
	       "Options (before or after the command):\n"
	       "  -s, --socket PATH  the daemon's socket (default $LIBVFIO_SOCKET, else %s)\n"
	       "  -j, --json[=short|pretty]\n"
	       "                     machine-readable output on stdout, nothing else there;\n"
	       "                     short: a line per JSON value, pretty: indented\n"
	       "      --no-legend    tables without their header line, lists without notes\n"
	       "      --ask-password     let polkit ask for a password (default on a terminal)\n"
	       "      --no-ask-password  never: refused is refused\n"
	       "  -h, --help         this help, or a command's help after the command\n"
	       "  -V, --version      vfioctl's own version (no daemon needed)\n"
	       "\n"
	       "Exit status: 0 success, 1 failure (the message says why), 2 bad usage,\n"
	       "3 stop had to quit or kill QEMU (the guest did not shut down in time).\n"
	       "'man vfioctl' tells everything.\n",
	       DEFAULT_SOCKET_PATH);
}

static const Command *find_command(const char *name)
{
	for (size_t g = 0; g < ELEMENTSOF(command_groups); g++)
		for (size_t i = 0; i < command_groups[g].n_commands; i++)
			if (strcmp(command_groups[g].commands[i]->name, name) == 0)
				return command_groups[g].commands[i];
	return NULL;
}

/* "Did you mean 'start'?" for a mistyped command name; NULL when nothing is close. */
static const char *suggest_command(const char *name)
{
	const char *names[64];
	size_t n = 0;

	for (size_t g = 0; g < ELEMENTSOF(command_groups); g++)
		for (size_t i = 0; i < command_groups[g].n_commands && n < ELEMENTSOF(names) - 1;
		     i++)
			names[n++] = command_groups[g].commands[i]->name;
	names[n++] = "help";
	return suggest_closest(name, names, n);
}

enum {
	OPTION_JSON = 'j',
	OPTION_NO_LEGEND = 0x80,
	OPTION_LIST_COMMANDS,
	OPTION_LIST_OPTIONS,
};

static const struct option global_options[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "json", optional_argument, NULL, OPTION_JSON },
	{ "no-legend", no_argument, NULL, OPTION_NO_LEGEND },
	{ "ask-password", no_argument, NULL, 'A' },
	{ "no-ask-password", no_argument, NULL, 'N' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	/* For the shell completions and scripts; not in --help, in vfioctl(1). */
	{ "list-commands", no_argument, NULL, OPTION_LIST_COMMANDS },
	{ "list-options", no_argument, NULL, OPTION_LIST_OPTIONS },
	{ 0 },
};

/* The short option of each global one that has any. */
static char global_short_name(const struct option *o)
{
	return o->val < 0x80 && o->val != 'A' && o->val != 'N' ? (char)o->val : 0;
}

/*
 * --list-options: the options `command` takes (NULL: those before any
 * command), one per line, its own first: "--name", "--name=" when it takes a
 * value, then "-x" for a short one.
 */
static void list_options(const Command *command)
{
	for (size_t i = 0; command && command->options && command->options[i].name; i++) {
		const CommandOption *o = &command->options[i];
		printf("--%s%s\n", o->name, o->has_argument ? "=" : "");
		if (o->short_name)
			printf("-%c\n", o->short_name);
	}
	for (const struct option *o = global_options; o->name; o++) {
		if (o->val == OPTION_LIST_COMMANDS || o->val == OPTION_LIST_OPTIONS)
			continue;
		printf("--%s%s\n", o->name, o->has_arg == required_argument ? "=" : "");
		if (global_short_name(o))
			printf("-%c\n", global_short_name(o));
	}
}

/* "Did you mean '--force'?" for a mistyped long option `text` ("--forse", "--forse=1"). */
static const char *suggest_option(const char *text, const Command *command)
{
	static char found[SUGGEST_WORD_MAX + 3];
	char word[SUGGEST_WORD_MAX + 1];
	const char *names[ELEMENTSOF(global_options) + COMMAND_MAX_OPTIONS];
	size_t n = 0;

	if (strncmp(text, "--", 2) != 0)
		return NULL;
	snprintf(word, sizeof(word), "%.*s", (int)strcspn(text + 2, "="), text + 2);
	for (const struct option *o = global_options; o->name; o++)
		names[n++] = o->name;
	for (size_t i = 0;
	     command && command->options && command->options[i].name && i < COMMAND_MAX_OPTIONS;
	     i++)
		names[n++] = command->options[i].name;
	const char *best = suggest_closest(word, names, n);
	if (!best)
		return NULL;
	snprintf(found, sizeof(found), "--%s", best);
	return found;
}

/* Values of getopt for a command's own options: their index past this. */
#define COMMAND_OPTION_BASE 0x100

/*
 * Parses options in argv[optind...]: the global ones and `command`'s own
 * (NULL: none). With stop_at_command, stops at the first argument that is not
 * an option (the command); otherwise takes options from anywhere and moves
 * the other arguments, in order, to the end. Returns -1 to go on, or the exit
 * code to return at once.
 */
static int parse_options(int argc, char *argv[], bool stop_at_command, const Command *command,
			 ClientOptions *client, bool *want_help, bool *want_options)
{
	struct option options[ELEMENTSOF(global_options) + COMMAND_MAX_OPTIONS];
	char shorts[8 + 2 * COMMAND_MAX_OPTIONS + 1];
	size_t n = 0, k;
	int c;

	for (; global_options[n].name; n++)
		options[n] = global_options[n];
	k = (size_t)snprintf(shorts, sizeof(shorts), "%ss:jhV", stop_at_command ? "+" : "");
	for (size_t i = 0;
	     command && command->options && command->options[i].name && i < COMMAND_MAX_OPTIONS;
	     i++) {
		const CommandOption *o = &command->options[i];
		options[n++] =
			(struct option){ o->name, o->has_argument ? required_argument : no_argument,
					 NULL, COMMAND_OPTION_BASE + (int)i };
		if (o->short_name) {
			shorts[k++] = o->short_name;
			if (o->has_argument)
				shorts[k++] = ':';
		}
	}
	options[n] = (struct option){ 0 };
	shorts[k] = '\0';

	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, options, NULL)) >= 0) {
		/* A command's short option is its long one. */
		for (size_t i = 0; command && command->options && command->options[i].name &&
				   i < COMMAND_MAX_OPTIONS;
		     i++)
			if (command->options[i].short_name && c == command->options[i].short_name)
				c = COMMAND_OPTION_BASE + (int)i;
		switch (c) {
		case 's':
			client->socket_path = optarg;
			break;
		case OPTION_JSON:
			client->json = true;
			if (optarg) {
				JsonFormat format = json_format_from_string(optarg);
				if (format < 0) {
					fprintf(stderr,
						"vfioctl: --json takes short or pretty, not "
						"'%s'.\n",
						optarg);
					return EXIT_USAGE;
				}
				output_set_json_format(format);
			}
			break;
		case OPTION_NO_LEGEND:
			output_set_legend(false);
			break;
		case OPTION_LIST_COMMANDS:
			list_commands();
			return EXIT_OK;
		case OPTION_LIST_OPTIONS:
			*want_options = true;
			break;
		case 'A':
			client->ask_password = true;
			break;
		case 'N':
			client->ask_password = false;
			break;
		case 'h':
			*want_help = true;
			break;
		case 'V':
			printf("vfioctl %s (protocol %s)\n", PROJECT_VERSION, PROTOCOL_VERSION);
			return EXIT_OK;
		default:
			if (c >= COMMAND_OPTION_BASE) {
				client->values[c - COMMAND_OPTION_BASE] = optarg ? optarg : "";
				break;
			}
			if (optopt == 's')
				fprintf(stderr, "vfioctl: --socket needs a path.\n");
			else if (optopt >= COMMAND_OPTION_BASE)
				fprintf(stderr, "vfioctl: --%s needs a value.\n",
					command->options[optopt - COMMAND_OPTION_BASE].name);
			else if (c == '?' && optopt > 0 && command && command->options &&
				 strchr(shorts, optopt))
				fprintf(stderr, "vfioctl: -%c needs a value.\n", optopt);
			else if (suggest_option(argv[optind - 1], command))
				fprintf(stderr,
					"vfioctl: unknown option '%s'. Did you mean '%s'?\n",
					argv[optind - 1],
					suggest_option(argv[optind - 1], command));
			else
				fprintf(stderr,
					"vfioctl: unknown option '%s'. Try 'vfioctl --help'.\n",
					argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	return -1;
}

/* A mistyped command: what is close, or where to look. Returns EXIT_USAGE. */
static int unknown_command(const char *name)
{
	const char *suggestion = suggest_command(name);

	if (suggestion)
		fprintf(stderr, "vfioctl: unknown command '%s'. Did you mean '%s'?\n", name,
			suggestion);
	else
		fprintf(stderr, "vfioctl: unknown command '%s'. Try 'vfioctl --help'.\n", name);
	return EXIT_USAGE;
}

static int run(int argc, char *argv[])
{
	ClientOptions client = { .socket_path = getenv("LIBVFIO_SOCKET"),
				 .ask_password = isatty(STDIN_FILENO) > 0 };
	bool want_help = false, want_options = false;

	if (!client.socket_path || !client.socket_path[0])
		client.socket_path = DEFAULT_SOCKET_PATH;

	/* Options before the command, then the command, then its arguments and options. */
	int r = parse_options(argc, argv, true, NULL, &client, &want_help, &want_options);
	if (r >= 0)
		return r;
	if (optind >= argc) {
		if (want_options) {
			list_options(NULL);
			return EXIT_OK;
		}
		if (want_help) {
			help();
			return EXIT_OK;
		}
		fprintf(stderr, "vfioctl: missing command. Try 'vfioctl --help'.\n");
		return EXIT_USAGE;
	}

	const char *name = argv[optind];
	/* Said before its options, which an unknown command cannot know. */
	if (strcmp(name, "help") != 0 && !find_command(name))
		return unknown_command(name);
	int command_argc = argc - optind;
	char **command_argv = argv + optind;

	/*
	 * getopt restarts on the command's own argv, skipping its name. 0, not 1: only 0 makes
	 * glibc forget the "+" (stop at the first non-option) of the first pass; with 1,
	 * "vfioctl gpu 0000:01:00.0 --json" would take --json for a second argument.
	 */
	optind = 0;
	r = parse_options(command_argc, command_argv, false, find_command(name), &client,
			  &want_help, &want_options);
	if (r >= 0)
		return r;

	if (want_options) {
		list_options(find_command(name)); /* help's: the global ones */
		return EXIT_OK;
	}
	/* Now command_argv[optind...] holds the arguments that are not options. */
	if (strcmp(name, "help") == 0) {
		if (optind >= command_argc) {
			help();
			return EXIT_OK;
		}
		name = command_argv[optind++];
		want_help = true;
	}
	const Command *command = find_command(name);
	if (!command)
		return unknown_command(name);
	if (want_help) {
		fputs(command->usage, stdout);
		return EXIT_OK;
	}
	int n_arguments = command_argc - optind;
	if (n_arguments > (int)command->max_arguments) {
		const char *extra = command_argv[optind + (int)command->max_arguments];
		if (command->max_arguments == 0)
			fprintf(stderr, "vfioctl: '%s' takes no arguments, not '%s'.\n", name,
				extra);
		else
			fprintf(stderr, "vfioctl: '%s' takes %u argument%s, not also '%s'.\n", name,
				command->max_arguments, command->max_arguments == 1 ? "" : "s",
				extra);
		return EXIT_USAGE;
	}
	return command->run(&client, n_arguments, command_argv + optind);
}

int main(int argc, char *argv[])
{
	int r = run(argc, argv);
	/* Output that could not be written (a full disk, a closed pipe) is a failure too. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "vfioctl: cannot write the output: %s\n", strerror(errno));
		return EXIT_FAILED;
	}
	return r;
}
