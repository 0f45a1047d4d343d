/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * io.libvfio.VMs: List, Get, Define, Undefine, Validate, Start, Stop, Kill,
 * Pause, Resume and Watch over Varlink.
 */
#pragma once

#include "api/authz.h"

#include "api/server.h"
#include "vm/vm.h"

typedef struct VmsApi {
	VmManager *manager;
	Authz *authz;
} VmsApi;

/* Serves io.libvfio.VMs on `server`; `api` must outlive it. */
int vms_api_register(VmsApi *api, Server *server);
