/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PCI addresses: "DDDD:BB:DD.F" (domain, bus, device, function), as sysfs
 * names devices. Pure functions.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct PciAddress {
	uint16_t domain;
	uint8_t bus;
	uint8_t device; /* 0-31 */
	uint8_t function; /* 0-7 */
} PciAddress;

/* "0000:00:02.0" plus NUL */
#define PCI_ADDRESS_TEXT_SIZE 13

/*
 * Parses "DDDD:BB:DD.F" or the short "BB:DD.F" (domain 0). Hex digits in any
 * case; nothing else. Returns 0 or -EINVAL.
 */
int pci_address_parse(const char *text, PciAddress *ret);

/* Writes the canonical lower-case long form into buf (PCI_ADDRESS_TEXT_SIZE bytes). */
const char *pci_address_format(const PciAddress *address, char buf[PCI_ADDRESS_TEXT_SIZE]);

int pci_address_compare(const PciAddress *a, const PciAddress *b);

/* Same bus and device: functions of one card. */
bool pci_address_same_slot(const PciAddress *a, const PciAddress *b);

/* A PCI or USB id: exactly four hex digits ("10de"). Returns 0 or -EINVAL. */
int pci_id_parse(const char *text, uint16_t *ret);

/* "VVVV:DDDD": a vendor and a device id, both given. Returns 0 or -EINVAL. */
int pci_ids_parse(const char *text, uint16_t *ret_vendor, uint16_t *ret_device);

/* A function as configuration names one: a PCI address, or "VVVV:DDDD". */
bool pci_function_selector_is_valid(const char *text);

/*
 * Which GPUs a request means: "intel", "nvidia", "amd" (any case), a vendor id
 * "10de", or vendor:device "10de:1eb8". *ret_device is 0 when not given.
 * Returns 0 or -EINVAL.
 */
int pci_vendor_selector_parse(const char *text, uint16_t *ret_vendor, uint16_t *ret_device);
