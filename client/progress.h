/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One line of progress on stderr, rewritten in place with "\r" while a long
 * call runs ("Starting gaming-vm: spawning QEMU (2/5)..."). Only on a
 * terminal: into a pipe or a file nothing is written, so logs and scripts see
 * no noise. Plain "\r" and spaces, no escape sequences: any terminal does.
 */
#pragma once

#include <stdbool.h>

#include "macro.h"

/* Whether stderr is a terminal, so that progress is shown (asked once). */
bool progress_enabled(void);

/* Replaces the line shown (if any) with this text, cut to the terminal's width. */
_printf_(1, 2) void progress_show(const char *format, ...);

/* Blanks the line shown, if any, so that what is written next starts on a clean line. */
void progress_clear(void);
