/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host model, kept: built at start and rebuilt when it is stale: after a
 * kernel uevent about PCI, mdev or VFIO devices (a netlink socket on the
 * loop), or when a caller asks for it (refresh). With a sysfs root other than
 * "/" no uevents can describe it, so every request rebuilds.
 *
 * The kernel's own uevent group, not sd_device_monitor: libsystemd 252 offers
 * only udev's group, which is silent where udev does not run (containers, a
 * minimal init, this project's lab and CI); the kernel's is one socket and a
 * filter on SUBSYSTEM=, and staleness is all the daemon needs from it.
 */
#pragma once

#include <systemd/sd-event.h>

#include "host/host.h"

typedef struct HostCache HostCache;

/* extra_gpus: gpus.partitionable of the configuration (strv, copied; NULL: none). */
int host_cache_new(sd_event *event, const char *sysfs_root, char *const *extra_gpus,
		   HostCache **ret);

/* Replaces gpus.partitionable (on a reload); the next model reads it. -ENOMEM. */
int host_cache_set_extra_gpus(HostCache *cache, char *const *extra_gpus);
HostCache *host_cache_free(HostCache *cache);

/*
 * The current model, rebuilt first when `refresh` (or stale). The pointer is
 * good until the next call that may rebuild it: do not keep it across the loop.
 */
int host_cache_model(HostCache *cache, bool refresh, const HostModel **ret);

/* The root below which the host is read (and written, by the partition engine). */
const SysfsRoot *host_cache_root(const HostCache *cache);
