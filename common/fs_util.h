/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small file-system helpers. Return 0 or a negative errno; never log.
 */
#pragma once

#include <sys/types.h>

/* Creates `path` and every missing parent with `mode`; existing ones are fine. */
int mkdir_p(const char *path, mode_t mode);

/* Creates the parents of `path` (not `path` itself). */
int mkdir_parents(const char *path, mode_t mode);
