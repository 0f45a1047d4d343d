/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "process/process_stat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"

int process_stat_start_time(const char *stat, uint64_t *ret)
{
	/* "PID (COMM) STATE ...": COMM may hold anything, so count from its last ')'. */
	const char *p = strrchr(stat, ')');
	if (!p)
		return -EBADMSG;
	for (int field = 3; field <= 22; field++) { /* p: just before field `field`'s space */
		p = strchr(p + 1, ' ');
		if (!p)
			return -EBADMSG;
	}
	char *end;
	errno = 0;
	unsigned long long value = strtoull(p + 1, &end, 10);
	if (errno || end == p + 1 || (*end != ' ' && *end != '\n' && *end != '\0'))
		return -EBADMSG;
	*ret = value;
	return 0;
}

int process_start_time(pid_t pid, uint64_t *ret)
{
	char path[64], buffer[2048];

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : negative_errno();
	ssize_t n;
	do
		n = read(fd, buffer, sizeof(buffer) - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == ESRCH ? -ESRCH : negative_errno();
	buffer[n] = '\0';
	return process_stat_start_time(buffer, ret);
}
