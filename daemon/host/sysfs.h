/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading the host's files (sys/, proc/, dev/, lib/modules/) below one root
 * directory, so that tests run on fixture trees. Nothing else in the daemon
 * names /sys. Every read is bounded, never blocks (a FIFO cannot hang us) and
 * turns a damaged file into an error code, never a crash.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a sysfs attribute holds at most, and returns in a single read. */
#define SYSFS_PAGE_SIZE 4096

typedef struct SysfsRoot {
	char *path; /* "/" or a fixture directory, without a trailing slash ("" for "/") */
} SysfsRoot;

int sysfs_root_init(SysfsRoot *root, const char *path);
void sysfs_root_done(SysfsRoot *root);

/* ROOT/relative into buf; -ENAMETOOLONG when it does not fit. */
int sysfs_path(const SysfsRoot *root, const char *relative, char *buf, size_t size);

/*
 * Reads ROOT/relative (at most max bytes, else -EFBIG), strips trailing
 * whitespace. Returns 0 and a malloc'ed string, or a negative errno: -ENOENT,
 * -ELOOP (symlink loop), -EISDIR, -EAGAIN (a FIFO with no writer), ...
 */
int sysfs_read_text(const SysfsRoot *root, const char *relative, size_t max, char **ret);

/* Reads an integer attribute ("42", "0x8086", "-1"). -EINVAL when it is not one. */
int sysfs_read_int(const SysfsRoot *root, const char *relative, int64_t *ret);

/* The last component of the symlink ROOT/relative ("vfio-pci" for .../driver). */
int sysfs_read_link_name(const SysfsRoot *root, const char *relative, char **ret);

/* True when ROOT/relative exists (following symlinks). */
bool sysfs_exists(const SysfsRoot *root, const char *relative);

/*
 * Opens directory ROOT/relative for the *_at readers below (an O_PATH fd):
 * its path is resolved once, and each attribute after that is one short
 * lookup. Reading a device's attributes this way takes half the time.
 */
int sysfs_open_dir(const SysfsRoot *root, const char *relative);

/* The readers above, for a name inside a directory opened with sysfs_open_dir(). */
int sysfs_read_text_at(int dir, const char *name, size_t max, char **ret);
int sysfs_read_int_at(int dir, const char *name, int64_t *ret);
int sysfs_read_link_name_at(int dir, const char *name, char **ret);
bool sysfs_exists_at(int dir, const char *name);

/*
 * Calls `callback` for each entry of directory ROOT/relative, "." and ".."
 * excepted, in sorted order. Stops at a negative return of the callback and
 * returns it. At most max_entries entries are read (-E2BIG beyond).
 */
int sysfs_list_dir(const SysfsRoot *root, const char *relative, size_t max_entries,
		   int (*callback)(const char *name, void *userdata), void *userdata);
