/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every fuzz target shares: libFuzzer's entry point (also called by
 * replay.c over the checked-in corpus) and a memfd holding the input for the
 * parsers that read a file rather than bytes.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Replaces the contents of a memfd made on first use with `data`, and returns
 * its descriptor (kept open for the process's life), or -1 when that fails.
 * Its path is /proc/self/fd/FD; the parsers open it anew, so offsets do not matter.
 */
int fuzz_memfd_set(const uint8_t *data, size_t size);

/* A NUL-terminated copy of the input, as the daemon's readers make; NULL on OOM. */
char *fuzz_strndup(const uint8_t *data, size_t size);

/*
 * The input as json_record_load_all() reads a record: NUL-terminated, parsed
 * by json-c, and kept only when it is a JSON object (free with
 * json_object_put()); NULL otherwise.
 */
struct json_object *fuzz_json_record(const uint8_t *data, size_t size);
