/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * "Did you mean": the edit distance between two words (a swap of neighbours
 * costs one edit) and which known word a typo is taken for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "suggest.h"

static void test_edit_distance(void **state)
{
	assert_int_equal(edit_distance("", ""), 0);
	assert_int_equal(edit_distance("start", "start"), 0);
	assert_int_equal(edit_distance("", "stop"), 4);
	assert_int_equal(edit_distance("stop", ""), 4);
	assert_int_equal(edit_distance("stat", "start"), 1); /* one inserted */
	assert_int_equal(edit_distance("starts", "start"), 1); /* one deleted */
	assert_int_equal(edit_distance("stort", "start"), 1); /* one replaced */
	assert_int_equal(edit_distance("strat", "start"), 1); /* neighbours swapped */
	assert_int_equal(edit_distance("stat", "status"), 2);
	assert_int_equal(edit_distance("kitten", "sitting"), 3);
	assert_int_equal(edit_distance("ca", "abc"), 3); /* a swap is not edited again */
	/* Symmetric. */
	assert_int_equal(edit_distance("gpus", "gpu"), edit_distance("gpu", "gpus"));

	char long_word[SUGGEST_WORD_MAX + 2];
	memset(long_word, 'a', sizeof(long_word) - 1);
	long_word[sizeof(long_word) - 1] = '\0';
	assert_true(edit_distance(long_word, "a") == SIZE_MAX);
	long_word[SUGGEST_WORD_MAX] = '\0'; /* exactly the longest taken */
	assert_int_equal(edit_distance(long_word, long_word), 0);
}

static const char *const commands[] = {
	"list",  "status",     "start",     "stop",     "pause",    "resume", "kill", "run",
	"watch", "logs",       "define",    "undefine", "validate", "gpus",   "gpu",  "topology",
	"check", "partitions", "partition", "vfs",      "version",  "help",
};

static void test_suggest_closest(void **state)
{
	assert_string_equal(suggest_closest("strat", commands, ELEMENTSOF(commands)), "start");
	/* start and status are both near "stat": the nearer wins. */
	assert_string_equal(suggest_closest("stat", commands, ELEMENTSOF(commands)), "start");
	assert_string_equal(suggest_closest("lst", commands, ELEMENTSOF(commands)), "list");
	assert_string_equal(suggest_closest("gpuss", commands, ELEMENTSOF(commands)), "gpus");
	assert_string_equal(suggest_closest("valdiate", commands, ELEMENTSOF(commands)),
			    "validate");
	/* Equally near: the first candidate. */
	static const char *const tied[] = { "abcx", "abcy" };
	assert_string_equal(suggest_closest("abc", tied, ELEMENTSOF(tied)), "abcx");
	/* Too far to be a typo. */
	assert_null(suggest_closest("foo", commands, ELEMENTSOF(commands)));
	assert_null(suggest_closest("destroy", commands, ELEMENTSOF(commands)));
	/* Not fewer edits than letters: "ls" is not "gpu" nor "vfs". */
	assert_null(suggest_closest("ls", commands, ELEMENTSOF(commands)));
	assert_null(suggest_closest("x", commands, ELEMENTSOF(commands)));
	assert_null(suggest_closest("", commands, ELEMENTSOF(commands)));
	assert_null(suggest_closest("start", NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edit_distance),
		cmocka_unit_test(test_suggest_closest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
