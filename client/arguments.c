/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "arguments.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

int argument_pci_address(const char *text, char ret[PCI_ADDRESS_TEXT_SIZE])
{
	PciAddress address;

	if (pci_address_parse(text, &address) < 0) {
		fprintf(stderr,
			"vfioctl: '%s' is not a PCI address (DDDD:BB:DD.F, e.g. 0000:01:00.0).\n",
			text);
		return -EINVAL;
	}
	pci_address_format(&address, ret);
	return 0;
}

int argument_whole_number(const char *what, const char *text, long long max, long long *ret)
{
	char *end;

	errno = 0;
	long long value = strtoll(text, &end, 10);
	if (!text[0] || *end || errno || value < 0 || value > max) {
		fprintf(stderr, "vfioctl: %s takes a whole number from 0 to %lld, not '%s'.\n",
			what, max, text);
		return -EINVAL;
	}
	*ret = value;
	return 0;
}
