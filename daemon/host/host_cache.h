/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host model, kept: built once at start (in a thread, while the daemon
 * answers its first calls) and kept, whatever the sysfs
 * root. It goes stale after a kernel uevent about PCI, mdev or VFIO devices
 * (a netlink socket on the loop, only when the root is "/"), when the daemon
 * changed the host itself (host_cache_mark_stale()), or when a caller asks
 * for a model read after its call (refresh).
 *
 * Rebuilds run in a thread, off the event loop; the loop keeps answering
 * from the model it has and swaps the new one in when the thread is done (an
 * eventfd on the loop). Changes coalesce: a burst of uevents makes one
 * rebuild, and changes during a rebuild make one more after it. Only a
 * synchronous refresh (host_cache_model() with refresh) reads on the loop.
 *
 * The kernel's own uevent group, not sd_device_monitor: libsystemd 252 offers
 * only udev's group, which is silent where udev does not run (containers, a
 * minimal init, this project's lab and CI); the kernel's is one socket and a
 * filter on SUBSYSTEM=, and staleness is all the daemon needs from it. With a
 * sysfs root other than "/" nothing reports changes: whoever changes that
 * tree asks for a refresh.
 */
#pragma once

#include <systemd/sd-event.h>

#include "base/worker.h"

#include "host/host.h"

typedef struct HostCache HostCache;
typedef struct HostCacheWait HostCacheWait;

/*
 * Called on the loop with a model read after the request (good until the
 * callback returns: do not keep it), or with a negative errno and NULL:
 * -ENOMEM, or -ECANCELED when the cache goes away first.
 */
typedef void (*HostModelCallback)(const HostModel *model, int result, void *userdata);

/* extra_gpus: gpus.partitionable of the configuration (strv, copied; NULL: none). */
int host_cache_new(sd_event *event, const char *sysfs_root, char *const *extra_gpus,
		   HostCache **ret);

/* Replaces gpus.partitionable (on a reload); the next model reads it. -ENOMEM. */
int host_cache_set_extra_gpus(HostCache *cache, char *const *extra_gpus);
HostCache *host_cache_free(HostCache *cache);

/*
 * The current model. With `refresh`, read anew first, on the loop (prefer
 * host_cache_refresh()); without, the one kept, even while a rebuild after a
 * change is under way. The pointer is good until control returns to the
 * loop: do not keep it across the loop.
 */
int host_cache_model(HostCache *cache, bool refresh, const HostModel **ret);

/*
 * Asks for a model read after this call, built off the loop, and calls
 * `callback` with it (never before this returns). `ret` (may be NULL): a
 * handle to cancel the wait with, valid until the callback runs.
 */
int host_cache_refresh(HostCache *cache, HostModelCallback callback, void *userdata,
		       HostCacheWait **ret);

/*
 * Starts the first reading in its thread, unless one is there or under way.
 * The daemon starts it once its own setup is done (the VM definitions
 * loaded: two readings at once only slow each other down) and answers calls
 * meanwhile.
 */
int host_cache_start(HostCache *cache);

/*
 * True once the first model is there. host_cache_first_model() calls back
 * when it is (a refresh once it is), starting the reading if need be. Until
 * then host_cache_model() reads it or waits for it, blocking: only for the
 * daemon's setup (reconcile, adoption), before the loop runs; calls on the
 * loop check host_cache_ready() first.
 */
bool host_cache_ready(const HostCache *cache);
int host_cache_first_model(HostCache *cache, HostModelCallback callback, void *userdata,
			   HostCacheWait **ret);

/* Forgets a wait: its callback is not called. Accepts NULL; returns NULL. */
HostCacheWait *host_cache_wait_cancel(HostCache *cache, HostCacheWait *wait);

/*
 * Reads the memory figures anew (free memory and hugepages per NUMA node and
 * system-wide, which change without uevents: a few files, not a discovery)
 * on a worker, then puts them in the current model and calls back with it on
 * the loop (or with < 0). Before the first model (the daemon's start), the
 * callback gets a model of these figures alone (nodes and pools), freed after it.
 * Returns 0 with *ret (worker_cancel() it to stop waiting), or < 0.
 */
int host_cache_read_memory(HostCache *cache, HostModelCallback callback, void *userdata,
			   WorkerJob **ret);

/* The daemon changed the host (a partition step): rebuild in the background. */
void host_cache_mark_stale(HostCache *cache);

/* The root below which the host is read (and written, by the partition engine). */
const SysfsRoot *host_cache_root(const HostCache *cache);
