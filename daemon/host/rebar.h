/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Resizable BAR (the PCIe Resizable BAR extended capability) as sysfs shows it
 * from Linux 6.1 (Documentation/ABI/testing/sysfs-bus-pci, resourceN_resize):
 * one file per BAR the capability covers, reading "%016llx\n", the bitmap of
 * the sizes it can take (bit k: 2^(k+20) bytes, bit 0 = 1 MiB). Writing a bit
 * number resizes it, only while no driver is bound (EBUSY otherwise). Its
 * current size is its line in `resource` ("start end flags", hex).
 */
#pragma once

#include <stdint.h>

#include "host/host.h"

/* Reads the resizable BARs of `f` (its directory `dir`). Damage is a warning. 0 or -ENOMEM. */
int rebar_read(int dir, PciFunction *f);

/* The largest size `bar` can take, in bytes; 0 when none. */
uint64_t rebar_largest(const PciRebar *bar);
