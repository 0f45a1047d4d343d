/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The partition engine's start: the records a previous daemon left behind
 * (partition_record.h, autoprobe_record.h) are read and made true again. A
 * finished partition is adopted (its holder, if a VM, is judged by the VM
 * manager); an unfinished one is undone in full, as a normal release; a PF
 * whose autoprobe libvfio turned off gets it back once it has no VFs.
 */
#pragma once

#include "partitions/partitions.h"

/*
 * Reads the records a previous daemon left: adopts the finished ones and
 * releases the unfinished ones in full, as normal operations (off the loop,
 * with the write timeout). It runs the loop until those are done, so call it
 * before serving clients; a write stuck in the kernel is not waited for past
 * its timeout (it finishes while clients are served).
 */
int partition_engine_reconcile(PartitionEngine *engine);
