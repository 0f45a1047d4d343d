/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QEMU's output: a journal stream under its own identifier, or, without a
 * journal, a root-owned file in the VM's state directory; and the last line
 * of that file, for the sentence that says why a start failed.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Where QEMU's stdout and stderr go: a journal stream with identifier
 * `identifier`, or, without a journal, the file `log_path` (appended).
 * *ret_is_file tells which.
 */
int qemu_output_fd(const char *identifier, const char *log_path, bool *ret_is_file);

/*
 * The last line of a log file written after offset `since` (at most `size` - 1
 * bytes), for an error message; "" when there is none.
 */
void log_file_last_line(const char *path, off_t since, char *buf, size_t size);
