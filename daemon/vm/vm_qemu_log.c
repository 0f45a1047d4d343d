/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm/vm_qemu_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "fs_util.h"
#include "macro.h"
#include "safe_open.h"

int qemu_output_fd(const char *identifier, const char *log_path, bool *ret_is_file)
{
	int fd = sd_journal_stream_fd(identifier, LOG_INFO, false);
	if (fd >= 0) {
		*ret_is_file = false;
		return fd;
	}
	/* Root's, in the VM's state directory: QEMU writes to the descriptor it inherits. */
	fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
		  0600);
	struct stat st;
	if (fd < 0)
		return negative_errno();
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    fd_chown_chmod(fd, 0, 0, 0600) < 0) {
		close(fd);
		return -EPERM;
	}
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	*ret_is_file = true;
	return fd;
}

void log_file_last_line(const char *path, off_t since, char *buf, size_t size)
{
	char tail[1024];

	buf[0] = '\0';
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	off_t end = lseek(fd, 0, SEEK_END);
	off_t start = end > (off_t)sizeof(tail) - 1 ? end - (off_t)sizeof(tail) + 1 : 0;
	if (start < since) /* what earlier starts wrote is not this one's story */
		start = since;
	if (start >= end)
		return;
	ssize_t n = pread(fd, tail, sizeof(tail) - 1, start);
	if (n <= 0)
		return;
	while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r'))
		n--;
	tail[n] = '\0';
	char *line = strrchr(tail, '\n');
	line = line ? line + 1 : tail;
	/* Control characters of whatever QEMU printed stay out of replies. */
	size_t i = 0;
	for (; line[i] && i + 1 < size; i++)
		buf[i] = (unsigned char)line[i] < 0x20 ? '?' : line[i];
	buf[i] = '\0';
}
