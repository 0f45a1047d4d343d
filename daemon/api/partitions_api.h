/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * io.libvfio.Partitions: List, Create, Destroy over Varlink.
 */
#pragma once

#include "api/authz.h"

#include "api/server.h"
#include "host/host_cache.h"
#include "partitions/partitions.h"

typedef struct PartitionsApi {
	PartitionEngine *engine;
	HostCache *host;
	Authz *authz;
} PartitionsApi;

/* Serves io.libvfio.Partitions on `server`; `api` must outlive it. */
int partitions_api_register(PartitionsApi *api, Server *server);
