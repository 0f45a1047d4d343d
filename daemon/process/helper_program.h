/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's own helper programs (libvfio-audio-relay): next to the
 * running libvfiod when it runs from a build tree, else in the installed
 * helper directory (LIBEXECDIR/libvfio). Opened as O_PATH, to be exec'd
 * through the descriptor (SpawnRequest.exec_fd) by a user who may not reach
 * the path.
 */
#pragma once

/* The program NAME opened O_PATH, with its path in *ret_path; -ENOENT when there is none. */
int helper_program_open(const char *name, char **ret_path);
