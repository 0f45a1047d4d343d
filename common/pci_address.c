/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pci_address.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Exactly `digits` hex digits at text; their value in *ret. */
static int hex_field(const char *text, unsigned digits, unsigned *ret)
{
	unsigned value = 0;
	for (unsigned i = 0; i < digits; i++) {
		char c = text[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -EINVAL;
		value = value * 16 + d;
	}
	*ret = value;
	return 0;
}

int pci_address_parse(const char *text, PciAddress *ret)
{
	unsigned domain = 0, bus, device, function;
	size_t length = strlen(text);

	if (length == 12) {
		if (hex_field(text, 4, &domain) < 0 || text[4] != ':')
			return -EINVAL;
		text += 5;
	} else if (length != 7)
		return -EINVAL;

	if (hex_field(text, 2, &bus) < 0 || text[2] != ':' || hex_field(text + 3, 2, &device) < 0 ||
	    text[5] != '.' || hex_field(text + 6, 1, &function) < 0)
		return -EINVAL;
	if (device > 31 || function > 7)
		return -EINVAL;
	*ret = (PciAddress){ (uint16_t)domain, (uint8_t)bus, (uint8_t)device, (uint8_t)function };
	return 0;
}

const char *pci_address_format(const PciAddress *address, char buf[PCI_ADDRESS_TEXT_SIZE])
{
	snprintf(buf, PCI_ADDRESS_TEXT_SIZE, "%04x:%02x:%02x.%x", address->domain, address->bus,
		 address->device & 0x1f, address->function & 0x7);
	return buf;
}

int pci_address_compare(const PciAddress *a, const PciAddress *b)
{
	if (a->domain != b->domain)
		return a->domain < b->domain ? -1 : 1;
	if (a->bus != b->bus)
		return a->bus < b->bus ? -1 : 1;
	if (a->device != b->device)
		return a->device < b->device ? -1 : 1;
	if (a->function != b->function)
		return a->function < b->function ? -1 : 1;
	return 0;
}

bool pci_address_same_slot(const PciAddress *a, const PciAddress *b)
{
	return a->domain == b->domain && a->bus == b->bus && a->device == b->device;
}

/* Four hex digits at text; the caller checks what follows. */
static int parse_id4(const char *text, uint16_t *ret)
{
	unsigned value;
	int r = hex_field(text, 4, &value);
	if (r >= 0)
		*ret = (uint16_t)value;
	return r;
}

int pci_id_parse(const char *text, uint16_t *ret)
{
	return strlen(text) == 4 ? parse_id4(text, ret) : -EINVAL;
}

int pci_ids_parse(const char *text, uint16_t *ret_vendor, uint16_t *ret_device)
{
	if (strlen(text) != 9 || text[4] != ':' || parse_id4(text, ret_vendor) < 0 ||
	    parse_id4(text + 5, ret_device) < 0)
		return -EINVAL;
	return 0;
}

bool pci_function_selector_is_valid(const char *text)
{
	PciAddress address;
	uint16_t vendor, device;
	return pci_address_parse(text, &address) == 0 || pci_ids_parse(text, &vendor, &device) == 0;
}

int pci_vendor_selector_parse(const char *text, uint16_t *ret_vendor, uint16_t *ret_device)
{
	static const struct {
		const char *name;
		uint16_t id;
	} names[] = { { "intel", 0x8086 }, { "nvidia", 0x10de }, { "amd", 0x1002 } };
	uint16_t vendor, device = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(text, names[i].name) == 0) {
			*ret_vendor = names[i].id;
			*ret_device = 0;
			return 0;
		}
	size_t n = strlen(text);
	if ((n != 4 && n != 9) || parse_id4(text, &vendor) < 0 ||
	    (n == 9 && (text[4] != ':' || parse_id4(text + 5, &device) < 0)))
		return -EINVAL;
	*ret_vendor = vendor;
	*ret_device = device;
	return 0;
}
