/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A value as the kernel (or a damaged fixture tree) gives it: read through the
 * sysfs readers from a file (a memfd reached through /proc/self/fd), then every
 * parser of small values over it: integers, sizes, durations, UUIDs, PCI
 * addresses, ids and vendor selectors, and plain sysfs names. A parsed address,
 * size or duration is formatted back.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"
#include "host/sysfs.h"
#include "parse_util.h"
#include "pci_address.h"

static void parse_text(const char *text)
{
	char buf[64];
	uint64_t value;
	uint16_t vendor, device;
	PciAddress address;

	(void)parse_uint64(text, &value);
	if (parse_size(text, &value) == 0)
		(void)format_size(buf, sizeof(buf), value);
	if (parse_duration(text, &value) == 0)
		(void)format_duration(buf, sizeof(buf), value);
	(void)uuid_is_valid(text);
	(void)sysfs_name_is_plain(text);
	if (pci_address_parse(text, &address) == 0) {
		char formatted[PCI_ADDRESS_TEXT_SIZE];
		PciAddress again;
		(void)pci_address_format(&address, formatted);
		(void)pci_address_parse(formatted, &again);
		(void)pci_address_compare(&address, &again);
		(void)pci_address_same_slot(&address, &again);
	}
	(void)pci_id_parse(text, &vendor);
	(void)pci_vendor_selector_parse(text, &vendor, &device);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int proc_fd = -1;
	char name[32], *text;
	int64_t number;

	/* The raw input, cut at its first NUL as C strings are. */
	text = fuzz_strndup(data, size);
	if (!text)
		return 0;
	parse_text(text);
	free(text);

	int fd = fuzz_memfd_set(data, size);
	if (fd < 0)
		return 0;
	if (proc_fd < 0)
		proc_fd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (proc_fd < 0)
		return 0;
	snprintf(name, sizeof(name), "%d", fd);
	(void)sysfs_read_int_at(proc_fd, name, &number);
	if (sysfs_read_text_at(proc_fd, name, SYSFS_PAGE_SIZE, &text) == 0) {
		parse_text(text);
		free(text);
	}
	return 0;
}
