/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Is a host driver in use? A process holds one of the device's character
 * nodes open: its DRM card or render node, its sound card's controls and
 * PCMs. Unbinding the driver under such a process (a compositor, a sound
 * server) blocks or takes the desktop down with it, so passthrough asks
 * first. The nodes come from DEVNAME in the uevent of the device's drm/ and
 * sound/ children; the holders from the proc/PID/fd links. Both are read
 * below the sysfs root, so fixtures can play them.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "host/sysfs.h"
#include "pci_address.h"

typedef struct DeviceUser {
	PciAddress device;
	pid_t pid;
	char command[32]; /* proc/PID/comm; "?" when it cannot be read */
	char node[64]; /* "/dev/dri/card1" */
} DeviceUser;

/*
 * 1 with *ret filled when a process (other than this one) holds a node of one
 * of the n devices open, 0 when none does, < 0 when the processes cannot be
 * listed.
 */
int device_users_find(const SysfsRoot *root, const PciAddress *devices, size_t n, DeviceUser *ret);
