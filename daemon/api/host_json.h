/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host model as the JSON of io.libvfio.Host (common/io.libvfio.Host.varlink).
 * Pure: no I/O. The replies about devices are written as text (json_text.h):
 * ListGPUs on a host of 2,000 functions is 330 KB, too much to build as json-c
 * objects on the event loop. Each writer appends one value to `text`; a failure
 * (out of memory) marks the text failed: check text->failed once, at the end.
 */
#pragma once

#include <json-c/json.h>
#include <stdint.h>

#include "host/host.h"
#include "host/readiness.h"
#include "json_text.h"

/* A GPU (GetGPU's "gpu", an entry of ListGPUs). */
void host_gpu_json_text(JsonText *text, const HostModel *model, const PciFunction *gpu);
/* An mdev parent outside PCI, as a GPU with no PCI identity ("address" is its name). */
void host_mdev_parent_json_text(JsonText *text, const HostModel *model, const MdevParent *parent);
/*
 * {"gpus": [...]}: every GPU but virtual functions (those that are mdev
 * parents aside), then every mdev parent outside PCI.
 */
void host_gpus_json_text(JsonText *text, const HostModel *model);
/* {"groups": [...]} */
void host_groups_json_text(JsonText *text, const HostModel *model);

/* How many pages of the pool of `size_kib` on `node` (-1: the system's) libvfio holds for VMs. */
typedef uint64_t (*HugepagesHeld)(int node, uint64_t size_kib, void *userdata);
/*
 * {"nodes": [...], "hugepages": [...]}; each pool with "heldForVMs" when
 * `held` is given.
 */
void host_topology_json_text(JsonText *text, const HostModel *model, HugepagesHeld held,
			     void *userdata);

/* {"ready": ..., "readyModes": [...], "checks": [...]}; NULL when out of memory. */
json_object *readiness_to_json(const Readiness *readiness);
