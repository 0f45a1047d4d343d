/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Opening a path that other users may have tampered with, as root: a disk or
 * ISO an admin keeps in a directory others can write, a device node. The path
 * is walked one component at a time from "/"; a symbolic link is followed
 * only where it sits in a directory that only root can change (so
 * /dev/disk/by-id/... and an admin's own links work), never in one another
 * user can write (where they could plant one pointing at a root-only file).
 * A regular file with a second name (a hard link someone made to a root-only
 * file) in such a directory is refused too. What is opened is checked with
 * fstat and acted on through the descriptor only.
 */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * Opens the absolute `path` with `flags` (O_RDONLY, O_RDWR or O_PATH; O_NOFOLLOW,
 * O_CLOEXEC and O_NOCTTY are added). Neither a FIFO nor a socket is opened for
 * reading or writing (nothing blocks). Returns the descriptor and fills *ret_st,
 * or a negative errno with a sentence in *ret_message (none with -ENOMEM): -ELOOP for a link in a
 * directory others can write (or too many links), -EPERM for a planted hard
 * link, -EINVAL for a relative path or a FIFO, or what open() said.
 */
int safe_open(const char *path, int flags, struct stat *ret_st, char **ret_message);

/* Only root can change the directory `st` describes: root's, no write for group or others. */
bool directory_is_roots(const struct stat *st);

/*
 * Gives what `fd` refers to (any descriptor, O_PATH included) to uid:gid with
 * `mode`, through the descriptor: never a path that could name something else
 * by now.
 */
int fd_chown_chmod(int fd, uid_t uid, gid_t gid, mode_t mode);

/*
 * The Unix socket just bound at `path` (in a directory only root can write):
 * found again without following a link, checked to be a socket, and given
 * uid:gid and `mode` through that descriptor.
 */
int bound_socket_chown_chmod(const char *path, uid_t uid, gid_t gid, mode_t mode);
