/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * "Did you mean": the known word closest to one that is not known (a
 * mistyped command or option). Pure; nothing here prints.
 */
#pragma once

#include <stddef.h>

/*
 * The optimal string alignment distance between a and b: the fewest inserted,
 * deleted or replaced characters, or swapped neighbours ("strat" → "start" is
 * one), each costing 1. Bytes are compared; names here are ASCII. Words longer
 * than SUGGEST_WORD_MAX count as SIZE_MAX away from anything.
 */
size_t edit_distance(const char *a, const char *b);

#define SUGGEST_WORD_MAX 64

/*
 * Among the n candidates, the one closest to `word` when it is close enough
 * to be a typo of it: at most 2 edits, and fewer edits than the word has
 * characters (so that "ls" is not taken for "gpu"). The first of equally close
 * ones wins. NULL when none is.
 */
const char *suggest_closest(const char *word, const char *const *candidates, size_t n);
