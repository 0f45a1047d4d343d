/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfioctl create NAME --iso PATH: from an installer ISO to a running VM.
 * Checks everything first (the ISOs, the name, the disk's place and space,
 * qemu-img), so that a refusal changes nothing; then writes the definition
 * from the OS's template (vm_template.h), makes the qcow2 disk with qemu-img
 * as the calling user, defines the VM (its disk is removed again when that
 * fails) and starts it as 'vfioctl start' does.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arguments.h"
#include "commands.h"
#include "fs_util.h"
#include "json_util.h"
#include "macro.h"
#include "output.h"
#include "parse_util.h"
#include "progress.h"
#include "utf8.h"
#include "vm_definition.h"
#include "vm_template.h"

#define NO_SUCH_VM_ERROR "io.libvfio.VMs.NoSuchVM"
#define CREATE_REFUSED "io.libvfio.Client.CreateRefused"
#define ROOT_DISK_DIRECTORY "/var/lib/libvfio/disks"

enum {
	OPTION_ISO,
	OPTION_OS,
	OPTION_DISK_SIZE,
	OPTION_MEMORY,
	OPTION_CPUS,
	OPTION_GPU,
	OPTION_DRIVERS_ISO,
	OPTION_DISK,
	OPTION_NO_START,
};

static const CommandOption create_options[] = {
	[OPTION_ISO] = { "iso", true },
	[OPTION_OS] = { "os", true },
	[OPTION_DISK_SIZE] = { "disk-size", true },
	[OPTION_MEMORY] = { "memory", true },
	[OPTION_CPUS] = { "cpus", true },
	[OPTION_GPU] = { "gpu", true },
	[OPTION_DRIVERS_ISO] = { "drivers-iso", true },
	[OPTION_DISK] = { "disk", true },
	[OPTION_NO_START] = { "no-start", false },
	{ 0 },
};

/* What create works with, checked. */
typedef struct Create {
	const ClientOptions *options;
	const char *name;
	VmTemplate template;
	uint64_t disk_size;
	char iso[PATH_MAX], drivers_iso[PATH_MAX];
	char disk[PATH_MAX];
	char disk_directory[PATH_MAX];
	const char *disk_name; /* the last component of `disk`, within disk_directory */
	bool default_directory; /* made by create when missing */
	int directory_fd; /* disk_directory, opened: the disk is made and removed in it */
	char qemu_img[PATH_MAX]; /* the one found in $PATH, which is the one run */
	char owner[64];
	char gpu[ARGUMENT_GPU_SIZE];
	int disk_fd; /* the disk file create made (O_EXCL), or -1 */
	struct stat disk_stat; /* its identity, so that only it is ever removed */
	json_object *vm; /* the last VM object Start replied */
} Create;

#define refuse(c, ...) report_failure((c)->options, CREATE_REFUSED, NULL, __VA_ARGS__)

/* An ISO the caller may read: its absolute, link-free path in `ret`. */
static int check_iso(Create *c, const char *option, const char *path, char ret[PATH_MAX])
{
	struct stat st;

	if (!realpath(path, ret))
		return refuse(c, "%s %s: %s.", option, path,
			      errno == ENOENT ? "no such file" : strerror(errno));
	/* A definition is UTF-8 text: a path that is not cannot be written into one. */
	if (!utf8_is_valid(ret, strlen(ret)))
		return refuse(c,
			      "%s %s: the path is not UTF-8, which a definition needs; rename it.",
			      option, path);
	/* Opened as the caller: libvfiod opens it as root, so this is who may read it. */
	_cleanup_close_ int fd = open(ret, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return refuse(c, "%s %s: %s.", option, path,
			      errno == EACCES ? "you may not read it" : strerror(errno));
	if (fstat(fd, &st) < 0)
		return refuse(c, "%s %s: %s.", option, path, strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return refuse(c, "%s %s: not a file (an ISO image) nor a block device.", option,
			      path);
	return EXIT_OK;
}

/* `path` made absolute against the working directory (not resolved: it may not exist). */
static int absolute_path(Create *c, const char *path, char ret[PATH_MAX])
{
	char cwd[PATH_MAX];

	if (path[0] == '/') {
		if (strlen(path) >= PATH_MAX)
			return refuse(c, "--disk: the path is too long.");
		strcpy(ret, path);
		return EXIT_OK;
	}
	if (!getcwd(cwd, sizeof(cwd)))
		return refuse(c, "Cannot tell the working directory: %s.", strerror(errno));
	if (snprintf(ret, PATH_MAX, "%s/%s", cwd, path) >= PATH_MAX)
		return refuse(c, "--disk: the path is too long.");
	return EXIT_OK;
}

/*
 * Where the disk goes: --disk, or root's /var/lib/libvfio/disks/NAME.qcow2,
 * or the user's $XDG_DATA_HOME (else ~/.local/share)/libvfio/disks/NAME.qcow2.
 */
static int choose_disk(Create *c, const char *given)
{
	char *slash;
	int r;

	if (given) {
		if (!given[0])
			return refuse(c, "--disk needs a path.");
		r = absolute_path(c, given, c->disk);
		if (r != EXIT_OK)
			return r;
	} else {
		const char *data = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
		char base[PATH_MAX];
		if (geteuid() == 0)
			snprintf(base, sizeof(base), "%s", ROOT_DISK_DIRECTORY);
		else if (data && data[0] == '/')
			snprintf(base, sizeof(base), "%s/libvfio/disks", data);
		else if (home && home[0] == '/')
			snprintf(base, sizeof(base), "%s/.local/share/libvfio/disks", home);
		else
			return refuse(c, "Neither XDG_DATA_HOME nor HOME says where your files go; "
					 "say where the disk goes with --disk PATH.");
		if (snprintf(c->disk, sizeof(c->disk), "%s/%s.qcow2", base, c->name) >=
		    (int)sizeof(c->disk))
			return refuse(c, "The disk's path is too long; give --disk PATH.");
		c->default_directory = true;
	}
	snprintf(c->disk_directory, sizeof(c->disk_directory), "%s", c->disk);
	slash = strrchr(c->disk_directory, '/');
	if (slash == c->disk_directory)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (!slash[1] && slash != c->disk_directory)
		return refuse(c, "--disk %s: that is a directory; name the file.", given);
	c->disk_name = strrchr(c->disk, '/') + 1;
	return EXIT_OK;
}

/* Refuses a disk that is there (a dangling link too), or a missing directory for --disk. */
static int check_disk_place(Create *c)
{
	struct stat st;

	if (!utf8_is_valid(c->disk, strlen(c->disk)))
		return refuse(c,
			      "%s: the path is not UTF-8, which a definition needs; give another "
			      "--disk.",
			      c->disk);
	if (lstat(c->disk, &st) == 0)
		return refuse(c,
			      "%s is already there; remove it, or give another place with --disk "
			      "PATH.",
			      c->disk);
	if (errno != ENOENT && errno != ENOTDIR)
		return refuse(c, "%s: %s.", c->disk, strerror(errno));
	if (c->default_directory)
		return EXIT_OK; /* made, and opened, by make_disk_directory() */
	/* --disk's directory, opened now: the disk is made in it, whatever the path names later. */
	c->directory_fd = open(c->disk_directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->directory_fd < 0)
		return refuse(c, "--disk %s: the directory %s is not there.", c->disk,
			      c->disk_directory);
	return EXIT_OK;
}

/* Free space where the disk goes (the nearest directory that exists) against its size. */
static int check_space(Create *c)
{
	char directory[PATH_MAX];
	struct statvfs vfs;
	char need[32], have[32];

	snprintf(directory, sizeof(directory), "%s", c->disk_directory);
	while (statvfs(directory, &vfs) < 0) {
		char *slash = strrchr(directory, '/');
		if (errno != ENOENT || !slash || slash == directory)
			return refuse(c, "Cannot tell the free space in %s: %s.", c->disk_directory,
				      strerror(errno));
		*slash = '\0';
	}
	uint64_t free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	/* qcow2 grows as the guest writes: the installer fills most of it, sooner or later. */
	if (free_bytes < c->disk_size)
		return refuse(c,
			      "Not enough space for a %s disk in %s: %s free. Give a smaller "
			      "--disk-size, or another place with --disk PATH.",
			      format_kib(need, sizeof(need), c->disk_size >> 10), directory,
			      format_kib(have, sizeof(have), free_bytes >> 10));
	return EXIT_OK;
}

/* qemu-img in $PATH (or the usual places), found before anything is made; that one is run. */
static int check_qemu_img(Create *c)
{
	const char *path = getenv("PATH");
	_cleanup_free_ char *copy = strdup(path && path[0] ? path : "/usr/local/bin:/usr/bin:/bin");
	char *save = NULL, candidate[PATH_MAX];

	if (!copy)
		return refuse(c, "Out of memory.");
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save))
		if (snprintf(candidate, sizeof(candidate), "%s/qemu-img", d) <
			    (int)sizeof(candidate) &&
		    access(candidate, X_OK) == 0) {
			snprintf(c->qemu_img, sizeof(c->qemu_img), "%s", candidate);
			return EXIT_OK;
		}
	return refuse(c, "qemu-img is missing; it makes the disk image: apt install qemu-utils.");
}

/* Get NAME: free when the daemon says NoSuchVM. */
static int on_get_reply(json_object *parameters, bool continues, void *userdata)
{
	(void)parameters, (void)continues, (void)userdata;
	return EXIT_OK;
}

static int check_name_free(Create *c)
{
	const RequestHandling handling = { .single_reply = true,
					   .tolerated_error = NO_SUCH_VM_ERROR };
	json_object *parameters = request_vm_parameters(c->name);
	if (!parameters)
		return EXIT_FAILED;
	int r = request_stream_with(c->options, "io.libvfio.VMs.Get", parameters,
				    REQUEST_TIMEOUT_USEC, &handling, on_get_reply, NULL);
	if (r == REQUEST_TOLERATED)
		return EXIT_OK;
	if (r != EXIT_OK)
		return r; /* said */
	return report_failure(c->options, "io.libvfio.VMs.VMExists", NULL,
			      "A VM named '%s' exists already; pick another name ('vfioctl list' "
			      "shows them).",
			      c->name);
}

/* Makes one directory below `parent` (mode, EEXIST fine) and opens it, checked: the caller's. */
static int directory_step(int parent, const char *name, mode_t mode)
{
	struct stat st;

	if (mkdirat(parent, name, mode) < 0 && errno != EEXIST)
		return -errno;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

/*
 * The default disk directory: its base (/var/lib, ~/.local/share) made as
 * usual, then libvfio/ and disks/ (0700: disks hold guests' data) step by
 * step, never through a link and each the caller's own.
 */
static int make_disk_directory(Create *c)
{
	char base[PATH_MAX];
	size_t n = strlen(c->disk_directory) - strlen("/libvfio/disks");

	if (!c->default_directory)
		return EXIT_OK;
	snprintf(base, sizeof(base), "%.*s", (int)n, c->disk_directory);
	int r = mkdir_p(base, 0700);
	if (r < 0)
		return refuse(c, "Cannot make %s: %s.", base, strerror(-r));
	_cleanup_close_ int fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return refuse(c, "Cannot open %s: %s.", base, strerror(errno));
	_cleanup_close_ int libvfio = directory_step(fd, "libvfio", 0755);
	int disks = libvfio < 0 ? libvfio : directory_step(libvfio, "disks", 0700);
	if (disks < 0)
		return refuse(c, "Cannot use %s: %s.", c->disk_directory,
			      disks == -EPERM ? "it (or libvfio/) is a link, another user's, or "
						"writable by others"
					      : strerror(-disks));
	c->directory_fd = disks; /* the disk is made in the directory checked here */
	return EXIT_OK;
}

/*
 * The disk file, made here (O_EXCL, never through a link, 0600), then
 * formatted by qemu-img create -f qcow2 as the caller through that very
 * file (/proc/self/fd/3): a link planted by the name meanwhile (--disk in
 * /tmp) is never written through.
 */
static int make_disk(Create *c)
{
	char size[32];
	int status;

	c->disk_fd = openat(c->directory_fd, c->disk_name,
			    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (c->disk_fd < 0)
		return refuse(c, "Cannot make %s: %s.", c->disk,
			      errno == EEXIST ? "it is there now" : strerror(errno));
	if (fstat(c->disk_fd, &c->disk_stat) < 0)
		return refuse(c, "Cannot look at %s: %s.", c->disk, strerror(errno));
	snprintf(size, sizeof(size), "%" PRIu64, c->disk_size);
	char *argv[] = { (char *)"qemu-img", (char *)"create",          (char *)"-q", (char *)"-f",
			 (char *)"qcow2",    (char *)"/proc/self/fd/3", size,         NULL };
	(void)fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return refuse(c, "Cannot start qemu-img: %s.", strerror(errno));
	if (pid == 0) {
		umask(077);
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (null >= 0)
			(void)dup2(null, STDOUT_FILENO);
		/* fd 3 without O_CLOEXEC: dup2() gives that, but not onto itself. */
		if (c->disk_fd == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(c->disk_fd, 3) < 0)
			_exit(127);
		execv(c->qemu_img, argv);
		fprintf(stderr, "vfioctl: cannot run qemu-img: %s\n", strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return refuse(c, "Cannot wait for qemu-img: %s.", strerror(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return refuse(c, "qemu-img could not make %s (see above).", c->disk);
	return EXIT_OK;
}

/* Removes the disk create made (when a later step failed): that file, nothing else. */
static void remove_disk(Create *c)
{
	struct stat st;

	if (c->disk_fd < 0)
		return;
	if (fstatat(c->directory_fd, c->disk_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_dev == c->disk_stat.st_dev && st.st_ino == c->disk_stat.st_ino &&
	    unlinkat(c->directory_fd, c->disk_name, 0) == 0)
		fprintf(stderr, "vfioctl: removed %s again.\n", c->disk);
}

static void create_done(Create *c)
{
	safe_close(c->disk_fd);
	safe_close(c->directory_fd);
	json_object_put(c->vm);
}

static int on_start_reply(json_object *parameters, bool continues, void *userdata)
{
	Create *c = userdata;
	char text[512];

	if (c->options->json) {
		if (continues)
			(void)start_reply_show(c->options, c->name, parameters, true, text,
					       sizeof(text));
		else {
			progress_clear();
			json_object_put(c->vm);
			c->vm = json_object_get(json_get_object(parameters, "vm"));
		}
		return EXIT_OK;
	}
	(void)start_reply_show(c->options, c->name, parameters, continues, text, sizeof(text));
	return EXIT_OK;
}

/* The choices in `values`, checked into `c`. */
static int parse_choices(Create *c, const char *const *values)
{
	const char *os = values[OPTION_OS];
	long long number;
	int r;

	c->template.os = VM_TEMPLATE_WINDOWS11;
	if (os && (r = vm_template_os_from_string(os)) < 0) {
		fprintf(stderr, "vfioctl: --os takes windows11, windows10 or linux, not '%s'.\n",
			os);
		return EXIT_USAGE;
	}
	if (os)
		c->template.os = (VmTemplateOs)r;
	VmTemplateDefaults defaults = vm_template_defaults(c->template.os);
	if (!values[OPTION_ISO]) {
		fprintf(stderr, "vfioctl: say which installer: 'vfioctl create %s --iso PATH'.\n",
			c->name);
		return EXIT_USAGE;
	}
	if (values[OPTION_MEMORY]) {
		uint64_t memory;
		if (parse_size(values[OPTION_MEMORY], &memory) < 0 || memory < (16 << 20) ||
		    memory % (1 << 20) != 0 || memory > (UINT64_C(16) << 40)) {
			fprintf(stderr,
				"vfioctl: --memory takes a size in whole MiB from 16M to 16T (8G, "
				"16384M), not '%s'.\n",
				values[OPTION_MEMORY]);
			return EXIT_USAGE;
		}
		c->template.memory = memory;
	}
	if (values[OPTION_CPUS]) {
		if (argument_whole_number("--cpus", values[OPTION_CPUS], VM_MAX_CPUS, &number) < 0)
			return EXIT_USAGE;
		if (number == 0) {
			fprintf(stderr, "vfioctl: --cpus takes 1 or more.\n");
			return EXIT_USAGE;
		}
		c->template.cpus = (unsigned)number;
	}
	c->disk_size = defaults.disk_size;
	if (values[OPTION_DISK_SIZE] &&
	    (parse_size(values[OPTION_DISK_SIZE], &c->disk_size) < 0 || c->disk_size < (1 << 20) ||
	     c->disk_size > (UINT64_C(1) << 50))) {
		fprintf(stderr,
			"vfioctl: --disk-size takes a size from 1M to 1024T (64G), not "
			"'%s'.\n",
			values[OPTION_DISK_SIZE]);
		return EXIT_USAGE;
	}
	if (values[OPTION_GPU]) {
		if (argument_gpu(values[OPTION_GPU], c->gpu) < 0)
			return EXIT_USAGE;
		c->template.gpu = c->gpu;
	}
	return EXIT_OK;
}

static int run_create(const ClientOptions *options, int argc, char *argv[])
{
	_cleanup_(create_done) Create c = { .options = options, .disk_fd = -1, .directory_fd = -1 };
	_cleanup_free_ char *text = NULL, *error = NULL;
	_cleanup_json_ json_object *reply = NULL;
	VmDefinition definition;
	int r;

	if (argument_vm_name("create", argc, argv, &c.name) < 0)
		return EXIT_USAGE;
	r = parse_choices(&c, options->values);
	if (r != EXIT_OK)
		return r;

	/* Everything is checked before anything is made. */
	if ((r = check_iso(&c, "--iso", options->values[OPTION_ISO], c.iso)) != EXIT_OK)
		return r;
	if (options->values[OPTION_DRIVERS_ISO] &&
	    (r = check_iso(&c, "--drivers-iso", options->values[OPTION_DRIVERS_ISO],
			   c.drivers_iso)) != EXIT_OK)
		return r;
	if (c.drivers_iso[0] && strcmp(c.drivers_iso, c.iso) == 0)
		return refuse(&c,
			      "--drivers-iso is the installer itself (%s); give the virtio-win "
			      "ISO, or leave it out.",
			      c.iso);
	if ((r = check_name_free(&c)) != EXIT_OK ||
	    (r = choose_disk(&c, options->values[OPTION_DISK])) != EXIT_OK ||
	    (r = check_disk_place(&c)) != EXIT_OK || (r = check_space(&c)) != EXIT_OK ||
	    (r = check_qemu_img(&c)) != EXIT_OK)
		return r;
	if (geteuid() != 0) {
		/* The VM is the caller's: they may start and stop it without an admin. */
		struct passwd *pw = getpwuid(geteuid());
		if (pw && user_name_is_valid(pw->pw_name)) {
			snprintf(c.owner, sizeof(c.owner), "%s", pw->pw_name);
			c.template.owner = c.owner;
		} else
			fprintf(stderr, "vfioctl: note: your user has no name libvfio takes as an "
					"owner; the VM gets none.\n");
	}
	c.template.name = c.name;
	c.template.iso = c.iso;
	c.template.drivers_iso = c.drivers_iso[0] ? c.drivers_iso : NULL;
	c.template.disk = c.disk;
	if (vm_template_text(&c.template, &text) < 0) {
		fprintf(stderr, "vfioctl: out of memory\n");
		return EXIT_FAILED;
	}
	r = vm_definition_load_string(text, strlen(text), "<create>", &definition, &error);
	if (r < 0) /* a path libyaml cannot carry (not UTF-8), say */
		return refuse(&c, "The definition would not be valid: %s.",
			      error ? error : "out of memory");
	vm_definition_done(&definition);

	/* Now make: the disk, then the definition, then the start. */
	if ((r = make_disk_directory(&c)) != EXIT_OK)
		return r;
	if ((r = make_disk(&c)) != EXIT_OK) {
		remove_disk(&c);
		return r;
	}
	json_object *parameters = json_object_new_object();
	if (!parameters || json_add_string(parameters, "definition", text) < 0) {
		json_object_put(parameters);
		remove_disk(&c);
		fprintf(stderr, "vfioctl: out of memory\n");
		return EXIT_FAILED;
	}
	r = request_call(options, "io.libvfio.VMs.Define", parameters, &reply);
	if (r != EXIT_OK) {
		remove_disk(&c);
		return r;
	}
	char size[32];
	format_kib(size, sizeof(size), c.disk_size >> 10);
	if (!options->json)
		printf("Created %s (%s): a %s qcow2 disk at %s; its definition is stored by "
		       "libvfiod ('vfioctl show %s' prints it, 'vfioctl edit %s' changes it).\n",
		       c.name, vm_template_os_to_string(c.template.os), size, c.disk, c.name,
		       c.name);

	if (!options->values[OPTION_NO_START]) {
		parameters = request_vm_parameters(c.name);
		if (!parameters)
			return EXIT_FAILED;
		r = request_stream(options, "io.libvfio.VMs.Start", parameters,
				   REQUEST_TIMEOUT_USEC, on_start_reply, &c);
		if (r != EXIT_OK) {
			if (!options->json)
				fprintf(stderr,
					"vfioctl: %s is defined; once the problem is fixed, "
					"'vfioctl start %s' starts it.\n",
					c.name, c.name);
			return r;
		}
	}
	if (options->json) {
		_cleanup_json_ json_object *out = json_object_new_object();
		json_object *vm =
			c.vm ? TAKE_PTR(c.vm) : json_object_get(json_get_object(reply, "vm"));
		if (!out || json_object_object_add(out, "vm", vm) < 0 ||
		    json_add_string(out, "disk", c.disk) < 0 ||
		    json_add_string(out, "definition", text) < 0) {
			fprintf(stderr, "vfioctl: out of memory\n");
			return EXIT_FAILED;
		}
		print_json(out);
		return EXIT_OK;
	}
	if (options->values[OPTION_NO_START])
		printf("Start it with 'vfioctl start %s'.\n", c.name);
	else
		printf("The installer boots from %s (the empty disk is tried first and falls "
		       "through to it).\n"
		       "See its screen: vfioctl view %s; its serial console: vfioctl console %s.\n",
		       c.iso, c.name, c.name);
	return EXIT_OK;
}

const Command command_create = {
	.name = "create",
	.summary = "Make a new VM from an installer ISO: definition, disk, start",
	.usage = "Usage: vfioctl [--json] create NAME --iso PATH [OPTION]...\n"
		 "Makes a VM ready to install: a definition with sound defaults for its OS,\n"
		 "a new qcow2 disk (qemu-img, from qemu-utils), the installer attached; then\n"
		 "defines and starts it. Nothing is made when a check fails: an ISO that is\n"
		 "not there or that you may not read, a name in use, a disk already there, or\n"
		 "too little free space for the disk's full size. Defining needs the rights\n"
		 "of 'vfioctl define'; a VM created by a user other than root is theirs\n"
		 "(owner:), so they may start and stop it.\n"
		 "\n"
		 "  --iso PATH          the installer ISO (required)\n"
		 "  --os OS             windows11 (default), windows10 or linux\n"
		 "  --drivers-iso PATH  the virtio-win drivers ISO: attached as a second\n"
		 "                      CD-ROM, and the disk and network become virtio\n"
		 "  --disk-size SIZE    the disk's size (default: 64G for Windows, 20G for linux)\n"
		 "  --memory SIZE       default: 8G for windows11, 4G for windows10, 2G for linux\n"
		 "  --cpus N            default: 4 for Windows, 2 for linux\n"
		 "  --gpu ADDRESS       a GPU's PCI address (mode auto: the best it offers)\n"
		 "  --disk PATH         where the qcow2 goes (default for root:\n"
		 "                      /var/lib/libvfio/disks/NAME.qcow2, for others:\n"
		 "                      $XDG_DATA_HOME or ~/.local/share, "
		 "/libvfio/disks/NAME.qcow2)\n"
		 "  --no-start          define it, but do not start it\n",
	.max_arguments = 1,
	.options = create_options,
	.run = run_create,
};
