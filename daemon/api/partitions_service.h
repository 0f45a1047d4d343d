/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * io.libvfio.Partitions: List, Create, Destroy over Varlink.
 */
#pragma once

#include "api/server.h"
#include "host/host_cache.h"
#include "partitions/partitions.h"

/* Serves io.libvfio.Partitions on `server`; engine and host must outlive it. */
int partitions_service_register(PartitionEngine *engine, HostCache *host, Server *server);

/*
 * Replies the failure of a partition creation: the io.libvfio.Partitions error
 * for why no partition fits, or for what the kernel refused. Also used by
 * calls that create partitions on the way (a VM's Start).
 */
void partitions_service_reply_failure(VarlinkCall *call, const PartitionOutcome *outcome);
