/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Finding the QEMU binary and its version, never on a caller's path: the
 * binary is looked up in $PATH (or taken as an absolute path) and run with
 * --version in the background as soon as the daemon starts (and again after a
 * reload); the answer is cached for that file, known by its device, inode,
 * size, mtime and ctime, and kept on disk (the state directory) for the next
 * daemon (a socket-activated start, a restart, the first start after a
 * reboot), which takes it without running anything while the file is the
 * same. A caller asking while that first run is under way waits for
 * its end (the rest of one `qemu --version`, about 20 ms); a caller that finds
 * the file replaced since starts the new run and waits for it. Nothing here
 * blocks the loop: the run is a child process watched through its pidfd.
 */
#pragma once

#include <sys/stat.h>
#include <systemd/sd-event.h>

typedef struct QemuProbe QemuProbe;

typedef struct QemuInfo {
	const char *binary; /* absolute path, NULL when not found */
	const char *version; /* "7.2.18", NULL when unknown */
	const char *problem; /* why one of them is NULL */
} QemuInfo;

typedef void (*QemuProbeCallback)(const QemuInfo *info, void *userdata);

/* cache_dir: where the answer is kept for the next daemon (root's; NULL: not kept). */
int qemu_probe_new(sd_event *event, const char *binary, const char *cache_dir, QemuProbe **ret);
/* Pending callbacks are called with a problem before it is freed. */
QemuProbe *qemu_probe_free(QemuProbe *probe);

/* Looks for `binary` (a name in $PATH or an absolute path) from now on. */
int qemu_probe_set_binary(QemuProbe *probe, const char *binary);

/* Starts finding the binary and its version in the background, unless known or under way. */
void qemu_probe_start(QemuProbe *probe);

/*
 * Calls `callback` with what is known: at once when the cache is still valid,
 * otherwise once `--version` has answered (or failed, or timed out).
 */
int qemu_probe_get(QemuProbe *probe, QemuProbeCallback callback, void *userdata);

/* Pure helpers, exposed for tests. */

/* The version from `qemu --version` output ("QEMU emulator version 7.2.18 (...)"), or NULL. */
char *qemu_version_from_output(const char *output);

/*
 * `name` (an absolute path, or looked up in the colon-separated `search_path`)
 * opened O_PATH when it is a program (a regular file with an execute bit, by
 * fstat of the descriptor): the descriptor, its path in *ret_path, its stat in
 * *ret_st (may be NULL); -ENOENT when there is none, -ENOMEM.
 */
int qemu_open_in_path(const char *name, const char *search_path, char **ret_path,
		      struct stat *ret_st);

/* The same, the path only (NULL: none). */
char *qemu_find_in_path(const char *name, const char *search_path);
