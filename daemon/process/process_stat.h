/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the kernel says of a process in /proc/PID/stat that the daemon needs:
 * its start time, which tells a process from a later one that got its pid
 * (re-adopting QEMU after a restart; polkit's unix-process subject).
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/*
 * The start time of process `pid` (field 22 of /proc/PID/stat, in clock ticks
 * since boot). -ESRCH when the process is gone.
 */
int process_start_time(pid_t pid, uint64_t *ret);

/* The start time (field 22) in the text of a /proc/PID/stat. -EBADMSG when it has none. */
int process_stat_start_time(const char *stat, uint64_t *ret);
