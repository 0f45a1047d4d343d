/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "suggest.h"

#include <stdint.h>
#include <string.h>

#include "macro.h"

size_t edit_distance(const char *a, const char *b)
{
	/* Three rows of the table: two back (for a swap), the last, and this one. */
	size_t rows[3][SUGGEST_WORD_MAX + 1];
	size_t n = strlen(a), m = strlen(b);

	if (n > SUGGEST_WORD_MAX || m > SUGGEST_WORD_MAX)
		return SIZE_MAX;
	for (size_t j = 0; j <= m; j++)
		rows[0][j] = j;
	for (size_t i = 1; i <= n; i++) {
		size_t *two_back = rows[(i + 1) % 3], *last = rows[(i + 2) % 3], *row = rows[i % 3];
		row[0] = i;
		for (size_t j = 1; j <= m; j++) {
			size_t replace = last[j - 1] + (a[i - 1] != b[j - 1]);
			row[j] = MIN(MIN(last[j] + 1, row[j - 1] + 1), replace);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
				row[j] = MIN(row[j], two_back[j - 2] + 1);
		}
	}
	return rows[n % 3][m];
}

const char *suggest_closest(const char *word, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	size_t best_distance = SIZE_MAX;

	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(word, candidates[i]);
		if (d < best_distance) {
			best = candidates[i];
			best_distance = d;
		}
	}
	if (!best || best_distance > 2 || best_distance >= strlen(word))
		return NULL;
	return best;
}
