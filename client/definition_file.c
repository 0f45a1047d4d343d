/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "definition_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs_util.h"
#include "macro.h"

/* Sets *ret_message to "ORIGIN: MESSAGE" and returns r, or -ENOMEM. */
_printf_(4, 5) static int fail(int r, char **ret_message, const char *origin, const char *format,
			       ...)
{
	_cleanup_free_ char *message = NULL;
	va_list ap;

	va_start(ap, format);
	int k = vasprintf(&message, format, ap);
	va_end(ap);
	if (k < 0 || asprintf(ret_message, "%s: %s", origin, message) < 0) {
		*ret_message = NULL;
		return -ENOMEM;
	}
	return r;
}

/* The text of `path`, or of standard input for "-"; *ret_message names `origin`. */
static int read_text(const char *path, const char *origin, char **ret, size_t *ret_size,
		     char **ret_message)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *text = NULL;
	struct stat st;
	size_t size = 0;
	int r;

	if (strcmp(path, "-") == 0)
		r = read_full_fd(STDIN_FILENO, VM_DEFINITION_MAX_FILE_SIZE, &text, &size);
	else {
		/* O_NONBLOCK: a FIFO must not hang the open; it is refused just after. */
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0 || fstat(fd, &st) < 0)
			r = negative_errno();
		else if (!S_ISREG(st.st_mode))
			return fail(-EINVAL, ret_message, origin,
				    "not a regular file ('-' reads standard input)");
		else
			r = read_full_fd(fd, VM_DEFINITION_MAX_FILE_SIZE, &text, &size);
	}
	if (r < 0)
		return fail(r, ret_message, origin, "cannot read: %s", strerror(-r));
	if (size > VM_DEFINITION_MAX_FILE_SIZE)
		return fail(-EFBIG, ret_message, origin, "larger than %u bytes",
			    VM_DEFINITION_MAX_FILE_SIZE);
	*ret = TAKE_PTR(text);
	*ret_size = size;
	return 0;
}

int definition_file_load(const char *path, VmDefinition *ret, char **ret_text, char **ret_message)
{
	const char *origin = strcmp(path, "-") == 0 ? "<stdin>" : path;
	_cleanup_free_ char *text = NULL;
	size_t size = 0;

	*ret_message = NULL;
	int r = read_text(path, origin, &text, &size, ret_message);
	if (r < 0)
		return r;
	r = vm_definition_load_string(text, size, origin, ret, ret_message);
	if (r < 0)
		return r;
	if (ret_text)
		*ret_text = TAKE_PTR(text);
	return 0;
}
