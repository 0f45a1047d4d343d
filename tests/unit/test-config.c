/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's configuration: the defaults, the shipped file, every key, and
 * the errors people will meet, each of which must name the file, the line and
 * the key so they can be fixed without reading the source.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/config.h"
#include "build-config.h"
#include "macro.h"
#include "parse_util.h"
#include "strv.h"
#include "tmpdir.h"

/* The build's libvfiod.yaml, configured from etc/libvfio/libvfiod.yaml.in. */
#ifndef SHIPPED_CONFIG
#error "SHIPPED_CONFIG must name the configured libvfiod.yaml"
#endif

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

static void defaults(DaemonConfig *config)
{
	assert_int_equal(config_init(config), 0);
}

/* Sets `key` in *config as the command line would; the value must be good. */
static void set(DaemonConfig *config, const char *key, const char *value)
{
	_cleanup_free_ char *error = NULL;

	if (config_set(config, key, value, &error) != 0)
		fail_msg("%s=%s refused: %s", key, value, error ? error : "(no error text)");
}

static void expect_same_config(const DaemonConfig *a, const DaemonConfig *b)
{
	assert_string_equal(a->socket_path, b->socket_path);
	assert_string_equal(a->runtime_dir, b->runtime_dir);
	assert_string_equal(a->state_dir, b->state_dir);
	assert_string_equal(a->sysfs_root, b->sysfs_root);
	assert_string_equal(a->qemu_binary, b->qemu_binary);
	assert_int_equal(a->log_level, b->log_level);
	assert_int_equal(a->max_message_size, b->max_message_size);
	assert_int_equal(a->client_timeout_usec, b->client_timeout_usec);
	assert_int_equal(a->max_connections, b->max_connections);
	assert_int_equal(a->max_connections_per_user, b->max_connections_per_user);
	assert_int_equal(a->idle_timeout_usec, b->idle_timeout_usec);
	assert_int_equal(a->max_unread_output, b->max_unread_output);
}

/* Loads `text` from a file in `dir` over the defaults into *config; returns the result. */
static int load_text(const char *dir, const char *text, DaemonConfig *config, char **ret_path,
		     char **ret_error)
{
	*ret_path = tmpdir_write_text(dir, "libvfiod.yaml", text);
	defaults(config);
	return config_load_file(config, *ret_path, ret_error);
}

/* Loading `text` gives exactly the config `expected`. */
static void expect_loads_as(const char *dir, const char *text, const DaemonConfig *expected)
{
	DaemonConfig config;
	_cleanup_free_ char *path = NULL, *error = NULL;

	if (load_text(dir, text, &config, &path, &error) != 0)
		fail_msg("'%s' refused: %s", text, error ? error : "(no error text)");
	assert_null(error);
	expect_same_config(&config, expected);
	config_done(&config);
}

/*
 * Loading `text` fails with an error that starts "PATH:LINE: KEY: " (or
 * "PATH:LINE: " when key is NULL) and contains `problem`.
 */
static void expect_error(const char *dir, const char *text, unsigned line, const char *key,
			 const char *problem)
{
	DaemonConfig config;
	_cleanup_free_ char *path = NULL, *error = NULL, *prefix = NULL;
	int r = load_text(dir, text, &config, &path, &error);

	config_done(&config);
	if (key)
		assert_true(asprintf(&prefix, "%s:%u: %s: ", path, line, key) > 0);
	else
		assert_true(asprintf(&prefix, "%s:%u: ", path, line) > 0);
	if (r != -EINVAL || !error || strncmp(error, prefix, strlen(prefix)) != 0 ||
	    !strstr(error + strlen(prefix), problem))
		fail_msg("'%s': got %d, '%s'; expected -EINVAL, '%s…%s…'", text, r,
			 error ? error : "(no error)", prefix, problem);
}

static void test_defaults(void **state)
{
	DaemonConfig config;

	defaults(&config);
	assert_string_equal(config.socket_path, DEFAULT_SOCKET_PATH);
	assert_string_equal(config.runtime_dir, DEFAULT_RUNTIME_DIR);
	assert_string_equal(config.state_dir, DEFAULT_STATE_DIR);
	assert_string_equal(config.sysfs_root, "/");
	assert_string_equal(config.qemu_binary, "qemu-system-x86_64");
	assert_int_equal(config.log_level, LOG_INFO);
	assert_int_equal(config.max_message_size, 1024 * 1024);
	assert_int_equal(config.client_timeout_usec, 30 * USEC_PER_SEC);
	assert_int_equal(config.max_connections, 256);
	assert_int_equal(config.max_connections_per_user, 16);
	assert_int_equal(config.idle_timeout_usec, 60 * USEC_PER_SEC);
	assert_int_equal(config.max_unread_output, 64 << 20);
	config_done(&config);
	/* config_done() leaves nothing dangling. */
	assert_null(config.socket_path);
	assert_null(config.qemu_binary);
}

/* What is shipped in etc/ says what the daemon does without it. */
static void test_shipped_file_is_the_defaults(void **state)
{
	DaemonConfig config, expected;
	_cleanup_free_ char *error = NULL;

	if (access(SHIPPED_CONFIG, F_OK) < 0)
		fail_msg("%s: %m (the shipped configuration is missing)", SHIPPED_CONFIG);
	defaults(&expected);
	defaults(&config);
	if (config_load_file(&config, SHIPPED_CONFIG, &error) != 0)
		fail_msg("%s", error ? error : "(no error text)");
	assert_null(error);
	expect_same_config(&config, &expected);
	/* vms.dir too: the build's, where libvfiod.service lets the daemon write. */
	assert_string_equal(config.vm_dir, expected.vm_dir);
	config_done(&config);
	config_done(&expected);
}

static void test_every_key(void **state)
{
	static const char text[] = "socket: /run/test/v.sock\n"
				   "runtime-dir: /run/test\n"
				   "state-dir: /var/lib/test\n"
				   "sysfs-root: /tmp/fake-sysfs\n"
				   "qemu-binary: /opt/qemu/bin/qemu-system-x86_64\n"
				   "log-level: debug\n"
				   "limits:\n"
				   "  max-message-size: 4MiB\n"
				   "  client-timeout: 500ms\n"
				   "  max-connections: 1000\n"
				   "  max-connections-per-user: 3\n"
				   "  idle-timeout: 2min\n"
				   "  max-unread-output: 8MiB\n";
	DaemonConfig expected = {
		.socket_path = (char *)"/run/test/v.sock",
		.runtime_dir = (char *)"/run/test",
		.state_dir = (char *)"/var/lib/test",
		.sysfs_root = (char *)"/tmp/fake-sysfs",
		.qemu_binary = (char *)"/opt/qemu/bin/qemu-system-x86_64",
		.log_level = LOG_DEBUG,
		.max_message_size = 4 << 20,
		.client_timeout_usec = 500 * USEC_PER_MSEC,
		.max_connections = 1000,
		.max_connections_per_user = 3,
		.idle_timeout_usec = 120 * USEC_PER_SEC,
		.max_unread_output = 8 << 20,
	};

	expect_loads_as(*state, text, &expected);
}

/* Keys not in the file keep what was there before. */
static void test_only_given_keys_change(void **state)
{
	DaemonConfig expected;

	defaults(&expected);
	expected.max_connections = 2;
	expected.log_level = LOG_WARNING;
	expect_loads_as(*state, "log-level: warning\nlimits:\n  max-connections: 2\n", &expected);
	config_done(&expected);
}

static void test_limits_at_their_bounds(void **state)
{
	DaemonConfig expected;

	defaults(&expected);
	expected.max_message_size = 4096;
	expected.client_timeout_usec = USEC_PER_MSEC;
	expected.max_connections = 1;
	expected.max_connections_per_user = 1;
	expected.idle_timeout_usec = 10 * USEC_PER_MSEC;
	expected.max_unread_output = 4 << 20;
	expect_loads_as(*state,
			"limits:\n  max-message-size: 4K\n  client-timeout: 1ms\n"
			"  max-connections: 1\n  max-connections-per-user: 1\n"
			"  idle-timeout: 10ms\n  max-unread-output: 4MiB\n",
			&expected);
	expected.max_message_size = 256 << 20;
	expected.client_timeout_usec = 3600 * USEC_PER_SEC;
	expected.max_connections = 65536;
	expected.max_connections_per_user = 65536;
	expected.idle_timeout_usec = 24 * 3600 * USEC_PER_SEC;
	expected.max_unread_output = UINT64_C(64) << 30;
	expect_loads_as(*state,
			"limits:\n  max-message-size: 256MiB\n  client-timeout: 1h\n"
			"  max-connections: 65536\n  max-connections-per-user: 65536\n"
			"  idle-timeout: 24h\n  max-unread-output: 64GiB\n",
			&expected);
	config_done(&expected);
}

static void test_log_levels(void **state)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {
		{ "error", LOG_ERR }, { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
		{ "info", LOG_INFO }, { "debug", LOG_DEBUG },
	};
	DaemonConfig expected;

	defaults(&expected);
	for (size_t i = 0; i < ELEMENTSOF(levels); i++) {
		char text[64];

		snprintf(text, sizeof(text), "log-level: %s\n", levels[i].name);
		expected.log_level = levels[i].level;
		expect_loads_as(*state, text, &expected);
	}
	config_done(&expected);
}

static void test_qemu_binary_by_name(void **state)
{
	DaemonConfig expected;

	defaults(&expected);
	set(&expected, "qemu-binary", "qemu-kvm");
	expect_loads_as(*state, "qemu-binary: qemu-kvm\n", &expected);
	config_done(&expected);
}

static void test_empty_file_is_defaults(void **state)
{
	static const char *const texts[] = { "", "\n", "# nothing set\n", "---\n" };
	DaemonConfig expected;

	defaults(&expected);
	for (size_t i = 0; i < ELEMENTSOF(texts); i++)
		expect_loads_as(*state, texts[i], &expected);
	config_done(&expected);
}

static void test_missing_file_is_defaults(void **state)
{
	_cleanup_free_ char *path = tmpdir_path(*state, "absent.yaml");
	_cleanup_free_ char *error = NULL;
	DaemonConfig config, expected;

	defaults(&expected);
	defaults(&config);
	assert_int_equal(config_load_file(&config, path, &error), 0);
	assert_null(error);
	expect_same_config(&config, &expected);
	config_done(&config);
	config_done(&expected);
}

static void test_unknown_keys(void **state)
{
	expect_error(*state, "socket: /run/x.sock\nbogus: 1\n", 2, "bogus", "unknown key");
	expect_error(*state, "limits:\n  max-message-size: 1MiB\n  bogus: 3\n", 3, "limits.bogus",
		     "unknown key");
	expect_error(*state, "limits:\n  limits:\n    max-connections: 3\n", 2, "limits.limits",
		     "unknown key");
	expect_error(*state, "Socket: /run/x.sock\n", 1, "Socket", "unknown key");
}

/*
 * "limits.max-connections" is how config_set() names the key, not how the file
 * writes it: taken at the top level, it would dodge the check for keys given twice.
 */
static void test_dotted_keys(void **state)
{
	expect_error(*state, "log-level: info\nlimits.max-connections: 5\n", 2, NULL, "");
	expect_error(*state, "limits:\n  max-connections: 5\nlimits.max-connections: 6\n", 3, NULL,
		     "");
}

static void test_bad_sizes(void **state)
{
	expect_error(*state, "limits:\n  max-message-size: lots\n", 2, "limits.max-message-size",
		     "'lots' is not a size");
	expect_error(*state, "limits:\n  max-message-size: 1.5MiB\n", 2, "limits.max-message-size",
		     "is not a size");
	expect_error(*state, "limits:\n  max-message-size: 1K\n", 2, "limits.max-message-size",
		     "out of range");
	expect_error(*state, "limits:\n  max-message-size: 1G\n", 2, "limits.max-message-size",
		     "out of range");
	expect_error(*state, "limits:\n  max-message-size: 99999999999999999999\n", 2,
		     "limits.max-message-size", "out of range");
}

static void test_bad_durations(void **state)
{
	expect_error(*state, "limits:\n  client-timeout: 30 seconds\n", 2, "limits.client-timeout",
		     "is not a duration");
	expect_error(*state, "limits:\n  client-timeout: 0\n", 2, "limits.client-timeout",
		     "out of range");
	expect_error(*state, "limits:\n  client-timeout: 2h\n", 2, "limits.client-timeout",
		     "out of range");
}

static void test_bad_connection_counts(void **state)
{
	expect_error(*state, "limits:\n  max-connections: 0\n", 2, "limits.max-connections",
		     "out of range (1 to 65536)");
	expect_error(*state, "limits:\n  max-connections: 100000\n", 2, "limits.max-connections",
		     "out of range (1 to 65536)");
	expect_error(*state, "limits:\n  max-connections: -1\n", 2, "limits.max-connections",
		     "is not a whole number");
	expect_error(*state, "limits:\n  max-connections: many\n", 2, "limits.max-connections",
		     "is not a whole number");
}

static void test_bad_fairness_limits(void **state)
{
	expect_error(*state, "limits:\n  max-connections-per-user: 0\n", 2,
		     "limits.max-connections-per-user", "out of range (1 to 65536)");
	expect_error(*state, "limits:\n  max-connections-per-user: lots\n", 2,
		     "limits.max-connections-per-user", "is not a whole number");
	expect_error(*state, "limits:\n  idle-timeout: 5ms\n", 2, "limits.idle-timeout",
		     "out of range");
	expect_error(*state, "limits:\n  idle-timeout: 25h\n", 2, "limits.idle-timeout",
		     "out of range");
	expect_error(*state, "limits:\n  idle-timeout: soon\n", 2, "limits.idle-timeout", "");
	expect_error(*state, "limits:\n  max-unread-output: 1MiB\n", 2, "limits.max-unread-output",
		     "out of range");
	expect_error(*state, "limits:\n  max-unread-output: 65GiB\n", 2, "limits.max-unread-output",
		     "out of range");
	expect_error(*state, "limits:\n  max-unread-output: big\n", 2, "limits.max-unread-output",
		     "");
}

static void test_bad_paths(void **state)
{
	char text[256];

	expect_error(*state, "state-dir: var/lib/libvfio\n", 1, "state-dir",
		     "'var/lib/libvfio' is not an absolute path");
	expect_error(*state, "runtime-dir: run\n", 1, "runtime-dir", "not an absolute path");
	expect_error(*state, "sysfs-root: ./sys\n", 1, "sysfs-root", "not an absolute path");
	expect_error(*state, "log-level: info\nsocket: libvfiod.sock\n", 2, "socket",
		     "not an absolute path");
	expect_error(*state, "qemu-binary: bin/qemu\n", 1, "qemu-binary",
		     "program name looked up in PATH or an absolute path");

	/* One byte more than sun_path can hold with its NUL. */
	snprintf(text, sizeof(text), "socket: /%0107d\n", 0);
	expect_error(*state, text, 1, "socket", "longer than");
}

static void test_socket_path_length(void **state)
{
	char path[108], text[128];
	DaemonConfig expected;

	/* sun_path holds 108 bytes with the NUL: 107 is the longest path. */
	snprintf(path, sizeof(path), "/%0106d", 0);
	assert_int_equal(strlen(path), 107);
	snprintf(text, sizeof(text), "socket: %s\n", path);
	defaults(&expected);
	set(&expected, "socket", path);
	expect_loads_as(*state, text, &expected);
	config_done(&expected);
}

static void test_bad_log_level(void **state)
{
	expect_error(*state, "log-level: verbose\n", 1, "log-level",
		     "'verbose' is not a log level");
	expect_error(*state, "log-level: 7\n", 1, "log-level", "is not a log level");
}

static void test_duplicate_keys(void **state)
{
	expect_error(*state, "log-level: info\nsocket: /a.sock\nlog-level: debug\n", 3, "log-level",
		     "given twice");
	expect_error(*state, "limits:\n  max-connections: 1\n  max-connections: 2\n", 3,
		     "limits.max-connections", "given twice");
	expect_error(*state, "limits:\n  max-connections: 1\nlimits:\n  client-timeout: 1s\n", 3,
		     "limits", "given twice");
}

static void test_wrong_shapes(void **state)
{
	expect_error(*state, "socket:\n  - /a.sock\n  - /b.sock\n", 2, "socket",
		     "needs a single value");
	expect_error(*state, "log-level: {level: info}\n", 1, "log-level", "needs a single value");
	expect_error(*state, "log-level:\n", 1, "log-level", "needs a single value");
	expect_error(*state, "limits: 5\n", 1, "limits", "expected a mapping");
	expect_error(*state, "limits: [1, 2]\n", 1, "limits", "expected a mapping");
	expect_error(*state, "- socket\n- log-level\n", 1, "top level", "expected a mapping");
	expect_error(*state, "just words\n", 1, "top level", "expected a mapping");
}

/* gpus.partitionable: a YAML list, or one text of items separated by commas or spaces. */
static void test_partitionable_gpus(void **state)
{
	static const char *const texts[] = {
		"gpus:\n  partitionable: [0000:01:00.0, 1b36:0010]\n",
		"gpus:\n  partitionable:\n    - 01:00.0\n    - 1b36:0010\n",
		"gpus:\n  partitionable: 0000:01:00.0, 1b36:0010\n",
	};
	for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
		DaemonConfig config, copy;
		_cleanup_free_ char *path = NULL, *error = NULL;
		if (load_text(*state, texts[i], &config, &path, &error) != 0)
			fail_msg("'%s': %s", texts[i], error ? error : "(no error text)");
		assert_int_equal(strv_length(config.extra_gpus), 2);
		assert_true(strv_contains(config.extra_gpus, "1b36:0010"));
		defaults(&copy); /* config_copy() replaces what it holds */
		assert_int_equal(config_copy(&copy, &config), 0);
		assert_int_equal(strv_length(copy.extra_gpus), 2);
		config_done(&copy);
		config_done(&config);
	}

	DaemonConfig config;
	_cleanup_free_ char *path = NULL, *error = NULL;
	assert_int_equal(load_text(*state, "gpus:\n  partitionable: []\n", &config, &path, &error),
			 0);
	assert_null(config.extra_gpus);
	config_done(&config);

	expect_error(*state, "gpus:\n  partitionable: [nvme]\n", 2, "gpus.partitionable",
		     "'nvme' is neither a PCI address");
	expect_error(*state, "gpus:\n  partitionable: [1b36:00100]\n", 2, "gpus.partitionable",
		     "neither a PCI address");
	expect_error(*state, "gpus:\n  partitionable: [[01:00.0]]\n", 2, "gpus.partitionable",
		     "a list of plain values");
	expect_error(*state, "gpus:\n  colour: blue\n", 2, "gpus.colour", "unknown key");
}

static void test_keys_must_be_plain(void **state)
{
	DaemonConfig config;
	_cleanup_free_ char *path = NULL, *error = NULL, *prefix = NULL;

	assert_int_equal(load_text(*state, "? [a, b]\n: 1\n", &config, &path, &error), -EINVAL);
	config_done(&config);
	assert_true(asprintf(&prefix, "%s:1: ", path) > 0);
	assert_non_null(error);
	assert_memory_equal(error, prefix, strlen(prefix));
	assert_non_null(strstr(error, "keys must be short plain names"));
}

static void test_malformed_yaml(void **state)
{
	expect_error(*state, "socket: /run/a.sock\nlimits:\n  max-connections: [1, 2\n", 4, NULL,
		     "");
	expect_error(*state, "log-level: info\n\tsocket: /a.sock\n", 2, NULL, "");
}

static void test_two_documents(void **state)
{
	expect_error(*state, "log-level: info\n---\nlog-level: debug\n", 2, NULL,
		     "only one YAML document");
}

/* Loading a file that is not a regular file fails with "PATH: problem". */
static void expect_file_refused(const char *path, const char *problem)
{
	DaemonConfig config;
	_cleanup_free_ char *error = NULL, *prefix = NULL;

	defaults(&config);
	assert_int_equal(config_load_file(&config, path, &error), -EINVAL);
	config_done(&config);
	assert_true(asprintf(&prefix, "%s: ", path) > 0);
	if (!error || strncmp(error, prefix, strlen(prefix)) != 0 || !strstr(error, problem))
		fail_msg("got '%s', expected '%s…%s…'", error ? error : "(no error)", prefix,
			 problem);
}

static void test_directory(void **state)
{
	expect_file_refused(*state, "not a regular file");
}

/* A file of `size` bytes of comments, a valid and empty configuration. */
static char *write_comments(const char *dir, size_t size)
{
	_cleanup_free_ char *text = malloc(size);

	assert_non_null(text);
	memset(text, '#', size);
	for (size_t i = 79; i < size; i += 80)
		text[i] = '\n';
	text[size - 1] = '\n';
	return tmpdir_write(dir, "big.yaml", text, size, 0644);
}

static void test_file_size_limit(void **state)
{
	_cleanup_free_ char *fits = write_comments(*state, CONFIG_MAX_FILE_SIZE);
	_cleanup_free_ char *error = NULL;
	DaemonConfig config;

	defaults(&config);
	assert_int_equal(config_load_file(&config, fits, &error), 0);
	assert_null(error);
	config_done(&config);

	_cleanup_free_ char *too_big = write_comments(*state, CONFIG_MAX_FILE_SIZE + 1);
	expect_file_refused(too_big, "larger than");
}

static void test_set(void **state)
{
	DaemonConfig config;
	char *error = (char *)"unset";

	defaults(&config);
	assert_int_equal(config_set(&config, "limits.max-message-size", "2MiB", &error), 0);
	assert_null(error);
	assert_int_equal(config.max_message_size, 2 << 20);
	set(&config, "limits.client-timeout", "2min");
	assert_int_equal(config.client_timeout_usec, 120 * USEC_PER_SEC);
	set(&config, "limits.max-connections", "17");
	assert_int_equal(config.max_connections, 17);
	set(&config, "log-level", "debug");
	assert_int_equal(config.log_level, LOG_DEBUG);
	set(&config, "socket", "/tmp/other.sock");
	assert_string_equal(config.socket_path, "/tmp/other.sock");
	set(&config, "runtime-dir", "/tmp/run");
	assert_string_equal(config.runtime_dir, "/tmp/run");
	set(&config, "state-dir", "/tmp/state");
	assert_string_equal(config.state_dir, "/tmp/state");
	set(&config, "sysfs-root", "/tmp/sys");
	assert_string_equal(config.sysfs_root, "/tmp/sys");
	set(&config, "qemu-binary", "qemu-kvm");
	assert_string_equal(config.qemu_binary, "qemu-kvm");
	config_done(&config);
}

/* config_set() fails with an error "KEY: …problem…" and leaves the value as it was. */
static void expect_set_refused(const char *key, const char *value, const char *problem)
{
	DaemonConfig config, expected;
	_cleanup_free_ char *error = NULL, *prefix = NULL;
	int r;

	defaults(&config);
	defaults(&expected);
	r = config_set(&config, key, value, &error);
	assert_true(asprintf(&prefix, "%s: ", key) > 0);
	if (r >= 0 || !error || strncmp(error, prefix, strlen(prefix)) != 0 ||
	    !strstr(error, problem))
		fail_msg("%s=%s: got %d, '%s'; expected an error '%s…%s…'", key, value, r,
			 error ? error : "(no error)", prefix, problem);
	expect_same_config(&config, &expected);
	config_done(&config);
	config_done(&expected);
}

static void test_set_refused(void **state)
{
	expect_set_refused("bogus", "1", "unknown key");
	expect_set_refused("limits", "1", "unknown key");
	expect_set_refused("max-connections", "1", "unknown key");
	expect_set_refused("limits.max-connections", "0", "out of range");
	expect_set_refused("limits.max-message-size", "huge", "is not a size");
	expect_set_refused("limits.client-timeout", "soon", "is not a duration");
	expect_set_refused("log-level", "loud", "is not a log level");
	expect_set_refused("state-dir", "relative", "not an absolute path");
}

static void test_copy(void **state)
{
	DaemonConfig source, copy;

	defaults(&source);
	defaults(&copy);
	set(&source, "socket", "/tmp/copied.sock");
	set(&source, "limits.max-connections", "3");
	set(&source, "limits.max-connections-per-user", "2");
	set(&source, "limits.idle-timeout", "5s");
	set(&source, "limits.max-unread-output", "16MiB");
	assert_int_equal(config_copy(&copy, &source), 0);
	expect_same_config(&copy, &source);
	/* Deep: the copy outlives its source. */
	assert_ptr_not_equal(copy.socket_path, source.socket_path);
	config_done(&source);
	assert_string_equal(copy.socket_path, "/tmp/copied.sock");
	assert_int_equal(copy.max_connections, 3);
	config_done(&copy);
}

int main(void)
{
#define DIR_TEST(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_shipped_file_is_the_defaults),
		DIR_TEST(test_every_key),
		DIR_TEST(test_only_given_keys_change),
		DIR_TEST(test_limits_at_their_bounds),
		DIR_TEST(test_log_levels),
		DIR_TEST(test_qemu_binary_by_name),
		DIR_TEST(test_empty_file_is_defaults),
		DIR_TEST(test_missing_file_is_defaults),
		DIR_TEST(test_unknown_keys),
		DIR_TEST(test_dotted_keys),
		DIR_TEST(test_bad_sizes),
		DIR_TEST(test_bad_durations),
		DIR_TEST(test_bad_connection_counts),
		DIR_TEST(test_bad_fairness_limits),
		DIR_TEST(test_bad_paths),
		DIR_TEST(test_socket_path_length),
		DIR_TEST(test_bad_log_level),
		DIR_TEST(test_duplicate_keys),
		DIR_TEST(test_wrong_shapes),
		DIR_TEST(test_partitionable_gpus),
		DIR_TEST(test_keys_must_be_plain),
		DIR_TEST(test_malformed_yaml),
		DIR_TEST(test_two_documents),
		DIR_TEST(test_directory),
		DIR_TEST(test_file_size_limit),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_set_refused),
		cmocka_unit_test(test_copy),
	};
#undef DIR_TEST

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
