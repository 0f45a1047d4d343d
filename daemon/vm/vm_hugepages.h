/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VM's hugepages on the host: at start, the pages its memory needs added to
 * its node's pool when the pool is short (hugepage_reserve.h decides how
 * many, and where), written down in the runtime record before the pool is
 * grown, read back (the kernel may find fewer), and given back when the VM's
 * everything else is given back, by this daemon or, after a crash, the next.
 * The pool writes run off the loop (sysfs_write.h): growing a pool on a
 * fragmented host makes the kernel compact memory, which can take seconds.
 */
#pragma once

#include "vm/vm_internal.h"

/* The reservation's end: 0, or < 0 with a sentence for the user. */
typedef void (*VmHugepagesCallback)(Vm *vm, int result, const char *message);

/*
 * Reserves the pages `definition` needs on `node` (-1: the system pool).
 * Returns 1 when a write is under way (`callback` hears its end, on the loop),
 * 0 when the pool has enough free pages already (or the VM uses none), < 0
 * with *ret_message when the start cannot go on. A failed reservation stays in
 * vm->hugepages: the release gives back what the kernel did add. A write that
 * timed out may still land: until it ends (vm->hugepages_write_pending) the
 * reservation stays in vm->hugepages and in the runtime record, past the VM's
 * release, so that this daemon when it ends, or the next one after a crash,
 * gives back what the pool holds above `before` (at most `added`); another
 * start of the VM is refused meanwhile.
 */
int vm_hugepages_reserve(Vm *vm, const VmDefinition *definition, int node,
			 VmHugepagesCallback callback, char **ret_message);

/*
 * The start that asked gives up: a reservation still waiting (its turn, or
 * the pools' read) goes no further and its callback is not called. A pool
 * write under way ends on its own (vm->hugepages keeps what it adds).
 */
void vm_hugepages_cancel(Vm *vm);

/*
 * The VM goes (the daemon stops): nothing of its hugepages waits on the loop
 * any more. A pool write under way ends on its own; what it adds stays
 * recorded for the next daemon.
 */
void vm_hugepages_forget(Vm *vm);

/*
 * Gives back vm->hugepages (only its free pages, never below what the pool
 * held before, as read anew off the loop). Returns 1 when that read or the
 * write is under way (`done` is called on the loop when all has ended), 0
 * when there was nothing to give back (now clear) or when the start's write
 * is still under way (then it stays, recorded).
 */
int vm_hugepages_give_back(Vm *vm, void (*done)(Vm *vm));
