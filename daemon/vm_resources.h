/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a VM's QEMU needs from the host before it starts, and giving it back:
 * the user QEMU runs as, its runtime directory (QMP and VNC sockets), its
 * state directory (its own copy of the UEFI variables, its log when there is
 * no journal), the OVMF firmware, and the /dev/vfio group nodes of its
 * devices, lent to QEMU's user for the VM's life. Each function does one piece
 * of I/O and says what failed in a sentence.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "host.h"
#include "sysfs.h"
#include "vm_definition.h"
#include "vm_runtime.h"

typedef struct QemuUser {
	uid_t uid;
	gid_t gid;
	bool is_root;
} QemuUser;

/* Looks the user up. -ENOENT with *ret_message when it does not exist. */
int qemu_user_lookup(const char *name, QemuUser *ret, char **ret_message);

/*
 * Makes DIR owned by the QEMU user, mode 0700, and its parent traversable
 * (0711): QEMU may create its sockets and files in it, nobody else may look.
 */
int vm_private_dir(const char *path, const QemuUser *user, char **ret_message);

/* Removes what QEMU left in a runtime directory, then the directory. */
void vm_private_dir_remove(const char *path);

/*
 * The OVMF firmware for the definition: code and its variables template,
 * from the firmware found on the host (facts->ovmf_files, paths as seen from
 * the host root). Secure boot takes a secboot build with Microsoft's keys.
 */
int ovmf_choose(const HostFacts *facts, bool secure_boot, const char **ret_code,
		char **ret_vars_template, char **ret_message);

/* Copies `template` to `path` unless it exists, owned by the QEMU user, 0600. */
int ovmf_vars_copy(const char *template, const char *path, const QemuUser *user,
		   char **ret_message);

/*
 * The /dev/vfio node of a PCI device's or an mdev's IOMMU group, below the
 * host root. -ENOENT with *ret_message when the device has no group.
 */
int vfio_group_node(const SysfsRoot *root, const PciAddress *device, const char *mdev_uuid,
		    char **ret_path, char **ret_message);

/*
 * What lending `path` (a disk, an ISO, a ROM, a /dev/vfio node) to QEMU's user
 * would change: its owner and mode now, in *ret (free ret->path). *ret_already
 * is true when QEMU's user owns it already: nothing to lend or give back.
 * Fails with a sentence when it does not exist or is neither file nor device.
 */
int path_inspect(const char *path, const QemuUser *user, VmLent *ret, bool *ret_already,
		 char **ret_message);

/* Gives it to QEMU's user, who gets `needed` (S_IRUSR, S_IRUSR | S_IWUSR). */
int path_lend(const VmLent *lent, const QemuUser *user, mode_t needed, char **ret_message);

/* Gives it back as it was. */
void path_return(const VmLent *lent);

/*
 * Where QEMU's stdout and stderr go: a journal stream with identifier
 * `identifier`, or, without a journal, the file `log_path` (appended).
 * *ret_is_file tells which.
 */
int qemu_output_fd(const char *identifier, const char *log_path, const QemuUser *user,
		   bool *ret_is_file);

/*
 * The Looking Glass shared memory at `path`: the kvmfr device, or a file in
 * /dev/shm made anew. QEMU's user owns it; the VM's owner (when there is one)
 * reads it through its group, for the Looking Glass client.
 */
int looking_glass_prepare(const char *path, bool kvmfr, const QemuUser *user, const char *owner,
			  char **ret_message);

/*
 * A listening Unix socket bound at `path` (an old one there is replaced),
 * owned by uid:gid, mode 0600, close-on-exec: for a process that inherits it
 * (QEMU's QMP, swtpm's control channel), so nothing waits for it to appear.
 */
int unix_listen_at(const char *path, uid_t uid, gid_t gid);

/*
 * The last line of a log file written after offset `since` (at most `size` - 1
 * bytes), for an error message; "" when there is none.
 */
void log_file_last_line(const char *path, off_t since, char *buf, size_t size);
