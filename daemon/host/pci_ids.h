/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Names of PCI vendors and devices, found in the text of pci.ids for the few
 * IDs a host has: one pass over the text notes where each vendor's line is,
 * then a vendor is a binary search and a device a walk of its vendor's lines,
 * about a millisecond in all. libpci loads the whole database into a hash
 * table for the same answer (7 ms and 2 MiB, with thousands of allocations
 * beside the event loop's), so it is left the case it does best: a
 * compressed pci.ids.gz, which only it reads.
 *
 * The format: a vendor line is four lower-case hex digits, two spaces and the
 * name; its devices follow, one tab, four hex digits, two spaces, the name;
 * subsystems (two tabs) and comments (#) are skipped; the next line with no
 * tab ends the vendor.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct PciIdsVendor {
	uint16_t id;
	size_t offset; /* of its line in the text */
} PciIdsVendor;

/* pci.ids read whole (plain text), and where its vendors are. */
typedef struct PciIds {
	char *text;
	size_t size;
	PciIdsVendor *vendors; /* sorted by id */
	size_t n_vendors;
} PciIds;

/*
 * Reads `path`, or for libpci's "pci.ids.gz" the plain pci.ids beside it
 * (what libpci itself falls back to), and indexes it: 0, -ENOENT, -EFBIG past
 * 16 MiB, or another negative errno.
 */
int pci_ids_read(const char *path, PciIds *ret);

/* Takes `text` (malloc'd, `size` bytes, NUL-terminated) and indexes it. 0 or -ENOMEM. */
int pci_ids_from_text(char *text, size_t size, PciIds *ret);
void pci_ids_done(PciIds *ids);

/*
 * The vendor's name (`device` < 0) or the device's, a copy, or NULL when
 * pci.ids has none (or no memory: the name is only shown).
 */
char *pci_ids_name(const PciIds *ids, uint16_t vendor, int device);
