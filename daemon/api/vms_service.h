/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * io.libvfio.VMs: List, Get, Define, Undefine, Validate, Start, Stop, Kill,
 * Pause, Resume and Watch over Varlink.
 */
#pragma once

#include "api/server.h"
#include "vm/vm.h"

/* Serves io.libvfio.VMs on `server`; the manager must outlive it. */
int vms_service_register(VmManager *manager, Server *server);
