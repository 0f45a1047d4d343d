/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * io.libvfio.Manager over Varlink: what the daemon says about itself
 * (GetVersion). Not to be confused with vm/'s VmManager, which runs VMs.
 */
#pragma once

#include "api/authz.h"

#include "api/server.h"
#include "host/qemu_probe.h"

typedef struct ManagerApi {
	QemuProbe *qemu;
	Authz *authz;
} ManagerApi;

/* Serves io.libvfio.Manager on `server`; `api` must outlive it. */
int manager_api_register(ManagerApi *api, Server *server);
