/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Scratch directories for unit tests: made fresh for a test, filled with the
 * files it needs, and removed with everything in them afterwards. Failures
 * here are test failures (cmocka assertions), so callers need no checks.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Makes a new empty directory under $TMPDIR (or /tmp) and returns its path. */
char *tmpdir_new(void);

/* Removes `path` and everything below it, then frees it. Accepts NULL. */
void tmpdir_remove(char *path);

/* Writes `size` bytes of `data` to dir/name with `mode`; returns the new file's path. */
char *tmpdir_write(const char *dir, const char *name, const void *data, size_t size, mode_t mode);

/* The same for a NUL-terminated text. */
char *tmpdir_write_text(const char *dir, const char *name, const char *text);

/* dir/name, allocated; the file need not exist. */
char *tmpdir_path(const char *dir, const char *name);
