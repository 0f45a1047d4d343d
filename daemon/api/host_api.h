/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * io.libvfio.Host: the host model served over Varlink (ListGPUs, GetGPU,
 * ListIOMMUGroups, GetTopology, Check), from the model kept (host_cache.h).
 * GetTopology and Check always read the host anew, as does any call with
 * refresh: off the loop, the call answered when the model is there. Their
 * figures (free memory, hugepages) change without uevents.
 */
#pragma once

#include "api/authz.h"

#include "api/server.h"
#include "host/host_cache.h"
#include "host/qemu_probe.h"
#include "vm/vm.h"

typedef struct HostApi {
	HostCache *cache;
	QemuProbe *qemu;
	Authz *authz;
	VmManager *vms; /* for the hugepages VMs hold (GetTopology); may be NULL */
} HostApi;

/* Serves io.libvfio.Host on `server`; `api` must outlive it. */
int host_api_register(HostApi *api, Server *server);
