/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * io.libvfio.Host: the host model served over Varlink. The model is built at
 * start and rebuilt when it is stale: after a kernel uevent about PCI, mdev
 * or VFIO devices (a netlink socket on the loop), when a call asks for it
 * ("refresh": true), and always for GetTopology and Check, whose figures
 * (free memory, hugepages) change without uevents. With a sysfs root other
 * than "/" no uevents can describe it, so every call rebuilds.
 */
#pragma once

#include <systemd/sd-event.h>

#include "host.h"
#include "qemu_probe.h"
#include "server.h"

typedef struct HostService HostService;

/* extra_gpus: gpus.partitionable of the configuration (strv, copied; NULL: none). */
int host_service_new(sd_event *event, const char *sysfs_root, char *const *extra_gpus,
		     QemuProbe *qemu, HostService **ret);

/* Replaces gpus.partitionable (on a reload); the next model reads it. -ENOMEM. */
int host_service_set_extra_gpus(HostService *service, char *const *extra_gpus);
HostService *host_service_free(HostService *service);

/* Serves io.libvfio.Host on `server`. */
int host_service_register(HostService *service, Server *server);

/*
 * The current model, rebuilt first when `refresh` (or stale). The pointer is
 * good until the next call that may rebuild it: do not keep it across the loop.
 */
int host_service_model(HostService *service, bool refresh, const HostModel **ret);

/* The root below which the host is read (and written, by the partition engine). */
const SysfsRoot *host_service_root(const HostService *service);
