/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The table of vfioctl commands. Each command lives in its own cmd_*.c file
 * and parses its own arguments (after the global options are taken out).
 */
#pragma once

#include "request.h"

typedef struct CommandOption {
	const char *name; /* long name: "gpu" for --gpu */
	bool has_argument;
	char short_name; /* 'f' for -f; 0: none (s, j, h and V are vfioctl's own) */
} CommandOption;

typedef struct Command {
	const char *name;
	const char *summary; /* one line for `vfioctl --help` */
	const char *usage; /* the text of `vfioctl NAME --help` */
	unsigned max_arguments; /* more is a usage error, reported before run() */
	/* Its own options, NULL-name terminated (at most COMMAND_MAX_OPTIONS); NULL: none */
	const CommandOption *options;
	/*
	 * Runs the command with its arguments (the command name and every global
	 * option already taken out). Returns an exit code (EXIT_OK, ...).
	 */
	int (*run)(const ClientOptions *options, int argc, char *argv[]);
} Command;

extern const Command command_autostart;
extern const Command command_check;
extern const Command command_console;
extern const Command command_create;
extern const Command command_define;
extern const Command command_edit;
extern const Command command_gpu;
extern const Command command_gpus;
extern const Command command_kill;
extern const Command command_list;
extern const Command command_logs;
extern const Command command_partition;
extern const Command command_partitions;
extern const Command command_pause;
extern const Command command_reboot;
extern const Command command_reset;
extern const Command command_resume;
extern const Command command_run;
extern const Command command_show;
extern const Command command_start;
extern const Command command_status;
extern const Command command_stop;
extern const Command command_topology;
extern const Command command_undefine;
extern const Command command_validate;
extern const Command command_version;
extern const Command command_view;
extern const Command command_vfs;
extern const Command command_watch;

/* The most VM names one command takes ("vfioctl start a b c"). */
#define VM_NAMES_MAX 256

/*
 * Runs `one` for each VM name in argv, in turn, after checking that there is
 * one at least and that each is a name a VM may have (else EXIT_USAGE, nothing
 * done). Returns the worst (highest) exit status of them.
 */
int vm_names_each(const ClientOptions *options, const char *command, int argc, char *argv[],
		  int (*one)(const ClientOptions *options, const char *name, void *userdata),
		  void *userdata);

/* Prints {"vm": ...} of VM `name` as the daemon has it now (--json of a no-op). */
int vm_print_current(const ClientOptions *options, const char *name);

/*
 * Shows one reply of a VMs.Start stream for VM `name` (start and run): a
 * phase as the progress line, which is returned (for run's unit status), or
 * the final state on stdout (NULL returned). `buf` holds the line.
 */
const char *start_reply_show(const ClientOptions *options, const char *name,
			     json_object *parameters, bool continues, char *buf, size_t size);
