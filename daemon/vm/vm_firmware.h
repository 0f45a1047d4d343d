/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * OVMF, the UEFI firmware: which build of the host's fits the definition, and
 * the VM's own copy of its variables (root's; QEMU inherits the descriptor).
 */
#pragma once

#include <stdbool.h>

#include "host/host.h"

/*
 * The OVMF firmware for the definition: code and its variables template,
 * from the firmware found on the host (facts->ovmf_files, paths as seen from
 * the host root). Secure boot takes a secboot build with Microsoft's keys.
 */
int ovmf_choose(const HostFacts *facts, bool secure_boot, const char **ret_code,
		char **ret_vars_template, char **ret_message);

/*
 * Makes `path` a copy of `template` (root's, 0600, fsynced) unless a file is
 * there already: 1 made, 0 there already, or < 0. It waits for the disk (a
 * fsync of half a megabyte, tens of milliseconds on a busy disk): the start
 * runs it on a worker thread (base/worker.h), off the loop.
 */
int ovmf_vars_copy(const char *template, const char *path);

/*
 * The VM's UEFI variables at `path`, opened read-write for QEMU to inherit: a
 * copy of `template` made the first time (when ovmf_vars_copy() has not made
 * it before), root's, 0600.
 */
int ovmf_vars_open(const char *template, const char *path, char **ret_message);
