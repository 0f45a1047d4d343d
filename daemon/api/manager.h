/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * io.libvfio.Manager: what the daemon says about itself (GetVersion).
 */
#pragma once

#include "api/server.h"
#include "host/qemu_probe.h"

typedef struct Manager {
	QemuProbe *qemu;
} Manager;

/* Serves io.libvfio.Manager on `server`; `manager` must outlive it. */
int manager_register(Manager *manager, Server *server);
