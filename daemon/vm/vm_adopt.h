/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Taking back one VM after a daemon restart, from the runtime record the
 * previous daemon wrote (vm_runtime.h). The table (vm_manager.c) reads the
 * records and calls this for each.
 */
#pragma once

#include "vm/vm_internal.h"

/*
 * VM's QEMU still runs: watched again, QMP reconnected (a guest that never
 * ran is stopped). It does not: what the record says it held is given back.
 * Takes the record's partitions and lent nodes.
 */
int vm_adopt(Vm *vm, VmRuntime *runtime);
