/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "safe_open.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error_message.h"
#include "macro.h"

#define MAX_LINKS 40 /* the kernel's own limit */
#define MAX_DEPTH 256

bool directory_is_roots(const struct stat *st)
{
	return st->st_uid == 0 && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

int fd_chown_chmod(int fd, uid_t uid, gid_t gid, mode_t mode)
{
	char proc[64];

	if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0)
		return negative_errno();
	if (fchmod(fd, mode) >= 0)
		return 0;
	if (errno != EBADF)
		return negative_errno();
	/*
	 * An O_PATH descriptor (a device node, a socket), which fchmod() refuses:
	 * /proc/self/fd/N is this descriptor's own inode, not a name anyone can
	 * swap (fchmodat() cannot take AT_EMPTY_PATH before Linux 6.6).
	 */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return chmod(proc, mode) < 0 ? negative_errno() : 0;
}

int bound_socket_chown_chmod(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
	struct stat st;
	_cleanup_close_ int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return negative_errno();
	if (!S_ISSOCK(st.st_mode))
		return -ELOOP;
	return fd_chown_chmod(fd, uid, gid, mode);
}

/* The directories walked so far: descriptors, and the path they make, for messages. */
typedef struct Walk {
	int fds[MAX_DEPTH];
	size_t depth;
	char shown[PATH_MAX];
} Walk;

static void walk_up(Walk *w)
{
	if (w->depth > 1)
		close(w->fds[--w->depth]);
	char *slash = strrchr(w->shown, '/');
	if (slash)
		*slash = '\0';
}

static void walk_to_root(Walk *w)
{
	while (w->depth > 1)
		close(w->fds[--w->depth]);
	w->shown[0] = '\0';
}

static int walk_into(Walk *w, int fd, const char *name)
{
	size_t n = strlen(w->shown);
	if (w->depth >= MAX_DEPTH || n + 1 + strlen(name) >= sizeof(w->shown)) {
		close(fd);
		return -ENAMETOOLONG;
	}
	w->fds[w->depth++] = fd;
	snprintf(w->shown + n, sizeof(w->shown) - n, "/%s", name);
	return 0;
}

static void walk_done(Walk *w)
{
	while (w->depth > 0)
		close(w->fds[--w->depth]);
}

/* Replaces *rest by TARGET + "/" + what followed the link. */
static int splice_link(char **rest, const char *target, const char *after)
{
	char *joined = NULL;
	if (asprintf(&joined, "%s/%s", target, after) < 0)
		return -ENOMEM;
	free(*rest);
	*rest = joined;
	return 0;
}

/* The last component: opened for real, and it must be what the O_PATH look saw. */
static int open_final(Walk *w, const char *path, const char *name, int flags,
		      const struct stat *seen, const struct stat *dir, struct stat *ret_st,
		      char **ret_message)
{
	int top = w->fds[w->depth - 1];

	if (!directory_is_roots(dir) && S_ISREG(seen->st_mode) && seen->st_nlink > 1)
		return error_message(ret_message, -EPERM,
				     "%s has another name (a hard link) in %s, a directory other "
				     "users can write; libvfiod does not open it. Copy the file.",
				     path, w->shown[0] ? w->shown : "/");
	if ((flags & O_PATH) == 0 && (S_ISFIFO(seen->st_mode) || S_ISSOCK(seen->st_mode)))
		return error_message(ret_message, -EINVAL, "%s is a pipe or a socket, not a file.",
				     path);
	int fd = openat(top, name,
			flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
				((flags & O_PATH) ? 0 : O_NONBLOCK));
	if (fd < 0)
		return error_message(ret_message, negative_errno(), "Cannot open %s: %s.", path,
				     strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_dev != seen->st_dev || st.st_ino != seen->st_ino) {
		close(fd);
		return error_message(ret_message, -EAGAIN,
				     "%s changed while it was being opened; try again.", path);
	}
	if ((flags & O_PATH) == 0)
		(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	*ret_st = st;
	return fd;
}

int safe_open(const char *path, int flags, struct stat *ret_st, char **ret_message)
{
	_cleanup_free_ char *rest = NULL;
	unsigned links = 0;
	Walk w = { .depth = 0 };
	int r;

	if (path[0] != '/')
		return error_message(ret_message, -EINVAL, "%s is not an absolute path.", path);
	rest = strdup(path);
	w.fds[0] = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (!rest)
		return -ENOMEM;
	if (w.fds[0] < 0)
		return error_message(ret_message, negative_errno(), "Cannot open /: %s.",
				     strerror(errno));
	w.depth = 1;

	for (char *p = rest;;) {
		while (*p == '/')
			p++;
		if (*p == '\0') { /* the path names a directory: the one reached */
			r = openat(w.fds[w.depth - 1], ".", flags | O_CLOEXEC);
			if (r < 0 || fstat(r, ret_st) < 0)
				r = error_message(ret_message, negative_errno(),
						  "Cannot open %s: %s.", path, strerror(errno));
			break;
		}
		char *end = strchrnul(p, '/');
		char *next = end + strspn(end, "/");
		bool last = *next == '\0';
		*end = '\0';
		if (strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
			if (p[1] == '.')
				walk_up(&w);
			p = next;
			continue;
		}
		int top = w.fds[w.depth - 1];
		struct stat dir, st;
		int fd = openat(top, p, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(top, &dir) < 0 || fstat(fd, &st) < 0) {
			r = error_message(ret_message, negative_errno(), "Cannot open %s: %s.",
					  path, strerror(errno));
			if (fd >= 0)
				close(fd);
			break;
		}
		if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
			close(fd);
			if (!directory_is_roots(&dir)) {
				r = error_message(
					ret_message, -ELOOP,
					"%s: %s%s%s is a link in a directory other users "
					"can write; libvfiod follows no such link. Name the "
					"file itself.",
					path, w.shown, "/", p);
				break;
			}
			if (n < 0 || ++links > MAX_LINKS) {
				r = error_message(ret_message, n < 0 ? negative_errno() : -ELOOP,
						  "Cannot follow the links of %s: %s.", path,
						  strerror(n < 0 ? errno : ELOOP));
				break;
			}
			target[n] = '\0';
			if (target[0] == '/')
				walk_to_root(&w);
			r = splice_link(&rest, target, next);
			if (r < 0)
				break;
			p = rest;
			continue;
		}
		if (last) {
			close(fd);
			r = open_final(&w, path, p, flags, &st, &dir, ret_st, ret_message);
			break;
		}
		if (!S_ISDIR(st.st_mode)) {
			close(fd);
			r = error_message(ret_message, -ENOTDIR,
					  "Cannot open %s: %s%s%s is not a "
					  "directory.",
					  path, w.shown, "/", p);
			break;
		}
		r = walk_into(&w, fd, p);
		if (r < 0) {
			r = error_message(ret_message, r, "Cannot open %s: it is too long.", path);
			break;
		}
		p = next;
	}
	walk_done(&w);
	return r;
}
