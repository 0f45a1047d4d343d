/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The partition engine: creates a partition for a request and releases it,
 * one operation at a time (so two requests can never get the same
 * partition). Each change to the host is written down in a record before it
 * is made and marked after (partition_record.h); each sysfs write runs off
 * the loop (sysfs_plan.h) and its effect is checked on a fresh host model. A
 * failure part-way undoes what was done, from the last step back. At start,
 * records left by a daemon that died are reconciled (reconcile.h).
 *
 * The steps themselves are decided in partition_plan.h (pure); this header is
 * the engine's face: the queue (partitions.c) and the running of each
 * operation (operation.c).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "host/host_cache.h"
#include "partitions/alloc.h"
#include "partitions/partition_record.h"

typedef struct PartitionEngine PartitionEngine;

typedef struct PartitionOutcome {
	int result; /* 0, or a negative errno */
	AllocError error; /* why no partition fits, when that is the failure */
	PciAddress gpu; /* the GPU `error` is about, when there is one */
	const char *parent; /* instead: the mdev parent outside PCI it is about (borrowed) */
	const PartitionRecord *record; /* on success: the partition (borrowed) */
	const char *message; /* on failure: what happened and what to do */
} PartitionOutcome;

typedef void (*PartitionCallback)(const PartitionOutcome *outcome, void *userdata);

int partition_engine_new(sd_event *event, HostCache *host, const char *runtime_dir,
			 PartitionEngine **ret);

/* How long one sysfs write may take before it counts as stuck (default 20 s). */
void partition_engine_set_write_timeout(PartitionEngine *engine, uint64_t usec);

/*
 * Whether releasing an SR-IOV partition leaves its VF on vfio-pci (and the
 * VFs it enabled) for the next partition, instead of giving everything back.
 */
void partition_engine_set_keep_vfs(PartitionEngine *engine, bool keep);
/* Operations under way are abandoned (their records stay, for the next start). */
PartitionEngine *partition_engine_free(PartitionEngine *engine);

/* Reconciling the records a previous daemon left: partition_engine_reconcile(), reconcile.h. */

/* Creates a partition for `request`, held by `holder` ("manual", later "vm:NAME"). */
int partition_engine_create(PartitionEngine *engine, const PartitionRequest *request,
			    const char *holder, PartitionCallback callback, void *userdata);

/* Releases partition `id`. -ENOENT when libvfio holds no such partition. */
int partition_engine_destroy(PartitionEngine *engine, const char *id, PartitionCallback callback,
			     void *userdata);

/*
 * Sets how many VFs the SR-IOV GPU at `gpu` has (new ones without a host
 * driver). Refused while any VF is in use, by a host driver or a partition.
 * Not a partition: nothing to undo, no record.
 */
int partition_engine_set_vf_count(PartitionEngine *engine, const PciAddress *gpu, unsigned count,
				  PartitionCallback callback, void *userdata);

/* The partitions libvfio holds, sorted by id. */
const PartitionRecord *partition_engine_records(const PartitionEngine *engine, size_t *ret_n);
