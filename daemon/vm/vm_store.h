/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VM definitions directory (/etc/libvfio/vms): one NAME.yaml per VM, the
 * file name matching the `name:` inside. Define writes a file atomically
 * (temp file, fsync, rename), giving a definition without a UUID a stable one
 * written into the stored text; Undefine removes it. No logging: callers map
 * the returns to replies.
 */
#pragma once

#include <stddef.h>
#include <sys/stat.h>

#include "vm_definition.h"

/*
 * Reads DIR/NAME.yaml, root's own regular file (never through a link).
 * Returns 0, -ENOENT (no such VM), or -EINVAL with *ret_message saying what is
 * wrong (a bad definition, one whose name is not its file's, a link, another
 * user's or a world-writable file).
 */
int vm_store_load(const char *directory, const char *name, VmDefinition *ret, char **ret_message);
/*
 * The same, in the directory open as `directory_fd` (-1: opened here), for
 * many files in a row; `directory` names it in messages. `ret_stat` (may be
 * NULL) gets the fstat() of the file that was opened, whatever the outcome;
 * all zero when none was (no such file, a link).
 */
int vm_store_load_at(int directory_fd, const char *directory, const char *name, VmDefinition *ret,
		     struct stat *ret_stat, char **ret_message);

/*
 * The text of DIR/NAME.yaml as stored (at most VM_DEFINITION_MAX_FILE_SIZE
 * bytes), opened as vm_store_load() opens it, whether or not it is a valid
 * definition: what `vfioctl show` prints and `edit` starts from. Returns 0
 * with the text (NUL-terminated, free() it) and its size, -ENOENT, -EINVAL
 * with *ret_message (a link, another user's file, too large), or another
 * negative errno.
 */
int vm_store_read(const char *directory, const char *name, char **ret_text, size_t *ret_size,
		  char **ret_message);

/* The names of the definitions in DIR (files NAME.yaml with a valid NAME), sorted. */
int vm_store_list(const char *directory, char ***ret_names);

/*
 * What Define decides before it writes, without writing (quick: no fsync):
 * parses `text`, reads DIR/NAME.yaml for the uuid check and the uuid to keep,
 * and gives the text to store (with the uuid appended when it had none, a
 * NUL-terminated copy to free()) and the definition it holds. Returns as
 * vm_store_define() does. The daemon runs this on its loop and
 * vm_store_write() on a worker thread, one definition write at a time.
 */
int vm_store_define_prepare(const char *directory, const char *text, size_t size, VmDefinition *ret,
			    char **ret_text, size_t *ret_size, char **ret_message);

/*
 * Writes `text` as DIR/NAME.yaml atomically and durably (temp file, fsync,
 * rename, fsync of the directory; DIR created when missing). Blocks on the
 * disk: not for the event loop. 0 or a negative errno.
 */
int vm_store_write(const char *directory, const char *name, const char *text, size_t size);

/*
 * Stores `text` as DIR/NAME.yaml: vm_store_define_prepare() then
 * vm_store_write(). Without a uuid, the VM keeps the one of the
 * definition it replaces, or gets a new one; either is appended to the text.
 * Returns 0 with the stored definition in *ret, -EINVAL (invalid definition)
 * or -EEXIST (a VM of that name with another uuid) with *ret_message, or
 * another negative errno from the file system.
 */
int vm_store_define(const char *directory, const char *text, size_t size, VmDefinition *ret,
		    char **ret_message);

/*
 * Removes DIR/NAME.yaml durably (fsync of the directory: blocks on the disk,
 * not for the event loop). -ENOENT when there is none.
 */
int vm_store_undefine(const char *directory, const char *name);
