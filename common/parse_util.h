/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parsing of the small values people write in configuration: sizes ("1MiB",
 * "8G"), durations ("30s", "500ms") and unsigned integers. Pure functions:
 * they return 0 or -EINVAL / -ERANGE and never log.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define USEC_PER_MSEC UINT64_C(1000)
#define USEC_PER_SEC UINT64_C(1000000)
#define NSEC_PER_USEC UINT64_C(1000)

/* Decimal unsigned integer, no sign, no spaces, no trailing text. */
int parse_uint64(const char *text, uint64_t *ret);

/*
 * A size in bytes: a decimal number with an optional binary unit, K/M/G/T,
 * optionally followed by "iB" (KiB) or "B" (KB), all meaning powers of 1024,
 * as QEMU reads "8G". A bare number is bytes; "B" alone is bytes too.
 */
int parse_size(const char *text, uint64_t *ret);

/*
 * A duration: a decimal number followed by a unit: us, ms, s, min (or m), h.
 * A bare number is seconds. Result in microseconds.
 */
int parse_duration(const char *text, uint64_t *ret_usec);

/* "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001": 8-4-4-4-12 hexadecimal digits, either case. */
#define UUID_STRING_SIZE 37
bool uuid_is_valid(const char *text);

/* Writes a size as parse_size() reads it ("1MiB", "512B") into buf. Returns buf. */
const char *format_size(char *buf, unsigned size, uint64_t bytes);

/* Writes a duration for people ("30s", "250ms") into buf. Returns buf. */
const char *format_duration(char *buf, unsigned size, uint64_t usec);

/*
 * True for a plain name of something in sysfs, safe as one path component:
 * [A-Za-z0-9_.-], 64 at most, not starting with a dot. Driver names are, and
 * the device name of an mdev parent outside PCI as libvfio accepts it
 * ("mbochs"): no colon, so a mistyped PCI address ("zz:00.0") is not one.
 */
bool sysfs_name_is_plain(const char *name);

/*
 * A local user's name as libvfio takes one (vms.qemu-user, a VM's owner):
 * 1 to 32 of [A-Za-z0-9_.-], not starting with '-' or '.', not all digits
 * (that would read as a uid). Debian's useradd accepts these.
 */
bool user_name_is_valid(const char *name);
