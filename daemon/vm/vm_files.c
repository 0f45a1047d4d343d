/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm/vm_files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error_message.h"
#include "fs_util.h"
#include "macro.h"
#include "safe_open.h"

int vm_file_open(const char *path, bool writable, bool *ret_block_device, char **ret_message)
{
	_cleanup_free_ char *problem = NULL;
	struct stat st;

	int fd = safe_open(path, writable ? O_RDWR : O_RDONLY, &st, &problem);
	if (fd < 0)
		return problem ? error_message(ret_message, fd, "%s Check the VM's definition.",
					       problem)
			       : fd;
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		close(fd);
		return error_message(ret_message, -EINVAL,
				     "%s is neither a file nor a block device; check the VM's "
				     "definition.",
				     path);
	}
	*ret_block_device = S_ISBLK(st.st_mode);
	return fd;
}

int rom_copy(const char *path, char **ret_message)
{
	_cleanup_free_ char *problem = NULL;
	struct stat st;
	char buffer[65536];

	_cleanup_close_ int in = safe_open(path, O_RDONLY, &st, &problem);
	if (in < 0)
		return problem ? error_message(ret_message, in, "rom: %s", problem) : in;
	if (!S_ISREG(st.st_mode) || st.st_size > ROM_MAX_SIZE)
		return error_message(ret_message, -EINVAL,
				     "rom: %s is not a file of at most %d MiB; a PCI ROM is "
				     "smaller.",
				     path, ROM_MAX_SIZE >> 20);
	_cleanup_close_ int fd = memfd_create("rom", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return negative_errno();
	for (off_t done = 0;;) {
		ssize_t n = read(in, buffer, sizeof(buffer));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_message(ret_message, negative_errno(),
					     "rom: cannot read %s: %s.", path, strerror(errno));
		if (n == 0)
			break;
		done += n;
		int r = done > ROM_MAX_SIZE ? -EFBIG : write_all(fd, buffer, (size_t)n);
		if (r < 0)
			return error_message(ret_message, r, "rom: cannot copy %s: %s.", path,
					     strerror(-r));
	}
	/* What QEMU reads is what was read here, whatever happens to the file later. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		return negative_errno();
	return TAKE_FD(fd);
}
