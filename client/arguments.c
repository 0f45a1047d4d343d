/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "arguments.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "parse_util.h"
#include "vm_definition.h"

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

int argument_gpu(const char *text, char ret[ARGUMENT_GPU_SIZE])
{
	PciAddress address;

	if (pci_address_parse(text, &address) == 0) {
		pci_address_format(&address, ret);
		return 0;
	}
	if (!sysfs_name_is_plain(text)) {
		fprintf(stderr,
			"vfioctl: '%s' is neither a PCI address (DDDD:BB:DD.F, e.g. 0000:01:00.0) "
			"nor the name of an mdev parent (e.g. mbochs).\n",
			text);
		return -EINVAL;
	}
	snprintf(ret, ARGUMENT_GPU_SIZE, "%s", text);
	return 0;
}

int argument_whole_number(const char *what, const char *text, long long max, long long *ret)
{
	uint64_t value;

	if (parse_uint64(text, &value) < 0 || value > (uint64_t)max) {
		fprintf(stderr, "vfioctl: %s takes a whole number from 0 to %lld, not '%s'.\n",
			what, max, text);
		return -EINVAL;
	}
	*ret = (long long)value;
	return 0;
}

int argument_vm_name(const char *command, int argc, char *argv[], const char **ret)
{
	if (argc != 1) {
		fprintf(stderr,
			"vfioctl: say which VM: 'vfioctl %s NAME' ('vfioctl list' shows "
			"them).\n",
			command);
		return -EINVAL;
	}
	if (!vm_name_is_valid(argv[0])) {
		fprintf(stderr,
			"vfioctl: '%s' is not a VM name: up to %d letters, digits, '_', '.' and "
			"'-', starting with a letter or digit.\n",
			argv[0], VM_NAME_MAX);
		return -EINVAL;
	}
	*ret = argv[0];
	return 0;
}
