/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Many independent items, each almost all system calls or parsing, shared out
 * to one thread per CPU (up to four) and waited for: a blocking call, for the
 * daemon's setup or a thread of its own, never for the event loop. The
 * calling thread does the first share itself; a thread that cannot be
 * started leaves its share to the caller too, so the work is always done.
 */
#pragma once

#include <stddef.h>

/* Does items [begin, end) of a share: 0 or a negative errno, which stops that share. */
typedef int (*ParallelRange)(size_t begin, size_t end, void *userdata);

/*
 * Runs `range` over [0, n) in shares of at least `min_share` items (fewer
 * items, fewer threads). Returns 0, or the first negative errno of a share.
 */
int parallel_ranges(size_t n, size_t min_share, ParallelRange range, void *userdata);
