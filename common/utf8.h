/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * UTF-8 as RFC 3629 defines it (no overlong forms, no UTF-16 surrogates,
 * nothing beyond U+10FFFF), and text made safe to show: what the daemon
 * passes on from QEMU or a guest must neither break a JSON reader nor drive
 * the terminal it is printed on.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The length (1 to 4) of the valid sequence that starts at `p`, or 0 when none does. */
size_t utf8_sequence_length(const char *p, size_t left);

bool utf8_is_valid(const char *text, size_t length);

/*
 * A copy of `text` that is valid UTF-8 and holds no control character: bytes
 * that are no character, C0 controls but the tab, DEL and the C1 controls
 * (which some terminals obey as escape sequences) each become U+FFFD. At most
 * `max` bytes (at least 4), cut at a character. NULL when out of memory.
 */
char *utf8_printable(const char *text, size_t length, size_t max);
