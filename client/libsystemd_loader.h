/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libsystemd for the two commands of vfioctl that use it (run tells systemd
 * its status, a polkit agent asks logind for our session), opened the first
 * time one of them asks. Linked at start, libsystemd and the six libraries it
 * needs (libgcrypt, liblzma, libzstd, liblz4, libcap, libgpg-error) cost every
 * `vfioctl list` 0.4 ms of loading and relocating that it never used.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/*
 * sd_notifyf(0, "%s", text): tells the service manager `text` ("READY=1",
 * "STATUS=..."); nothing outside a unit (no $NOTIFY_SOCKET) or without
 * libsystemd. Returns what sd_notify returns, or -EOPNOTSUPP without libsystemd.
 */
int libsystemd_notify(const char *text);

/*
 * Whether process `pid` (0: this one) is in a login session of logind's;
 * false too when libsystemd cannot be opened.
 */
bool libsystemd_pid_in_session(pid_t pid);
