/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host/device_users.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "macro.h"

#define MAX_NODES 64
#define MAX_CHILDREN 256
#define MAX_PROCESSES (1 << 22) /* pid_max's ceiling */
#define MAX_FDS (1 << 16)

typedef struct Node {
	char path[64];
	size_t device; /* index into the caller's devices */
} Node;

typedef struct Search {
	const SysfsRoot *root;
	const PciAddress *devices;
	size_t device;
	char directory[256]; /* the sysfs directory being listed */
	Node nodes[MAX_NODES];
	size_t n_nodes;
	int depth;
	/* the process being looked at */
	const char *pid;
	DeviceUser *found;
	bool any;
} Search;

/* DEVNAME=dri/card1 in DIR/uevent → a node "/dev/dri/card1". */
static void add_node(Search *s, const char *directory)
{
	char relative[512];
	_cleanup_free_ char *uevent = NULL;

	if (s->n_nodes >= MAX_NODES ||
	    snprintf(relative, sizeof(relative), "%s/uevent", directory) >= (int)sizeof(relative) ||
	    sysfs_read_text(s->root, relative, SYSFS_PAGE_SIZE, &uevent) < 0)
		return;
	for (char *line = uevent, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strncmp(line, "DEVNAME=", 8) == 0 && line[8]) {
			Node *node = &s->nodes[s->n_nodes];
			if (snprintf(node->path, sizeof(node->path), "/dev/%s", line + 8) <
			    (int)sizeof(node->path)) {
				node->device = s->device;
				s->n_nodes++;
			}
			return;
		}
	}
}

/* Each child directory of drm/ or sound/, and for sound their children too. */
static int on_child(const char *name, void *userdata)
{
	Search *s = userdata;
	char saved[sizeof(s->directory)];
	size_t length = strlen(s->directory);

	if (length + 1 + strlen(name) >= sizeof(s->directory))
		return 0;
	memcpy(saved, s->directory, length + 1);
	snprintf(s->directory + length, sizeof(s->directory) - length, "/%s", name);
	add_node(s, s->directory);
	if (s->depth == 0) {
		s->depth++;
		(void)sysfs_list_dir(s->root, s->directory, MAX_CHILDREN, on_child, s);
		s->depth--;
	}
	memcpy(s->directory, saved, length + 1);
	return 0;
}

static void find_nodes(Search *s, size_t n)
{
	static const char *const classes[] = { "drm", "sound" };
	char address[PCI_ADDRESS_TEXT_SIZE];

	for (s->device = 0; s->device < n; s->device++)
		for (size_t c = 0; c < ELEMENTSOF(classes); c++) {
			snprintf(s->directory, sizeof(s->directory), "sys/bus/pci/devices/%s/%s",
				 pci_address_format(&s->devices[s->device], address), classes[c]);
			s->depth = 0;
			(void)sysfs_list_dir(s->root, s->directory, MAX_CHILDREN, on_child, s);
		}
}

static int on_fd(const char *name, void *userdata)
{
	Search *s = userdata;
	char relative[128], path[4096], target[128];

	snprintf(relative, sizeof(relative), "proc/%s/fd/%s", s->pid, name);
	if (sysfs_path(s->root, relative, path, sizeof(path)) < 0)
		return 0;
	ssize_t length = readlink(path, target, sizeof(target) - 1);
	if (length <= 0)
		return 0;
	target[length] = '\0';
	for (size_t i = 0; i < s->n_nodes; i++)
		if (strcmp(target, s->nodes[i].path) == 0) {
			s->found->device = s->devices[s->nodes[i].device];
			_Static_assert(sizeof(s->found->node) == sizeof(s->nodes[i].path), "");
			memcpy(s->found->node, s->nodes[i].path, sizeof(s->found->node));
			s->any = true;
			return -EEXIST; /* stop: one holder is enough to refuse */
		}
	return 0;
}

static int on_process(const char *name, void *userdata)
{
	Search *s = userdata;
	char relative[64];
	char *end;
	long pid = strtol(name, &end, 10);

	if (*end || pid <= 0 || pid == getpid())
		return 0;
	s->pid = name;
	snprintf(relative, sizeof(relative), "proc/%s/fd", name);
	/* A process that ends meanwhile, or one we may not look into, holds nothing we know of. */
	(void)sysfs_list_dir(s->root, relative, MAX_FDS, on_fd, s);
	if (!s->any)
		return 0;

	_cleanup_free_ char *command = NULL;
	snprintf(relative, sizeof(relative), "proc/%s/comm", name);
	s->found->pid = (pid_t)pid;
	snprintf(s->found->command, sizeof(s->found->command), "%s",
		 sysfs_read_text(s->root, relative, SYSFS_PAGE_SIZE, &command) >= 0 ? command
										    : "?");
	s->found->command[strcspn(s->found->command, "\n")] = '\0';
	return -EEXIST;
}

int device_users_find(const SysfsRoot *root, const PciAddress *devices, size_t n, DeviceUser *ret)
{
	_cleanup_free_ Search *s = calloc(1, sizeof(Search));
	if (!s)
		return -ENOMEM;
	*s = (Search){ .root = root, .devices = devices, .found = ret };
	find_nodes(s, n);
	if (s->n_nodes == 0)
		return 0;
	int r = sysfs_list_dir(root, "proc", MAX_PROCESSES, on_process, s);
	if (s->any)
		return 1;
	return r < 0 ? r : 0;
}
