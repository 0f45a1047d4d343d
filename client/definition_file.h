/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VM definition file as vfioctl reads it: FILE, or standard input for "-",
 * at most VM_DEFINITION_MAX_FILE_SIZE bytes, checked here as libvfiod will
 * check it, so that mistakes are told with the real file name, line and
 * column ("gaming-vm.yaml:4:11: path: ...") before anything is sent.
 */
#pragma once

#include <stddef.h>

#include "vm_definition.h"

/* vfioctl's error name for a definition it refuses before asking the daemon. */
#define DEFINITION_FILE_INVALID "io.libvfio.Client.InvalidDefinition"

/*
 * Reads and checks the definition at `path` ("-": standard input, named
 * "<stdin>" in errors). Returns 0 with the definition in *ret and, unless
 * ret_text is NULL, its text (NUL-terminated, owned by the caller); or a
 * negative errno with *ret_message set to "FILE: what is wrong" (free() it;
 * NULL only when out of memory).
 */
int definition_file_load(const char *path, VmDefinition *ret, char **ret_text, char **ret_message);
