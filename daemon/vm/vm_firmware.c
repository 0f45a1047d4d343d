/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm/vm_firmware.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error_message.h"
#include "fs_util.h"
#include "macro.h"
#include "safe_open.h"
#include "strv.h"

/* Code builds and the variables template that goes with each, in order of preference. */
static const struct {
	const char *code, *vars;
	bool secure;
} ovmf_builds[] = {
	{ "/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd", false },
	{ "/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd", false },
	{ "/usr/share/edk2/ovmf/OVMF_CODE.fd", "/usr/share/edk2/ovmf/OVMF_VARS.fd", false },
	{ "/usr/share/edk2/x64/OVMF_CODE.fd", "/usr/share/edk2/x64/OVMF_VARS.fd", false },
	/* Secure boot: SMM builds, with Microsoft's keys enrolled (what Windows boots with) */
	{ "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", "/usr/share/OVMF/OVMF_VARS_4M.ms.fd", true },
	{ "/usr/share/OVMF/OVMF_CODE.secboot.fd", "/usr/share/OVMF/OVMF_VARS.ms.fd", true },
	{ "/usr/share/edk2/ovmf/OVMF_CODE.secboot.fd", "/usr/share/edk2/ovmf/OVMF_VARS.secboot.fd",
	  true },
};

int ovmf_choose(const HostFacts *facts, bool secure_boot, const char **ret_code,
		char **ret_vars_template, char **ret_message)
{
	for (size_t i = 0; i < ELEMENTSOF(ovmf_builds); i++) {
		if (ovmf_builds[i].secure != secure_boot ||
		    !strv_contains(facts->ovmf_files, ovmf_builds[i].code) ||
		    !strv_contains(facts->ovmf_vars_files, ovmf_builds[i].vars))
			continue;
		char *vars = strdup(ovmf_builds[i].vars);
		if (!vars)
			return -ENOMEM;
		*ret_code = ovmf_builds[i].code;
		*ret_vars_template = vars;
		return 0;
	}
	return error_message(
		ret_message, -ENOENT,
		"No %sUEFI firmware (OVMF) with its variables template was found; install "
		"it (apt install ovmf) or use 'firmware: bios'.",
		secure_boot ? "secure-boot " : "");
}

/* Copies what `in` holds to the new file `to` (root's, 0600); its descriptor, read-write. */
static int copy_to_new_file(int in, const char *to)
{
	char buffer[65536];
	_cleanup_close_ int out =
		open(to, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0)
		return negative_errno();
	for (;;) {
		ssize_t n = read(in, buffer, sizeof(buffer));
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 && fsync(out) >= 0)
			return TAKE_FD(out);
		int r = n < 0 ? negative_errno() : write_all(out, buffer, (size_t)n);
		if (r >= 0 && n > 0)
			continue;
		r = r < 0 ? r : negative_errno();
		(void)unlink(to);
		return r;
	}
}

int ovmf_vars_copy(const char *template, const char *path)
{
	struct stat template_st;
	_cleanup_free_ char *problem = NULL, *partial = NULL;
	_cleanup_close_ int in = safe_open(template, O_RDONLY, &template_st, &problem);
	if (in < 0)
		return in;
	/* Under another name until whole: a daemon that dies halfway leaves no torn copy. */
	if (asprintf(&partial, "%s.partial", path) < 0)
		return -ENOMEM;
	(void)unlink(partial); /* one such death's leftover */
	int out = copy_to_new_file(in, partial);
	if (out < 0)
		return out;
	close(out);
	if (renameat2(AT_FDCWD, partial, AT_FDCWD, path, RENAME_NOREPLACE) < 0) {
		int r = errno == EEXIST ? 0 : negative_errno();
		(void)unlink(partial);
		return r;
	}
	return 1;
}

int ovmf_vars_open(const char *template, const char *path, char **ret_message)
{
	/*
	 * Kept across starts (boot entries, secure-boot keys). Root's: QEMU gets
	 * the open descriptor. One an older daemon gave QEMU's user is taken back:
	 * opened without following a link, a regular file with one name only (no
	 * hard link to another file either), and changed through the descriptor.
	 */
	int fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0 && errno == ENOENT) {
		struct stat template_st;
		_cleanup_free_ char *problem = NULL;
		_cleanup_close_ int in = safe_open(template, O_RDONLY, &template_st, &problem);
		fd = in < 0 ? in : copy_to_new_file(in, path);
		if (fd < 0)
			return error_message(ret_message, fd,
					     "Cannot copy the UEFI variables %s to %s: %s.",
					     template, path, problem ? problem : strerror(-fd));
		return fd;
	}
	if (fd < 0 && errno == ELOOP)
		return error_message(ret_message, -ELOOP,
				     "%s is a link; libvfiod follows no link it did not make. "
				     "Remove it, and a fresh copy of the UEFI variables is made.",
				     path);
	if (fd < 0 || fstat(fd, &st) < 0) {
		int r = error_message(ret_message, negative_errno(), "Cannot open %s: %s.", path,
				      strerror(errno));
		if (fd >= 0)
			close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		close(fd);
		return error_message(ret_message, -EPERM,
				     "%s is not a regular file of its own (a device, or a hard "
				     "link); remove it, and a fresh copy is made.",
				     path);
	}
	if (fd_chown_chmod(fd, 0, 0, 0600) < 0) {
		int r = error_message(ret_message, negative_errno(), "Cannot take back %s: %s.",
				      path, strerror(errno));
		close(fd);
		return r;
	}
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}
