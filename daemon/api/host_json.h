/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host model as the JSON of io.libvfio.Host (common/io.libvfio.Host.varlink).
 * Pure: no I/O. Each returns a new object, or NULL when out of memory.
 */
#pragma once

#include <json-c/json.h>

#include "host/host.h"
#include "host/readiness.h"

json_object *host_function_to_json(const PciFunction *function);
json_object *host_gpu_to_json(const HostModel *model, const PciFunction *gpu);
/* An mdev parent outside PCI, as a GPU with no PCI identity ("address" is its name). */
json_object *host_mdev_parent_to_json(const HostModel *model, const MdevParent *parent);
/*
 * {"gpus": [...]}: every GPU but virtual functions (those that are mdev
 * parents aside), then every mdev parent outside PCI.
 */
json_object *host_gpus_to_json(const HostModel *model);
/* {"groups": [...]} */
json_object *host_groups_to_json(const HostModel *model);
/* {"nodes": [...], "hugepages": [...]} */
json_object *host_topology_to_json(const HostModel *model);
/* {"ready": ..., "readyModes": [...], "checks": [...]} */
json_object *readiness_to_json(const Readiness *readiness);
