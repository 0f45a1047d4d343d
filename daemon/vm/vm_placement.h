/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where a VM runs on the host: the NUMA node its memory is bound to and the
 * host CPU each vCPU thread is pinned to. Pure functions of the definition
 * and the host model.
 */
#pragma once

#include <sched.h>

#include "host/host.h"
#include "vm_definition.h"

/* "0-3,8,10-11" → a CPU set. -EINVAL for anything else (or a CPU past CPU_SETSIZE). */
int cpulist_parse(const char *text, cpu_set_t *ret);

/*
 * The node: the definition's, or with `numa: auto` the node of the first
 * assigned device that has one (`devices`, in GPU order); -1 for none
 * (numa: off, or a host that does not say).
 */
int vm_placement_node(const VmDefinition *definition, const HostModel *model,
		      const PciAddress *devices, size_t n_devices);

/*
 * The host CPU of each vCPU (ret has vm_definition_cpus() entries): the
 * definition's list, or, with automatic pinning and a node, the node's CPUs
 * in turn. Returns 1 when vCPUs are to be pinned, 0 when not, -EINVAL when
 * the node has no CPUs or a listed CPU is not on this host (`host_cpus`).
 */
int vm_placement_vcpus(const VmDefinition *definition, const cpu_set_t *node_cpus,
		       const cpu_set_t *host_cpus, int *ret);
