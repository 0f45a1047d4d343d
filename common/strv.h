/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NULL-terminated arrays of malloc'ed strings.
 */
#pragma once

#include <stddef.h>

#include "macro.h"

size_t strv_length(char *const *list);
char **strv_free(char **list);

/* Appends a copy of `text`. -ENOMEM leaves the list as it was. */
int strv_append(char ***list, const char *text);

/* Appends a formatted string. */
int strv_appendf(char ***list, const char *format, ...) _printf_(2, 3);

/* True when `text` is in the list. */
int strv_contains(char *const *list, const char *text);

DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free)
#define _cleanup_strv_ _cleanup_(strv_freep)
