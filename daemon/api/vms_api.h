/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * io.libvfio.VMs: List, Get, Define, Undefine, Validate, Start, Stop, Kill,
 * Pause, Resume, Reboot, Reset, Watch and Logs (api/vm_logs_api.h) over Varlink.
 */
#pragma once

#include "api/authz.h"

#include <systemd/sd-event.h>

#include "api/server.h"
#include "vm/vm.h"

typedef struct LogsFollow LogsFollow;

typedef struct VmsApi {
	sd_event *event;
	VmManager *manager;
	Authz *authz;
	LogsFollow *follows; /* Logs calls that follow, a list */
} VmsApi;

/* Serves io.libvfio.VMs on `server`; `api` must outlive it. */
int vms_api_register(VmsApi *api, Server *server);
