/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small file-system helpers. Return 0 or a negative errno; never log.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/*
 * Reads `fd` to its end, but at most `max_size` + 1 bytes (a size over
 * `max_size` means the file is too long), into a NUL-terminated buffer.
 */
int read_full_fd(int fd, size_t max_size, char **ret, size_t *ret_size);

/* Writes all `size` bytes (again after EINTR and short writes). */
int write_all(int fd, const void *data, size_t size);

/* Creates `path` and every missing parent with `mode`; existing ones are fine. */
int mkdir_p(const char *path, mode_t mode);

/*
 * mkdir_p(), then gives `path` exactly `mode` through a descriptor (opened
 * without following a link at its last component).
 */
int mkdir_p_mode(const char *path, mode_t mode);

/* Creates the parents of `path` (not `path` itself). */
int mkdir_parents(const char *path, mode_t mode);

/*
 * Replaces DIRECTORY/NAME with `size` bytes of `data`, atomically and durably:
 * a temporary file in the same directory, fsync, rename, fsync of the
 * directory. Whatever instant the machine stops at, the file holds either the
 * old content or the new. DIRECTORY is created (0700) when missing.
 */
int write_file_atomic(const char *directory, const char *name, const void *data, size_t size,
		      mode_t mode);

/*
 * Replaces DIRECTORY/NAME like write_file_atomic(), atomically for any process
 * that reads it (a temporary file renamed over it: a writer that dies at any
 * point leaves the old content or the new), but without fsync: a power cut
 * may lose it. For files about what a reboot ends anyway (in /run), where an
 * fsync would cost milliseconds and protect nothing.
 */
int write_file_replace(const char *directory, const char *name, const void *data, size_t size,
		       mode_t mode);

/* Removes DIRECTORY/NAME durably (fsync of the directory). A missing file is fine. */
int unlink_durable(const char *directory, const char *name);
