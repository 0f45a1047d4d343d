/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's settings: defaults, /etc/libvfio/libvfiod.yaml, and the
 * command line on top. Every key has a default and a missing file is fine; an
 * unknown key or a bad value is an error naming the file, line and key.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The configuration file itself may not be larger than this. */
#define CONFIG_MAX_FILE_SIZE (1024 * 1024)

typedef struct DaemonConfig {
	char *socket_path;
	char *runtime_dir;
	char *state_dir;
	char *sysfs_root;
	char *qemu_binary; /* a name looked up in $PATH, or an absolute path */
	int log_level; /* LOG_ERR … LOG_DEBUG */
	/* limits: what one client may make the daemon hold */
	uint64_t max_message_size; /* bytes */
	uint64_t client_timeout_usec; /* silence allowed in the middle of a message */
	uint64_t max_connections; /* of all non-root users together; root has its own cap */
	uint64_t max_connections_per_user; /* of one non-root uid */
	uint64_t idle_timeout_usec; /* a non-root connection with nothing going on is closed */
	uint64_t max_unread_output; /* bytes of replies waiting for all clients together */
	uint64_t sysfs_write_timeout_usec; /* a sysfs write (unbind, probe, sriov_numvfs) longer is
					      stuck */
	bool keep_vfs_on_vfio; /* a released VF stays on vfio-pci, its VFs enabled, for reuse */
	/* gpus.partitionable: PCI functions treated as GPUs whatever their class (strv) */
	char **extra_gpus;
	/* VMs */
	char *vm_dir; /* the definitions, NAME.yaml */
	char *qemu_user; /* QEMU runs as this user; "root" only when written explicitly */
	char *accel; /* "auto" (KVM when /dev/kvm opens, else TCG), "kvm" or "tcg" */
	uint64_t stop_timeout_usec; /* how long Stop waits for the guest to power down */
	uint64_t start_timeout_usec; /* from QEMU's exec to the guest running */
	/* access: who may do what besides root (api/authz.h) */
	char *access_group; /* its members may control every VM, and read when read is group */
	bool access_read_group; /* reads only for root, the group and a VM's owner */
	char *user_runtime_dir; /* where users' runtime directories are (/run/user): sound servers
				 */
} DaemonConfig;

/* Fills *config with the defaults. -ENOMEM. */
int config_init(DaemonConfig *config);
void config_done(DaemonConfig *config);

/* Replaces *dst with a copy of *src. -ENOMEM leaves *dst as it was. */
int config_copy(DaemonConfig *dst, const DaemonConfig *src);

/*
 * Reads the YAML file at `path` over the values already in *config. A missing
 * file leaves them untouched and returns 0. Otherwise returns 0, or a negative
 * errno with *ret_message set to "PATH:LINE: KEY: what is wrong and what is allowed".
 * On error *config may be half-updated: load into a copy.
 */
int config_load_file(DaemonConfig *config, const char *path, char **ret_message);

/*
 * Sets one key from text as the file would ("limits.max-message-size",
 * "1MiB"; a list as its items separated by commas or spaces); used for
 * command-line options. Returns 0 or -EINVAL (unknown key, bad value) with
 * *ret_message saying what is wrong.
 */
int config_set(DaemonConfig *config, const char *key, const char *value, char **ret_message);
