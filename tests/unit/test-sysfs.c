/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading below a sysfs root, on scratch trees: attribute text and integers,
 * symlink names, sorted directory listings, and every kind of damage a file
 * can have (too long, a NUL inside, a FIFO, a directory, a loop, a dangling
 * link), each of which must be an error code and never a hang.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/sysfs.h"
#include "macro.h"
#include "strv.h"
#include "tmpdir.h"

/* A read that should return at once gets this long before SIGALRM ends the test. */
#define HANG_GUARD_SECONDS 5

typedef struct Tree {
	char *dir;
	SysfsRoot root;
} Tree;

static int setup_tree(void **state)
{
	Tree *tree = calloc(1, sizeof(*tree));

	assert_non_null(tree);
	tree->dir = tmpdir_new();
	assert_int_equal(sysfs_root_init(&tree->root, tree->dir), 0);
	*state = tree;
	return 0;
}

static int teardown_tree(void **state)
{
	Tree *tree = *state;

	sysfs_root_done(&tree->root);
	tmpdir_remove(tree->dir);
	free(tree);
	return 0;
}

static void write_file(const Tree *tree, const char *name, const char *text)
{
	free(tmpdir_write_text(tree->dir, name, text));
}

static void make_dir(const Tree *tree, const char *name)
{
	_cleanup_free_ char *path = tmpdir_path(tree->dir, name);

	assert_int_equal(mkdir(path, 0755), 0);
}

static void make_link(const Tree *tree, const char *name, const char *target)
{
	_cleanup_free_ char *path = tmpdir_path(tree->dir, name);

	assert_int_equal(symlink(target, path), 0);
}

/* Reading `name` gives exactly `expected`. */
static void expect_text(const Tree *tree, const char *name, size_t max, const char *expected)
{
	_cleanup_free_ char *text = NULL;
	int r = sysfs_read_text(&tree->root, name, max, &text);

	if (r != 0 || !text || strcmp(text, expected) != 0)
		fail_msg("%s: got %d and '%s', expected 0 and '%s'", name, r,
			 text ? text : "(nothing)", expected);
}

/* Reading `name` fails with `error`, at once, and returns no text. */
static void expect_text_error(const Tree *tree, const char *name, size_t max, int error)
{
	char *text = NULL;
	int r;

	alarm(HANG_GUARD_SECONDS);
	r = sysfs_read_text(&tree->root, name, max, &text);
	alarm(0);
	if (r != error || text)
		fail_msg("%s: got %d%s, expected %d", name, r, text ? " and a text" : "", error);
}

static void test_root_init(void **state)
{
	static const struct {
		const char *given, *kept;
	} cases[] = {
		{ "/", "" },
		{ "//", "" },
		{ "", "" },
		{ "/tmp/fixture", "/tmp/fixture" },
		{ "/tmp/fixture/", "/tmp/fixture" },
		{ "/tmp/fixture///", "/tmp/fixture" },
		{ "fixture/", "fixture" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		SysfsRoot root;

		assert_int_equal(sysfs_root_init(&root, cases[i].given), 0);
		if (strcmp(root.path, cases[i].kept) != 0)
			fail_msg("root '%s' kept as '%s', expected '%s'", cases[i].given, root.path,
				 cases[i].kept);
		sysfs_root_done(&root);
		assert_null(root.path);
		/* Done twice is harmless. */
		sysfs_root_done(&root);
	}
}

static void test_path(void **state)
{
	SysfsRoot system, fixture;
	char buf[64];

	assert_int_equal(sysfs_root_init(&system, "/"), 0);
	assert_int_equal(sysfs_root_init(&fixture, "/tmp/fixture//"), 0);

	assert_int_equal(sysfs_path(&system, "sys/bus/pci/devices", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/sys/bus/pci/devices");
	assert_int_equal(sysfs_path(&fixture, "sys/bus/pci/devices", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/tmp/fixture/sys/bus/pci/devices");

	/* Exactly fitting, and one byte short. */
	assert_int_equal(sysfs_path(&system, "proc/cmdline", buf, strlen("/proc/cmdline") + 1), 0);
	assert_string_equal(buf, "/proc/cmdline");
	assert_int_equal(sysfs_path(&system, "proc/cmdline", buf, strlen("/proc/cmdline")),
			 -ENAMETOOLONG);
	assert_int_equal(sysfs_path(&fixture,
				    "sys/bus/pci/devices/0000:00:02.0/mdev_supported_types", buf,
				    sizeof(buf)),
			 -ENAMETOOLONG);

	sysfs_root_done(&system);
	sysfs_root_done(&fixture);
}

/* A root given with trailing slashes reads the same files. */
static void test_root_with_trailing_slashes(void **state)
{
	Tree *tree = *state;
	_cleanup_free_ char *slashed = NULL;
	_cleanup_free_ char *text = NULL;
	SysfsRoot root;
	char path[4096];

	write_file(tree, "vendor", "0x8086\n");
	assert_true(asprintf(&slashed, "%s///", tree->dir) > 0);
	assert_int_equal(sysfs_root_init(&root, slashed), 0);
	assert_string_equal(root.path, tree->dir);
	assert_int_equal(sysfs_path(&root, "vendor", path, sizeof(path)), 0);
	assert_null(strstr(path, "//"));
	assert_int_equal(sysfs_read_text(&root, "vendor", 64, &text), 0);
	assert_string_equal(text, "0x8086");
	sysfs_root_done(&root);
}

static void test_read_text_trims(void **state)
{
	Tree *tree = *state;

	write_file(tree, "newline", "vfio-pci\n");
	write_file(tree, "none", "vfio-pci");
	write_file(tree, "spaces", "vfio-pci   \n");
	write_file(tree, "mixed", "vfio-pci \t \n\n");
	write_file(tree, "inner", "  i915-GVTg V5 4\tx\n");
	write_file(tree, "lines", "first\nsecond\n");
	write_file(tree, "empty", "");
	write_file(tree, "blank", " \n\t\n");
	/* Some attributes end in a NUL (device tree strings); it is trailing padding. */
	free(tmpdir_write(tree->dir, "nul-end", "0x8086\n\0", 8, 0644));

	expect_text(tree, "newline", 64, "vfio-pci");
	expect_text(tree, "none", 64, "vfio-pci");
	expect_text(tree, "spaces", 64, "vfio-pci");
	expect_text(tree, "mixed", 64, "vfio-pci");
	expect_text(tree, "inner", 64, "  i915-GVTg V5 4\tx");
	expect_text(tree, "lines", 64, "first\nsecond");
	expect_text(tree, "empty", 64, "");
	expect_text(tree, "blank", 64, "");
	expect_text(tree, "nul-end", 64, "0x8086");
}

/* A limit larger than a page: such files are read to their end, a page at a time. */
#define LARGE_FILE (64 * 1024)

static void test_read_text_limit(void **state)
{
	Tree *tree = *state;
	_cleanup_free_ char *big = malloc(LARGE_FILE + 2);

	write_file(tree, "four", "abcd");
	write_file(tree, "four-newline", "abcd\n");
	expect_text(tree, "four", 4, "abcd");
	/* The limit is on the file, before trimming. */
	expect_text_error(tree, "four-newline", 4, -EFBIG);
	expect_text(tree, "four-newline", 5, "abcd");
	expect_text_error(tree, "four", 3, -EFBIG);
	expect_text_error(tree, "four", 0, -EFBIG);

	/* At the attribute limit and one byte beyond it. */
	assert_non_null(big);
	memset(big, '7', LARGE_FILE + 1);
	free(tmpdir_write(tree->dir, "at-limit", big, LARGE_FILE, 0644));
	free(tmpdir_write(tree->dir, "over-limit", big, LARGE_FILE + 1, 0644));
	{
		_cleanup_free_ char *text = NULL;

		assert_int_equal(sysfs_read_text(&tree->root, "at-limit", LARGE_FILE, &text), 0);
		assert_int_equal(strlen(text), LARGE_FILE);
	}
	expect_text_error(tree, "over-limit", LARGE_FILE, -EFBIG);
}

static void test_read_text_nul_inside(void **state)
{
	Tree *tree = *state;

	free(tmpdir_write(tree->dir, "nul", "vfio\0pci\n", 9, 0644));
	free(tmpdir_write(tree->dir, "nul-first", "\0vfio\n", 6, 0644));
	expect_text_error(tree, "nul", 64, -EBADMSG);
	expect_text_error(tree, "nul-first", 64, -EBADMSG);
}

/* A FIFO with no writer would block a plain read forever. */
static void test_read_text_fifo(void **state)
{
	Tree *tree = *state;
	_cleanup_free_ char *path = tmpdir_path(tree->dir, "fifo");

	assert_int_equal(mkfifo(path, 0644), 0);
	expect_text_error(tree, "fifo", 64, -EAGAIN);
	assert_int_equal(sysfs_read_int(&tree->root, "fifo", &(int64_t){ 0 }), -EAGAIN);

	/* A character device is not an attribute either. */
	make_link(tree, "null", "/dev/null");
	expect_text_error(tree, "null", 64, -EAGAIN);
}

static void test_read_text_not_a_file(void **state)
{
	Tree *tree = *state;

	make_dir(tree, "directory");
	make_link(tree, "loop", "loop");
	make_link(tree, "ping", "pong");
	make_link(tree, "pong", "ping");
	make_link(tree, "dangling", "nowhere/vendor");
	make_link(tree, "to-directory", "directory");

	expect_text_error(tree, "directory", 64, -EISDIR);
	expect_text_error(tree, "to-directory", 64, -EISDIR);
	expect_text_error(tree, "loop", 64, -ELOOP);
	expect_text_error(tree, "ping", 64, -ELOOP);
	expect_text_error(tree, "dangling", 64, -ENOENT);
	expect_text_error(tree, "missing", 64, -ENOENT);
	expect_text_error(tree, "missing/vendor", 64, -ENOENT);
}

/*
 * proc files are seq_files: one read returns about a page even when more is
 * asked for, so a short read is not the end of the file. /proc/self/maps,
 * made long with a mapping of many small areas, is read to its end.
 */
static void test_read_text_short_reads(void **state)
{
	const size_t page = (size_t)sysconf(_SC_PAGESIZE), n_pages = 512;
	char *area = mmap(NULL, n_pages * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *text = NULL;
	bool has_second, has_next_to_last;
	size_t length;
	char second[64], next_to_last[64];
	SysfsRoot root;
	int r;

	/* Every other page readable: 512 lines in maps, tens of pages of text. */
	assert_true(area != MAP_FAILED);
	for (size_t i = 0; i < n_pages; i += 2)
		assert_int_equal(mprotect(area + i * page, page, PROT_READ), 0);
	/* Areas inside ours, so that no neighbour can merge with them. */
	snprintf(second, sizeof(second), "%08lx-%08lx ", (unsigned long)(area + page),
		 (unsigned long)(area + 2 * page));
	snprintf(next_to_last, sizeof(next_to_last), "%08lx-%08lx ",
		 (unsigned long)(area + (n_pages - 2) * page),
		 (unsigned long)(area + (n_pages - 1) * page));

	assert_int_equal(sysfs_root_init(&root, "/"), 0);
	r = sysfs_read_text(&root, "proc/self/maps", 16 * 1024 * 1024, &text);
	sysfs_root_done(&root);
	assert_int_equal(munmap(area, n_pages * page), 0);
	assert_int_equal(r, 0);
	has_second = strstr(text, second);
	has_next_to_last = strstr(text, next_to_last);
	length = strlen(text);
	free(text);
	if (!has_second || !has_next_to_last)
		fail_msg("proc/self/maps read as %zu bytes, without %s%s", length,
			 has_second ? "" : second, has_next_to_last ? "" : next_to_last);
}

static void test_read_text_follows_links(void **state)
{
	Tree *tree = *state;

	make_dir(tree, "device");
	write_file(tree, "device/vendor", "0x10de\n");
	make_link(tree, "link", "device");
	expect_text(tree, "link/vendor", 64, "0x10de");
}

static void test_read_int(void **state)
{
	Tree *tree = *state;
	static const struct {
		const char *text;
		int64_t value;
	} good[] = {
		{ "42\n", 42 },         { "0\n", 0 },
		{ "0x8086\n", 0x8086 }, { "0x030000\n", 0x030000 },
		{ "0X10DE", 0x10de },   { "-1\n", -1 },
		{ "16", 16 },           { "9223372036854775807\n", INT64_MAX },
	};
	static const char *const bad[] = {
		"garbage\n",
		"\n",
		"",
		"42abc\n",
		"4 2\n",
		"0x\n",
		"0xg\n",
		"-\n",
		"1.5\n",
		"Y\n",
		"99999999999999999999\n",
	};

	for (size_t i = 0; i < ELEMENTSOF(good); i++) {
		int64_t value = 0x5a5a;

		write_file(tree, "attribute", good[i].text);
		if (sysfs_read_int(&tree->root, "attribute", &value) != 0 || value != good[i].value)
			fail_msg("'%s' read as %lld, expected %lld", good[i].text, (long long)value,
				 (long long)good[i].value);
	}
	for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
		int64_t value = 0x5a5a;
		int r;

		write_file(tree, "attribute", bad[i]);
		r = sysfs_read_int(&tree->root, "attribute", &value);
		if (r != -EINVAL || value != 0x5a5a)
			fail_msg("'%s': got %d, expected -EINVAL and nothing stored", bad[i], r);
	}

	/* Errors of the read come through as they are. */
	assert_int_equal(sysfs_read_int(&tree->root, "missing", &(int64_t){ 0 }), -ENOENT);
	write_file(tree, "long",
		   "1234567890123456789012345678901234567890123456789012345678901234"
		   "5\n");
	assert_int_equal(sysfs_read_int(&tree->root, "long", &(int64_t){ 0 }), -EFBIG);
}

static void expect_link_name(const Tree *tree, const char *name, const char *expected)
{
	_cleanup_free_ char *link_name = NULL;
	int r = sysfs_read_link_name(&tree->root, name, &link_name);

	if (r != 0 || !link_name || strcmp(link_name, expected) != 0)
		fail_msg("%s: got %d and '%s', expected 0 and '%s'", name, r,
			 link_name ? link_name : "(nothing)", expected);
}

static void expect_link_error(const Tree *tree, const char *name, int error)
{
	char *link_name = NULL;
	int r = sysfs_read_link_name(&tree->root, name, &link_name);

	if (r != error || link_name)
		fail_msg("%s: got %d, expected %d", name, r, error);
}

static void test_read_link_name(void **state)
{
	Tree *tree = *state;

	make_link(tree, "driver", "../../../bus/pci/drivers/vfio-pci");
	make_link(tree, "iommu_group", "../../../kernel/iommu_groups/14");
	make_link(tree, "physfn", "../0000:03:00.0");
	make_link(tree, "bare", "i915");
	make_link(tree, "absolute", "/sys/bus/pci/drivers/nvidia");
	make_link(tree, "trailing-slash", "../drivers/");
	write_file(tree, "file", "vfio-pci\n");

	/* The target need not exist: only the link is read. */
	expect_link_name(tree, "driver", "vfio-pci");
	expect_link_name(tree, "iommu_group", "14");
	expect_link_name(tree, "physfn", "0000:03:00.0");
	expect_link_name(tree, "bare", "i915");
	expect_link_name(tree, "absolute", "nvidia");

	expect_link_error(tree, "trailing-slash", -EINVAL);
	expect_link_error(tree, "file", -EINVAL);
	expect_link_error(tree, "missing", -ENOENT);
}

static void test_exists(void **state)
{
	Tree *tree = *state;

	make_dir(tree, "directory");
	write_file(tree, "file", "1\n");
	make_link(tree, "link", "file");
	make_link(tree, "dangling", "nowhere");

	assert_true(sysfs_exists(&tree->root, "directory"));
	assert_true(sysfs_exists(&tree->root, "file"));
	assert_true(sysfs_exists(&tree->root, "link"));
	assert_false(sysfs_exists(&tree->root, "dangling"));
	assert_false(sysfs_exists(&tree->root, "missing"));
	assert_false(sysfs_exists(&tree->root, "file/below"));
}

/* The *_at readers, inside a directory opened once. */
static void test_at_readers(void **state)
{
	Tree *tree = *state;
	_cleanup_close_ int dir = -1;
	_cleanup_free_ char *text = NULL, *driver = NULL;
	int64_t value = 0;

	make_dir(tree, "device");
	write_file(tree, "device/vendor", "0x8086\n");
	write_file(tree, "device/garbage", "Y\n");
	make_dir(tree, "device/subdir");
	make_link(tree, "device/driver", "../../bus/pci/drivers/i915");
	make_link(tree, "device/loop", "loop");
	{
		_cleanup_free_ char *fifo = tmpdir_path(tree->dir, "device/fifo");

		assert_int_equal(mkfifo(fifo, 0644), 0);
	}

	assert_int_equal(sysfs_open_dir(&tree->root, "missing"), -ENOENT);
	assert_int_equal(sysfs_open_dir(&tree->root, "device/vendor"), -ENOTDIR);
	dir = sysfs_open_dir(&tree->root, "device");
	assert_true(dir >= 0);

	assert_int_equal(sysfs_read_text_at(dir, "vendor", 64, &text), 0);
	assert_string_equal(text, "0x8086");
	assert_int_equal(sysfs_read_int_at(dir, "vendor", &value), 0);
	assert_int_equal(value, 0x8086);
	assert_int_equal(sysfs_read_int_at(dir, "garbage", &value), -EINVAL);
	assert_int_equal(value, 0x8086);
	assert_int_equal(sysfs_read_link_name_at(dir, "driver", &driver), 0);
	assert_string_equal(driver, "i915");
	assert_true(sysfs_exists_at(dir, "vendor"));
	assert_true(sysfs_exists_at(dir, "subdir"));
	assert_false(sysfs_exists_at(dir, "missing"));
	assert_false(sysfs_exists_at(dir, "driver")); /* dangling here */

	alarm(HANG_GUARD_SECONDS);
	assert_int_equal(sysfs_read_text_at(dir, "fifo", 64, &(char *){ NULL }), -EAGAIN);
	alarm(0);
	assert_int_equal(sysfs_read_text_at(dir, "subdir", 64, &(char *){ NULL }), -EISDIR);
	assert_int_equal(sysfs_read_text_at(dir, "loop", 64, &(char *){ NULL }), -ELOOP);
	assert_int_equal(sysfs_read_text_at(dir, "missing", 64, &(char *){ NULL }), -ENOENT);
	assert_int_equal(sysfs_read_link_name_at(dir, "vendor", &(char *){ NULL }), -EINVAL);
}

static int collect(const char *name, void *userdata)
{
	return strv_append(userdata, name);
}

/* Collects names up to "stop", then stops the listing with -ECANCELED. */
static int collect_until_stop(const char *name, void *userdata)
{
	int r = strv_append(userdata, name);

	if (r < 0)
		return r;
	return strcmp(name, "stop") == 0 ? -ECANCELED : 0;
}

/* A positive return is not a stop. */
static int collect_positive(const char *name, void *userdata)
{
	int r = strv_append(userdata, name);

	return r < 0 ? r : 1;
}

static void expect_names(char **names, const char *const *expected, size_t n_expected)
{
	assert_int_equal(strv_length(names), n_expected);
	for (size_t i = 0; i < n_expected; i++)
		if (strcmp(names[i], expected[i]) != 0)
			fail_msg("entry %zu is '%s', expected '%s'", i, names[i], expected[i]);
}

static void make_devices(const Tree *tree)
{
	make_dir(tree, "devices");
	make_dir(tree, "devices/0000:3b:00.0");
	make_dir(tree, "devices/0000:00:02.0");
	write_file(tree, "devices/0000:01:00.1", "");
	make_link(tree, "devices/0000:01:00.0", "../elsewhere");
	make_dir(tree, "devices/0000:00:1f.3");
}

static const char *const sorted_devices[] = {
	"0000:00:02.0", "0000:00:1f.3", "0000:01:00.0", "0000:01:00.1", "0000:3b:00.0",
};

static void test_list_dir_sorted(void **state)
{
	Tree *tree = *state;
	_cleanup_strv_ char **names = NULL;
	_cleanup_strv_ char **positive = NULL;

	make_devices(tree);
	assert_int_equal(sysfs_list_dir(&tree->root, "devices", 64, collect, &names), 0);
	expect_names(names, sorted_devices, ELEMENTSOF(sorted_devices));

	assert_int_equal(sysfs_list_dir(&tree->root, "devices", 64, collect_positive, &positive),
			 0);
	expect_names(positive, sorted_devices, ELEMENTSOF(sorted_devices));
}

static void test_list_dir_empty_and_missing(void **state)
{
	Tree *tree = *state;
	_cleanup_strv_ char **names = NULL;

	make_dir(tree, "empty");
	write_file(tree, "file", "");
	assert_int_equal(sysfs_list_dir(&tree->root, "empty", 64, collect, &names), 0);
	assert_int_equal(sysfs_list_dir(&tree->root, "empty", 0, collect, &names), 0);
	assert_null(names);
	assert_int_equal(sysfs_list_dir(&tree->root, "missing", 64, collect, &names), -ENOENT);
	assert_int_equal(sysfs_list_dir(&tree->root, "file", 64, collect, &names), -ENOTDIR);
	assert_null(names);
}

static void test_list_dir_max_entries(void **state)
{
	Tree *tree = *state;
	_cleanup_strv_ char **names = NULL;

	make_devices(tree);
	assert_int_equal(
		sysfs_list_dir(&tree->root, "devices", ELEMENTSOF(sorted_devices), collect, &names),
		0);
	expect_names(names, sorted_devices, ELEMENTSOF(sorted_devices));
	names = strv_free(names);

	/* One entry too many: an error, and no partial listing reaches the callback. */
	assert_int_equal(sysfs_list_dir(&tree->root, "devices", ELEMENTSOF(sorted_devices) - 1,
					collect, &names),
			 -E2BIG);
	assert_null(names);
	assert_int_equal(sysfs_list_dir(&tree->root, "devices", 0, collect, &names), -E2BIG);
	assert_null(names);
}

static void test_list_dir_callback_stops(void **state)
{
	Tree *tree = *state;
	_cleanup_strv_ char **names = NULL;
	static const char *const expected[] = { "a", "b", "stop" };

	make_dir(tree, "list");
	write_file(tree, "list/z", "");
	write_file(tree, "list/stop", "");
	write_file(tree, "list/b", "");
	write_file(tree, "list/a", "");
	write_file(tree, "list/y", "");

	assert_int_equal(sysfs_list_dir(&tree->root, "list", 64, collect_until_stop, &names),
			 -ECANCELED);
	expect_names(names, expected, ELEMENTSOF(expected));
}

int main(void)
{
#define TREE_TEST(f) cmocka_unit_test_setup_teardown(f, setup_tree, teardown_tree)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_init),
		cmocka_unit_test(test_path),
		TREE_TEST(test_root_with_trailing_slashes),
		TREE_TEST(test_read_text_trims),
		TREE_TEST(test_read_text_limit),
		TREE_TEST(test_read_text_nul_inside),
		TREE_TEST(test_read_text_fifo),
		TREE_TEST(test_read_text_not_a_file),
		cmocka_unit_test(test_read_text_short_reads),
		TREE_TEST(test_read_text_follows_links),
		TREE_TEST(test_read_int),
		TREE_TEST(test_read_link_name),
		TREE_TEST(test_exists),
		TREE_TEST(test_at_readers),
		TREE_TEST(test_list_dir_sorted),
		TREE_TEST(test_list_dir_empty_and_missing),
		TREE_TEST(test_list_dir_max_entries),
		TREE_TEST(test_list_dir_callback_stops),
	};
#undef TREE_TEST

	return cmocka_run_group_tests_name("sysfs", tests, NULL, NULL);
}
