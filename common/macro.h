/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small macros every file uses: attributes, ownership (_cleanup_, TAKE_PTR,
 * TAKE_FD) and array sizes. Nothing here allocates or does I/O.
 */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Hand over ownership: returns the value and leaves NULL (or -1) behind. */
#define TAKE_PTR(p)                         \
	__extension__({                     \
		__typeof__(p) _taken = (p); \
		(p) = NULL;                 \
		_taken;                     \
	})
#define TAKE_FD(fd)                   \
	__extension__({               \
		int _taken_fd = (fd); \
		(fd) = -1;            \
		_taken_fd;            \
	})

/* free() that returns NULL, for `p = mfree(p)`. */
static inline void *mfree(void *p)
{
	free(p);
	return NULL;
}

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

/* Closes an fd, keeping errno as it was. Accepts -1. Returns -1. */
static inline int safe_close(int fd)
{
	if (fd >= 0) {
		int saved = errno;
		(void)close(fd);
		errno = saved;
	}
	return -1;
}

static inline void closep(int *fd)
{
	safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

/* Defines a cleanup function `name` that calls `func` on a non-NULL `type *`. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func) \
	static inline void func##p(type *p)     \
	{                                       \
		if (*p)                         \
			func(*p);               \
	}

/* -errno of the last libc failure, never 0 (so a caller can return it as is). */
static inline int negative_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}
