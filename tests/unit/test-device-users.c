/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who holds a device open: the nodes a device's drm/ and sound/ children name
 * in their uevent, matched against proc/PID/fd links, on scratch trees.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/device_users.h"
#include "macro.h"
#include "tmpdir.h"

#define GPU "0000:0b:00.0"
#define AUDIO "0000:0b:00.1"

typedef struct Tree {
	char *dir;
	SysfsRoot root;
	PciAddress devices[2];
} Tree;

static void make_dirs(const char *dir, const char *relative)
{
	char path[1024];
	int n = snprintf(path, sizeof(path), "%s/%s", dir, relative);
	assert_true(n > 0 && (size_t)n < sizeof(path));
	for (char *p = path + strlen(dir) + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
			*p = '/';
		}
	assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
}

static void write_file(const char *dir, const char *relative, const char *text)
{
	char *slash = strrchr(relative, '/');
	char parent[512];

	snprintf(parent, sizeof(parent), "%.*s", (int)(slash - relative), relative);
	make_dirs(dir, parent);
	free(tmpdir_write_text(dir, relative, text));
}

static void add_node(Tree *t, const char *device, const char *child, const char *devname)
{
	char relative[256], uevent[512];
	snprintf(relative, sizeof(relative), "sys/bus/pci/devices/%s/%s/uevent", device, child);
	snprintf(uevent, sizeof(uevent), "MAJOR=116\nMINOR=7\nDEVNAME=%s\n", devname);
	write_file(t->dir, relative, uevent);
}

static void hold(Tree *t, const char *pid, const char *fd, const char *target)
{
	char relative[128];
	snprintf(relative, sizeof(relative), "proc/%s/fd", pid);
	make_dirs(t->dir, relative);
	snprintf(relative, sizeof(relative), "proc/%s/fd/%s", pid, fd);
	char *path = tmpdir_path(t->dir, relative);
	assert_int_equal(symlink(target, path), 0);
	free(path);
}

static int setup(void **state)
{
	Tree *t = calloc(1, sizeof(Tree));
	assert_non_null(t);
	t->dir = tmpdir_new();
	assert_int_equal(sysfs_root_init(&t->root, t->dir), 0);
	assert_int_equal(pci_address_parse(GPU, &t->devices[0]), 0);
	assert_int_equal(pci_address_parse(AUDIO, &t->devices[1]), 0);
	/* A card and render node; a sound card whose nodes sit one level down. */
	add_node(t, GPU, "drm/card0", "dri/card0");
	add_node(t, GPU, "drm/renderD128", "dri/renderD128");
	write_file(t->dir, "sys/bus/pci/devices/" GPU "/drm/card0/card0-DP-1/uevent",
		   "NAME=connector\n");
	write_file(t->dir, "sys/bus/pci/devices/" AUDIO "/sound/card1/uevent", "");
	add_node(t, AUDIO, "sound/card1/controlC1", "snd/controlC1");
	add_node(t, AUDIO, "sound/card1/pcmC1D3p", "snd/pcmC1D3p");
	make_dirs(t->dir, "proc/1/fd");
	hold(t, "1", "0", "/dev/null");
	hold(t, "1", "1", "socket:[1234]");
	write_file(t->dir, "proc/cmdline", "quiet\n");
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	Tree *t = *state;
	sysfs_root_done(&t->root);
	tmpdir_remove(t->dir);
	free(t);
	return 0;
}

static void test_nobody(void **state)
{
	Tree *t = *state;
	DeviceUser user;
	assert_int_equal(device_users_find(&t->root, t->devices, 2, &user), 0);
	/* No devices, or devices without nodes: nothing to hold. */
	assert_int_equal(device_users_find(&t->root, t->devices, 0, &user), 0);
}

static void test_render_node_holder(void **state)
{
	Tree *t = *state;
	DeviceUser user;
	hold(t, "4242", "12", "/dev/dri/renderD128");
	write_file(t->dir, "proc/4242/comm", "ollama\n");

	assert_int_equal(device_users_find(&t->root, t->devices, 2, &user), 1);
	assert_int_equal(user.pid, 4242);
	assert_string_equal(user.command, "ollama");
	assert_string_equal(user.node, "/dev/dri/renderD128");
	assert_int_equal(pci_address_compare(&user.device, &t->devices[0]), 0);
}

static void test_sound_node_one_level_down(void **state)
{
	Tree *t = *state;
	DeviceUser user;
	hold(t, "900", "30", "/dev/snd/pcmC1D3p");
	write_file(t->dir, "proc/900/comm", "pipewire\n");

	assert_int_equal(device_users_find(&t->root, t->devices, 2, &user), 1);
	assert_int_equal(pci_address_compare(&user.device, &t->devices[1]), 0);
	assert_string_equal(user.node, "/dev/snd/pcmC1D3p");
	/* Only the GPU asked about: the sound server is not its user. */
	assert_int_equal(device_users_find(&t->root, t->devices, 1, &user), 0);
}

static void test_unreadable_command_and_self(void **state)
{
	Tree *t = *state;
	DeviceUser user;
	char pid[16];

	/* This process holding the card does not count: it is the daemon itself. */
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	hold(t, pid, "5", "/dev/dri/card0");
	assert_int_equal(device_users_find(&t->root, t->devices, 2, &user), 0);

	hold(t, "77", "5", "/dev/dri/card0"); /* no comm file */
	assert_int_equal(device_users_find(&t->root, t->devices, 2, &user), 1);
	assert_int_equal(user.pid, 77);
	assert_string_equal(user.command, "?");
}

static void test_hostile_names(void **state)
{
	Tree *t = *state;
	DeviceUser user;
	char devname[200];

	/* A node name too long for a path is ignored, not truncated into a match. */
	memset(devname, 'x', sizeof(devname) - 1);
	devname[sizeof(devname) - 1] = '\0';
	add_node(t, GPU, "drm/card9", devname);
	/* What a truncation to the node's 64 bytes would make of it. */
	char truncated[64] = "/dev/";
	memset(truncated + 5, 'x', sizeof(truncated) - 6);
	hold(t, "55", "1", truncated);
	/* Entries of proc that are not processes, and a process without fd/. */
	make_dirs(t->dir, "proc/self-not-a-pid/fd");
	make_dirs(t->dir, "proc/88");
	assert_int_equal(device_users_find(&t->root, t->devices, 2, &user), 0);
}

static void test_no_proc(void **state)
{
	Tree *t = *state;
	DeviceUser user;
	char *proc = tmpdir_path(t->dir, "proc");
	char *moved = tmpdir_path(t->dir, "proc-gone");

	assert_int_equal(rename(proc, moved), 0);
	assert_int_equal(device_users_find(&t->root, t->devices, 2, &user), -ENOENT);
	free(proc);
	free(moved);
}

int main(void)
{
#define TREE_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		TREE_TEST(test_nobody),
		TREE_TEST(test_render_node_holder),
		TREE_TEST(test_sound_node_one_level_down),
		TREE_TEST(test_unreadable_command_and_self),
		TREE_TEST(test_hostile_names),
		TREE_TEST(test_no_proc),
	};
#undef TREE_TEST
	return cmocka_run_group_tests_name("device-users", tests, NULL, NULL);
}
