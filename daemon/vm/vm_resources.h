/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a VM's QEMU needs from the host before it starts, and giving it back:
 * the user QEMU runs as, its runtime directory (sockets), its state directory
 * (its own copy of the UEFI variables, its log when there is no journal), the
 * OVMF firmware, the files of its definition opened for it, and the /dev/vfio
 * group nodes of its devices, lent to QEMU's user for the VM's life.
 *
 * Both directories are root's; QEMU's user writes only in the one
 * subdirectory of each delegated to it (RUNTIME/vms/NAME/qemu for its VNC
 * socket, STATE/vms/NAME/tpm for swtpm), where the daemon never follows or
 * changes anything. Disks, ISOs, ROMs and the UEFI variables never change
 * owner: QEMU inherits descriptors the daemon opened (safe_open.h). What is
 * lent (device nodes) is changed and given back through a descriptor. Each
 * function does one piece of I/O and says what failed in a sentence.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "host/host.h"
#include "host/sysfs.h"
#include "vm/vm_runtime.h"
#include "vm_definition.h"

typedef struct QemuUser {
	uid_t uid;
	gid_t gid;
	bool is_root;
} QemuUser;

/* Looks the user up. -ENOENT with *ret_message when it does not exist. */
int qemu_user_lookup(const char *name, QemuUser *ret, char **ret_message);

/*
 * Makes DIR (its parent too, made traversable but not listable: 0711) and
 * gives it to uid:gid with `mode` through a descriptor; a link found there
 * instead of a directory is refused, not followed.
 */
int vm_dir(const char *path, uid_t uid, gid_t gid, mode_t mode, char **ret_message);

/* Removes DIR with what is in it and in its subdirectories (one level), following no link. */
void vm_dir_remove(const char *path);

/*
 * The OVMF firmware for the definition: code and its variables template,
 * from the firmware found on the host (facts->ovmf_files, paths as seen from
 * the host root). Secure boot takes a secboot build with Microsoft's keys.
 */
int ovmf_choose(const HostFacts *facts, bool secure_boot, const char **ret_code,
		char **ret_vars_template, char **ret_message);

/*
 * The VM's UEFI variables at `path`, opened read-write for QEMU to inherit: a
 * copy of `template` made the first time, root's, 0600.
 */
int ovmf_vars_open(const char *template, const char *path, char **ret_message);

/*
 * The /dev/vfio node of a PCI device's or an mdev's IOMMU group, below the
 * host root. -ENOENT with *ret_message when the device has no group.
 */
int vfio_group_node(const SysfsRoot *root, const PciAddress *device, const char *mdev_uuid,
		    char **ret_path, char **ret_message);

/*
 * The device node at `path` (a /dev/vfio group, kvmfr) opened as O_PATH, with
 * its owner and mode now, in *ret (vm_lent_done() frees it).
 */
int device_node_open(const char *path, VmLent *ret, char **ret_message);

/* Gives the node to uid:gid with `mode`, through its descriptor. */
int vm_lent_give(const VmLent *lent, uid_t uid, gid_t gid, mode_t mode, char **ret_message);

/*
 * Gives it back as it was: through its descriptor, or, read from a record
 * after a restart, found again by safe_open() and only when it is the same
 * device.
 */
void vm_lent_return(const VmLent *lent);

/*
 * A disk or ISO of the definition opened for QEMU (read-write when
 * `writable`): safe_open(), and a regular file or a block device.
 */
int vm_file_open(const char *path, bool writable, bool *ret_block_device, char **ret_message);

/* The largest ROM taken: PCI expansion ROMs are far smaller. */
#define ROM_MAX_SIZE (64 << 20)

/*
 * A sealed in-memory copy of the ROM at `path` (safe_open()), for QEMU to
 * read as /proc/self/fd/N: QEMU opens a ROM by name only, and the file may be
 * one QEMU's user cannot read.
 */
int rom_copy(const char *path, char **ret_message);

/*
 * Where QEMU's stdout and stderr go: a journal stream with identifier
 * `identifier`, or, without a journal, the file `log_path` (appended).
 * *ret_is_file tells which.
 */
int qemu_output_fd(const char *identifier, const char *log_path, bool *ret_is_file);

/* The group that shares Looking Glass's memory: the owner's, else QEMU's user's. */
int looking_glass_group(const QemuUser *user, const char *owner, gid_t *ret, char **ret_message);

/*
 * Looking Glass's shared memory as a file in /dev/shm at `path`, made anew,
 * uid:gid, 0660. (The kvmfr device is lent instead, like a VFIO node.)
 */
int looking_glass_file(const char *path, uid_t uid, gid_t gid, char **ret_message);

/*
 * A listening Unix socket bound at `path` (an old one there is replaced),
 * owned by uid:gid, mode 0600, close-on-exec: for a process that inherits it
 * (QEMU's QMP, swtpm's control channel), so nothing waits for it to appear.
 * `path` must be in a directory only root can write.
 */
int unix_listen_at(const char *path, uid_t uid, gid_t gid);

/*
 * The last line of a log file written after offset `since` (at most `size` - 1
 * bytes), for an error message; "" when there is none.
 */
void log_file_last_line(const char *path, off_t since, char *buf, size_t size);
