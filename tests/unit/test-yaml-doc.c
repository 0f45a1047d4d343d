/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Loading YAML safely: one document, errors with line numbers, a size bound,
 * and only regular files (a FIFO or a device at the path must not hang us).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "macro.h"
#include "tmpdir.h"
#include "yaml_doc.h"

/* A FIFO that blocked the open would otherwise hang the test until meson's timeout. */
#define HANG_ALARM_SEC 10

static int setup_dir(void **state)
{
	*state = tmpdir_new();
	return 0;
}

static int teardown_dir(void **state)
{
	tmpdir_remove(*state);
	return 0;
}

/* Loads `text`, expecting success; the caller deletes *doc. */
static void load_string(const char *text, yaml_document_t *doc)
{
	YamlDocError error;
	int r = yaml_doc_load_string(text, strlen(text), doc, &error);

	if (r != 0)
		fail_msg("%d at line %u: %s", r, error.line, error.text ? error.text : "(no text)");
	assert_null(error.text);
}

/* Loading `text` fails on `line` with a text containing `problem`. */
static void expect_string_error(const char *text, unsigned line, const char *problem)
{
	yaml_document_t doc;
	YamlDocError error;
	_cleanup_free_ char *message = NULL;

	assert_int_equal(yaml_doc_load_string(text, strlen(text), &doc, &error), -EINVAL);
	message = error.text;
	assert_non_null(message);
	if (error.line != line || !strstr(message, problem))
		fail_msg("'%s': got line %u, '%s'; expected line %u, '%s'", text, error.line,
			 message, line, problem);
}

/* Loading the file at `path` fails with `expected`, and for -EINVAL with `problem`. */
static void expect_file_error(const char *path, size_t max_size, int expected, const char *problem)
{
	yaml_document_t doc;
	YamlDocError error = { .line = 99 };

	alarm(HANG_ALARM_SEC);
	int r = yaml_doc_load_file(path, max_size, &doc, &error);
	alarm(0);
	_cleanup_free_ char *message = error.text;

	assert_int_equal(r, expected);
	if (problem) {
		assert_non_null(message);
		assert_non_null(strstr(message, problem));
		assert_int_equal(error.line, 0);
	} else
		assert_null(message);
}

static yaml_node_t *mapping_value(yaml_document_t *doc, yaml_node_t *mapping, const char *key)
{
	assert_int_equal(mapping->type, YAML_MAPPING_NODE);
	for (yaml_node_pair_t *pair = mapping->data.mapping.pairs.start;
	     pair < mapping->data.mapping.pairs.top; pair++) {
		const char *name = yaml_doc_scalar(yaml_document_get_node(doc, pair->key));
		if (name && strcmp(name, key) == 0)
			return yaml_document_get_node(doc, pair->value);
	}
	fail_msg("no key '%s'", key);
	return NULL;
}

static void test_lines(void **state)
{
	yaml_document_t doc;
	yaml_node_t *root, *b;

	load_string("# comment\na: 1\nb:\n  c: two\n  d: [x, y]\n", &doc);
	root = yaml_document_get_root_node(&doc);
	assert_non_null(root);
	assert_int_equal(yaml_doc_line(root), 2);
	assert_int_equal(yaml_doc_line(mapping_value(&doc, root, "a")), 2);
	b = mapping_value(&doc, root, "b");
	assert_int_equal(yaml_doc_line(b), 4);
	assert_string_equal(yaml_doc_scalar(mapping_value(&doc, b, "c")), "two");
	assert_int_equal(yaml_doc_line(mapping_value(&doc, b, "d")), 5);
	yaml_document_delete(&doc);
}

static void test_scalar(void **state)
{
	yaml_document_t doc;
	yaml_node_t *root;

	load_string("plain: text\nnul: \"a\\0b\"\nlist: [1]\nempty:\n", &doc);
	root = yaml_document_get_root_node(&doc);
	assert_string_equal(yaml_doc_scalar(mapping_value(&doc, root, "plain")), "text");
	assert_string_equal(yaml_doc_scalar(mapping_value(&doc, root, "empty")), "");
	/* A NUL would cut the value short where C reads it: refused. */
	assert_null(yaml_doc_scalar(mapping_value(&doc, root, "nul")));
	assert_null(yaml_doc_scalar(mapping_value(&doc, root, "list")));
	assert_null(yaml_doc_scalar(root));
	assert_null(yaml_doc_scalar(NULL));
	yaml_document_delete(&doc);
}

static void test_empty(void **state)
{
	static const char *const texts[] = { "", "\n\n", "# only a comment\n", "---\n...\n" };

	for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
		yaml_document_t doc;
		yaml_node_t *root;

		load_string(texts[i], &doc);
		/* Nothing, or an empty plain scalar for an explicit empty document. */
		root = yaml_document_get_root_node(&doc);
		if (root)
			assert_string_equal(yaml_doc_scalar(root), "");
		yaml_document_delete(&doc);
	}
}

static void test_one_explicit_document(void **state)
{
	yaml_document_t doc;

	load_string("---\na: 1\n...\n", &doc);
	assert_non_null(yaml_document_get_root_node(&doc));
	yaml_document_delete(&doc);
}

static void test_malformed(void **state)
{
	expect_string_error("a: 1\nb: [1, 2\n", 3, "");
	expect_string_error("a: 1\nb: 2\n  c: 3\n", 3, "");
	expect_string_error("a: 1\n\tb: 2\n", 2, "");
	expect_string_error("a: \"unterminated\n", 2, "");
	expect_string_error("a: *nowhere\n", 1, "");
}

static void test_two_documents(void **state)
{
	expect_string_error("a: 1\n---\nb: 2\n", 2, "only one YAML document");
	expect_string_error("a: 1\n...\n---\n", 3, "only one YAML document");
	/* A second document is refused where it starts, whatever follows it. */
	expect_string_error("a: 1\n---\nb: [\n", 2, "only one YAML document");
}

/* `prefix`, then `n` times `open`, then `n` times `close`, then `suffix`. */
static char *nested(const char *prefix, const char *open, const char *close, size_t n,
		    const char *suffix)
{
	size_t length = strlen(prefix) + n * (strlen(open) + strlen(close)) + strlen(suffix);
	char *text = malloc(length + 1), *p = text;

	assert_non_null(text);
	p = stpcpy(p, prefix);
	for (size_t i = 0; i < n; i++)
		p = stpcpy(p, open);
	for (size_t i = 0; i < n; i++)
		p = stpcpy(p, close);
	stpcpy(p, suffix);
	return text;
}

static void test_nesting_is_bounded(void **state)
{
	yaml_document_t doc;
	(void)state;

	/* 64 levels (the mapping of qemu-args is one) load; one more does not. */
	_cleanup_free_ char *deepest = nested("qemu-args: ", "[", "]", 63, "\n");
	_cleanup_free_ char *deeper = nested("qemu-args: ", "[", "]", 64, "\n");
	load_string(deepest, &doc);
	yaml_document_delete(&doc);
	expect_string_error(deeper, 1, "nested deeper than 64 levels");

	/* Block nesting counts the same. */
	_cleanup_free_ char *block = malloc(65 * 70);
	char *p = block;
	assert_non_null(block);
	for (int i = 0; i < 65; i++)
		p += sprintf(p, "%*sk:\n", i, "");
	expect_string_error(block, 65, "nested deeper than 64 levels");
}

/*
 * libyaml's scanner costs the square of the flow depth: 100,000 levels took 52 s
 * on the event loop. The bound stops it while it is cheap (about 1 ms here).
 */
static void test_deep_input_is_refused_at_once(void **state)
{
	struct timespec a, b;
	(void)state;

	_cleanup_free_ char *hostile = nested("qemu-args: ", "[", "]", 100000, "\n");
	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &a), 0);
	expect_string_error(hostile, 1, "nested deeper than 64 levels");
	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &b), 0);
	double seconds = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	if (seconds > 0.5)
		fail_msg("refusing 100,000 levels took %.3f s", seconds);
}

static void test_anchors_and_aliases_are_bounded(void **state)
{
	yaml_document_t doc;
	char *p;
	(void)state;

	/* 64 anchored values, each used once: fine. 65 anchors, or 65 aliases, are not. */
	_cleanup_free_ char *fine = malloc(64 * 40 + 64), *anchors = malloc(65 * 40 + 64),
			    *aliases = malloc(66 * 40 + 64);
	assert_true(fine && anchors && aliases);
	p = fine;
	for (int i = 0; i < 64; i++)
		p += sprintf(p, "a%d: &x%d v%d\nb%d: *x%d\n", i, i, i, i, i);
	load_string(fine, &doc);
	/* An alias is the anchored node itself. */
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	assert_ptr_equal(mapping_value(&doc, root, "b63"), mapping_value(&doc, root, "a63"));
	assert_string_equal(yaml_doc_scalar(mapping_value(&doc, root, "b7")), "v7");
	yaml_document_delete(&doc);
	load_string("list: &l [1, {k: v}]\ncopy: *l\n", &doc);
	root = yaml_document_get_root_node(&doc);
	yaml_node_t *copy = mapping_value(&doc, root, "copy");
	assert_int_equal(copy->type, YAML_SEQUENCE_NODE);
	assert_int_equal(copy->data.sequence.items.top - copy->data.sequence.items.start, 2);
	assert_int_equal(yaml_doc_line(copy), 1);
	yaml_document_delete(&doc);
	expect_string_error("a: &x 1\nb: &x 2\n", 2, "duplicate anchor");
	expect_string_error("a: *x\nb: &x 2\n", 1, "undefined alias");
	p = anchors;
	for (int i = 0; i < 65; i++)
		p += sprintf(p, "a%d: &x%d v\n", i, i);
	expect_string_error(anchors, 65, "more than 64 anchors");
	p = aliases + sprintf(aliases, "a: &x v\n");
	for (int i = 0; i < 65; i++)
		p += sprintf(p, "b%d: *x\n", i);
	expect_string_error(aliases, 66, "more than 64 aliases");
}

static void test_values_are_bounded(void **state)
{
	yaml_document_t doc;
	(void)state;

	/* A mapping of 2047 keys and values, plus itself: 4095 nodes. Then one pair more. */
	_cleanup_free_ char *fine = malloc(2048 * 16), *more = malloc(2049 * 16);
	char *p;
	assert_true(fine && more);
	p = fine;
	for (int i = 0; i < 2047; i++)
		p += sprintf(p, "k%d: v\n", i);
	load_string(fine, &doc);
	yaml_document_delete(&doc);
	p = stpcpy(more, fine);
	p += sprintf(p, "k2047: v\n");
	expect_string_error(more, 2048, "more than 4096 values");
}

static void test_file(void **state)
{
	_cleanup_free_ char *path = tmpdir_write_text(*state, "ok.yaml", "a: 1\n");
	yaml_document_t doc;
	YamlDocError error;

	assert_int_equal(yaml_doc_load_file(path, 1024, &doc, &error), 0);
	assert_null(error.text);
	assert_string_equal(
		yaml_doc_scalar(mapping_value(&doc, yaml_document_get_root_node(&doc), "a")), "1");
	yaml_document_delete(&doc);
}

static void test_file_errors_carry_lines(void **state)
{
	_cleanup_free_ char *path = tmpdir_write_text(*state, "bad.yaml", "a: 1\nb: [\n");
	yaml_document_t doc;
	YamlDocError error;

	assert_int_equal(yaml_doc_load_file(path, 1024, &doc, &error), -EINVAL);
	assert_int_equal(error.line, 3);
	assert_non_null(error.text);
	free(error.text);
}

static void test_missing_file(void **state)
{
	_cleanup_free_ char *path = tmpdir_path(*state, "missing.yaml");

	expect_file_error(path, 1024, -ENOENT, NULL);
}

static void test_size_bound(void **state)
{
	char text[64];

	/* "a: xxx…x\n", exactly sizeof(text) bytes. */
	memset(text, 'x', sizeof(text));
	memcpy(text, "a: ", 3);
	text[sizeof(text) - 1] = '\n';
	_cleanup_free_ char *path = tmpdir_write(*state, "f.yaml", text, sizeof(text), 0644);
	yaml_document_t doc;
	YamlDocError error;

	assert_int_equal(yaml_doc_load_file(path, sizeof(text), &doc, &error), 0);
	yaml_document_delete(&doc);
	expect_file_error(path, sizeof(text) - 1, -EINVAL, "larger than 63 bytes");
}

static void test_directory(void **state)
{
	expect_file_error(*state, 1024, -EINVAL, "not a regular file");
}

static void test_fifo(void **state)
{
	_cleanup_free_ char *path = tmpdir_path(*state, "fifo");

	assert_int_equal(mkfifo(path, 0600), 0);
	expect_file_error(path, 1024, -EINVAL, "not a regular file");
}

static void test_device(void **state)
{
	expect_file_error("/dev/null", 1024, -EINVAL, "not a regular file");
}

static void test_symlink_to_directory(void **state)
{
	_cleanup_free_ char *path = tmpdir_path(*state, "link");

	assert_int_equal(symlink("/", path), 0);
	expect_file_error(path, 1024, -EINVAL, "not a regular file");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_scalar),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_one_explicit_document),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_two_documents),
		cmocka_unit_test(test_nesting_is_bounded),
		cmocka_unit_test(test_deep_input_is_refused_at_once),
		cmocka_unit_test(test_anchors_and_aliases_are_bounded),
		cmocka_unit_test(test_values_are_bounded),
		cmocka_unit_test_setup_teardown(test_file, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_file_errors_carry_lines, setup_dir,
						teardown_dir),
		cmocka_unit_test_setup_teardown(test_missing_file, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_size_bound, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_directory, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_fifo, setup_dir, teardown_dir),
		cmocka_unit_test(test_device),
		cmocka_unit_test_setup_teardown(test_symlink_to_directory, setup_dir, teardown_dir),
	};

	return cmocka_run_group_tests_name("yaml_doc", tests, NULL, NULL);
}
