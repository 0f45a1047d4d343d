/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfioctl show NAME, edit NAME, autostart NAME on|off: a stored definition
 * read back (io.libvfio.VMs.GetDefinition), changed in the user's editor on a
 * private copy and checked before it is stored (Define), and its autostart
 * toggled in place (SetAutostart).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arguments.h"
#include "commands.h"
#include "definition_file.h"
#include "fs_util.h"
#include "json_util.h"
#include "macro.h"
#include "strv.h"

/* The stored definition of `name`: EXIT_OK with the text in *ret (owned), or said. */
static int get_definition(const ClientOptions *options, const char *name, char **ret)
{
	_cleanup_json_ json_object *reply = NULL;

	int r = request_vm_call(options, "io.libvfio.VMs.GetDefinition", name, &reply);
	if (r != EXIT_OK)
		return r;
	const char *text = json_get_string(reply, "definition");
	if (!text)
		return report_failure(options, "io.libvfio.Client.ProtocolError", NULL,
				      "libvfiod's reply has no definition.");
	*ret = strdup(text);
	if (!*ret) {
		fprintf(stderr, "vfioctl: out of memory\n");
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

static int run_show(const ClientOptions *options, int argc, char *argv[])
{
	_cleanup_free_ char *text = NULL;
	const char *name;

	if (argument_vm_name("show", argc, argv, &name) < 0)
		return EXIT_USAGE;
	int r = get_definition(options, name, &text);
	if (r != EXIT_OK)
		return r;
	if (options->json) {
		_cleanup_json_ json_object *out = json_object_new_object();
		if (!out || json_add_string(out, "definition", text) < 0) {
			fprintf(stderr, "vfioctl: out of memory\n");
			return EXIT_FAILED;
		}
		print_json(out);
		return EXIT_OK;
	}
	/* As it is stored: byte for byte, so that 'show NAME > FILE' and 'define FILE' agree. */
	fputs(text, stdout);
	return EXIT_OK;
}

const Command command_show = {
	.name = "show",
	.summary = "Print a VM's stored definition",
	.usage = "Usage: vfioctl [--json] show NAME\n"
		 "Prints the definition of the VM NAME as libvfiod stores it (comments and\n"
		 "all), for its owner, members of access.group and whom polkit allows\n"
		 "io.libvfio.vm.control. With --json: {\"definition\": TEXT}.\n",
	.max_arguments = 1,
	.run = run_show,
};

/* ---- edit ---- */

/* A private directory and the copy in it, removed at the end unless kept. */
typedef struct EditCopy {
	char directory[64];
	char path[128];
	bool keep;
} EditCopy;

static void edit_copy_done(EditCopy *copy)
{
	if (copy->keep || !copy->directory[0])
		return;
	(void)unlink(copy->path);
	(void)rmdir(copy->directory);
}

/*
 * The editor's words: $VISUAL, else $EDITOR, split at blanks ("code --wait"),
 * never through a shell; NULL when neither is set (then editor, else vi).
 */
static char **editor_words(void)
{
	const char *editor = getenv("VISUAL");
	_cleanup_strv_ char **words = NULL;

	if (!editor || !editor[strspn(editor, " \t")])
		editor = getenv("EDITOR");
	if (!editor || !editor[strspn(editor, " \t")])
		return NULL;
	_cleanup_free_ char *copy = strdup(editor);
	if (!copy)
		return NULL;
	char *save = NULL;
	for (char *word = strtok_r(copy, " \t", &save); word; word = strtok_r(NULL, " \t", &save))
		if (strv_append(&words, word) < 0)
			return NULL;
	return TAKE_PTR(words);
}

/*
 * Whether the editor takes "+LINE FILE" to open FILE at LINE: vi and its
 * kin, nano, emacs, and Debian's `editor` (one of them). Others get the file
 * alone ("code --wait" would take +5 for a file name).
 */
static bool editor_takes_line(const char *editor)
{
	static const char *const known[] = { "editor",   "vi",   "vim",   "nvim", "vim.basic",
					     "vim.tiny", "nano", "emacs", "mg",   "jed" };
	const char *name = strrchr(editor, '/');

	name = name ? name + 1 : editor;
	for (size_t i = 0; i < ELEMENTSOF(known); i++)
		if (strcmp(name, known[i]) == 0)
			return true;
	return false;
}

/*
 * Runs the editor on `path` (at `line` when > 0 and the editor takes it) and
 * waits. 0 when it exited with 0; else said, -1.
 */
static int run_editor(const char *path, unsigned line)
{
	_cleanup_strv_ char **argv = editor_words();
	bool fallback = !argv;
	int status;

	if ((fallback && strv_append(&argv, "editor") < 0) ||
	    (line > 0 && editor_takes_line(argv[0]) && strv_appendf(&argv, "+%u", line) < 0) ||
	    strv_append(&argv, path) < 0) {
		fprintf(stderr, "vfioctl: out of memory\n");
		return -1;
	}
	(void)fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "vfioctl: cannot start an editor: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		execvp(argv[0], argv);
		if (fallback && errno == ENOENT) { /* Debian's alternative missing: vi */
			argv[0] = (char *)"vi";
			execvp(argv[0], argv);
		}
		fprintf(stderr,
			"vfioctl: cannot run the editor '%s': %s; set VISUAL or EDITOR to one "
			"that is installed.\n",
			argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			fprintf(stderr, "vfioctl: cannot wait for the editor: %s\n",
				strerror(errno));
			return -1;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 127))
		fprintf(stderr, "vfioctl: the editor %s %d; nothing was changed.\n",
			WIFEXITED(status) ? "exited with status" : "was killed by signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return -1;
}

/* Writes the copy, in a fresh directory only the caller may enter. EXIT_OK, or said. */
static int edit_copy_make(EditCopy *copy, const char *name, const char *text)
{
	const char *tmp = getenv("TMPDIR");
	char directory[sizeof(copy->directory)];

	/* A long or odd TMPDIR is not worth failing for. */
	if (!tmp || tmp[0] != '/' || strlen(tmp) > 32)
		tmp = "/tmp";
	snprintf(directory, sizeof(directory), "%s/vfioctl-edit.XXXXXX", tmp);
	if (!mkdtemp(directory)) {
		fprintf(stderr, "vfioctl: cannot make a directory in %s: %s\n", tmp,
			strerror(errno));
		return EXIT_FAILED;
	}
	memcpy(copy->directory, directory, sizeof(directory));
	snprintf(copy->path, sizeof(copy->path), "%s/%s.yaml", copy->directory, name);
	_cleanup_close_ int fd =
		open(copy->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		fprintf(stderr, "vfioctl: cannot write %s: %s\n", copy->path, strerror(errno));
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

/* The line of a mistake in "PATH:LINE:COLUMN: ..." (definition_file_load's); 0 when none. */
static unsigned error_line(const char *error, const char *path)
{
	size_t n = strlen(path);
	unsigned long line;
	char *end;

	if (strncmp(error, path, n) != 0 || error[n] != ':' ||
	    !isdigit((unsigned char)error[n + 1]))
		return 0;
	errno = 0;
	line = strtoul(error + n + 1, &end, 10);
	return errno == 0 && *end == ':' && line <= UINT_MAX ? (unsigned)line : 0;
}

/* "Edit again? [Y/n]", on a terminal: true for yes. */
static bool ask_again(void)
{
	char line[16];

	fprintf(stderr, "Edit again? [Y/n] ");
	if (!fgets(line, sizeof(line), stdin))
		return false;
	return line[0] == '\n' || line[0] == 'y' || line[0] == 'Y';
}

static int run_edit(const ClientOptions *options, int argc, char *argv[])
{
	_cleanup_(edit_copy_done) EditCopy copy = { 0 };
	_cleanup_free_ char *before = NULL;
	const char *name;

	if (argument_vm_name("edit", argc, argv, &name) < 0)
		return EXIT_USAGE;
	int r = get_definition(options, name, &before);
	if (r != EXIT_OK)
		return r;
	r = edit_copy_make(&copy, name, before);
	if (r != EXIT_OK)
		return r;

	/* After a mistake, the editor opens at its line. */
	for (unsigned line = 0;;) {
		_cleanup_free_ char *text = NULL, *error = NULL;
		VmDefinition definition;

		if (run_editor(copy.path, line) < 0)
			return EXIT_FAILED;
		/* Read by name again: editors often replace the file rather than write it. */
		r = definition_file_load(copy.path, &definition, &text, &error);
		if (r == 0) {
			bool renamed = strcmp(definition.name, name) != 0;
			vm_definition_done(&definition);
			if (strcmp(text, before) == 0) {
				printf("Nothing changed in %s.\n", name);
				return EXIT_OK;
			}
			if (!renamed) {
				json_object *parameters = json_object_new_object();
				_cleanup_json_ json_object *reply = NULL;
				if (!parameters ||
				    json_add_string(parameters, "definition", text) < 0) {
					json_object_put(parameters);
					fprintf(stderr, "vfioctl: out of memory\n");
					return EXIT_FAILED;
				}
				r = request_call(options, "io.libvfio.VMs.Define", parameters,
						 &reply);
				if (r != EXIT_OK) {
					copy.keep = true;
					fprintf(stderr, "vfioctl: your edit is kept in %s.\n",
						copy.path);
					return r;
				}
				if (options->json)
					print_json(reply);
				else {
					int64_t pid = 0;
					printf("Stored the new definition of %s.\n", name);
					/* As define says: a running QEMU keeps what it was started
					 * with. */
					if (json_get_int(json_get_object(reply, "vm"), "pid",
							 &pid) >= 0 &&
					    pid > 0)
						printf("%s runs now; the new definition applies "
						       "when it "
						       "next starts.\n",
						       name);
				}
				return EXIT_OK;
			}
			free(error);
			if (asprintf(&error,
				     "%s: name: a VM is not renamed by editing it; keep 'name: %s' "
				     "(define a new VM under another name with 'vfioctl define')",
				     copy.path, name) < 0)
				error = NULL;
		}
		if (!error) {
			fprintf(stderr, "vfioctl: out of memory\n");
			return EXIT_FAILED;
		}
		if (!isatty(STDIN_FILENO)) /* nobody to ask */
			return report_failure(options, DEFINITION_FILE_INVALID, NULL,
					      "%s; %s was not changed.", error, name);
		fprintf(stderr, "%s\n", error);
		line = error_line(error, copy.path);
		if (!ask_again()) {
			copy.keep = true;
			fprintf(stderr, "vfioctl: %s was not changed; your edit is kept in %s.\n",
				name, copy.path);
			return EXIT_FAILED;
		}
	}
}

const Command command_edit = {
	.name = "edit",
	.summary = "Change a VM's definition in your editor",
	.usage = "Usage: vfioctl edit NAME\n"
		 "Opens a private copy of the VM's stored definition in $VISUAL, else\n"
		 "$EDITOR (split at blanks, no shell), else editor, else vi. When the\n"
		 "editor exits, the copy is checked as 'vfioctl validate' checks it: a\n"
		 "mistake is shown with its line, and on a terminal you are asked to edit\n"
		 "again, at that line in vi, nano, emacs and the like; elsewhere vfioctl\n"
		 "fails with the message. A valid change is stored as 'vfioctl define'\n"
		 "stores it (the same rights); an unchanged file changes nothing. A\n"
		 "running VM keeps what it was started with until it next starts.\n",
	.max_arguments = 1,
	.run = run_edit,
};

/* ---- autostart ---- */

static int run_autostart(const ClientOptions *options, int argc, char *argv[])
{
	_cleanup_json_ json_object *reply = NULL;
	const char *name;
	bool on;

	if (argc != 2) {
		fprintf(stderr, "vfioctl: say which VM and on or off: 'vfioctl autostart NAME "
				"on|off'.\n");
		return EXIT_USAGE;
	}
	if (argument_vm_name("autostart", 1, argv, &name) < 0)
		return EXIT_USAGE;
	if (strcmp(argv[1], "on") == 0 || strcmp(argv[1], "true") == 0)
		on = true;
	else if (strcmp(argv[1], "off") == 0 || strcmp(argv[1], "false") == 0)
		on = false;
	else {
		fprintf(stderr, "vfioctl: autostart takes on or off, not '%s'.\n", argv[1]);
		return EXIT_USAGE;
	}
	json_object *parameters = request_vm_parameters(name);
	if (parameters &&
	    json_object_object_add(parameters, "autostart", json_object_new_boolean(on)) < 0) {
		json_object_put(parameters);
		parameters = NULL;
		fprintf(stderr, "vfioctl: out of memory\n");
	}
	if (!parameters)
		return EXIT_FAILED;
	int r = request_call(options, "io.libvfio.VMs.SetAutostart", parameters, &reply);
	if (r != EXIT_OK)
		return r;
	if (options->json)
		print_json(reply);
	else if (on)
		printf("%s starts when libvfiod starts at boot.\n", name);
	else
		printf("%s no longer starts at boot.\n", name);
	return EXIT_OK;
}

const Command command_autostart = {
	.name = "autostart",
	.summary = "Start a VM when libvfiod starts at boot, or not",
	.usage = "Usage: vfioctl [--json] autostart NAME on|off\n"
		 "Sets 'autostart:' in the VM's stored definition, changing nothing else in\n"
		 "the file (the key is added when it is missing). Needs the rights of\n"
		 "'vfioctl define'. 'vfioctl list' and 'status' show it.\n",
	.max_arguments = 2,
	.run = run_autostart,
};
