/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The files a definition names, opened for QEMU to inherit: disks and ISOs
 * (safe_open(), a regular file or a block device) and a sealed copy of a GPU
 * ROM. None changes owner: QEMU gets the daemon's descriptor.
 */
#pragma once

#include <stdbool.h>

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
