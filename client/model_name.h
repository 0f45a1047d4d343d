/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The short name people know a PCI device by, made from its pci.ids vendor and
 * device names: "Intel Corporation" + "CoffeeLake-S GT2 [UHD Graphics 630]" is
 * "Intel UHD Graphics 630". Pure functions.
 */
#pragma once

#include <json-c/json.h>
#include <stddef.h>

/* "Intel Corporation" is "Intel", "Advanced Micro Devices, Inc. [AMD/ATI]" is "AMD". */
const char *vendor_short_name(char *buf, size_t size, const char *vendor);

/*
 * Writes the model name into buf and returns buf: the short vendor name and the
 * marketing name (the last bracketed part of the device name, else all of it).
 * Without a device name, the IDs: "Intel 8086:3e9b", or "8086:3e9b" without a
 * vendor name either. Any argument may be NULL ("?" stands for a missing ID).
 */
const char *model_name(char *buf, size_t size, const char *vendor, const char *device,
		       const char *vendor_id, const char *device_id);

/* model_name() of a Function or GPU object of io.libvfio.Host (NULL or incomplete is fine). */
const char *function_model_name(char *buf, size_t size, json_object *function);
