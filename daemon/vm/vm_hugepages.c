/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm/vm_hugepages.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/loop_watch.h"
#include "error_message.h"
#include "host/host_cache.h"
#include "host/sysfs_write.h"
#include "time_util.h"
#include "vm/hugepage_reserve.h"
#include "vm/vm_runtime.h"

/* "node 1's 2M pool", "the system's 1G pool" */
static void pool_name(const HugepageReservation *h, char *buf, size_t size)
{
	const char *page = h->size_kib == 2048 ? "2M" : "1G";
	if (h->node >= 0)
		snprintf(buf, size, "node %d's %s pool", h->node, page);
	else
		snprintf(buf, size, "the system's %s pool", page);
}

/* The pool of `size_kib` pages on `node` (-1: the system's) in a model; NULL when none. */
static const HugepagePool *model_pool(const HostModel *model, int node, uint64_t size_kib)
{
	const HugepagePool *pools = model->facts.hugepages;
	size_t n = model->facts.n_hugepages;
	for (size_t i = 0; i < model->n_nodes && node >= 0; i++)
		if (model->nodes[i].id == node) {
			pools = model->nodes[i].hugepages;
			n = model->nodes[i].n_hugepages;
			break;
		}
	if (node >= 0 && pools == model->facts.hugepages)
		return NULL; /* no such node */
	for (size_t k = 0; k < n; k++)
		if (pools[k].size_kib == size_kib)
			return &pools[k];
	return NULL;
}

/*
 * The pools read anew on a worker (sysfs files, and on a busy host reading
 * them waits), then `then` on the loop, with the VM's pool or NULL and an
 * errno. The caller holds the pools (hugepages_busy) meanwhile.
 */
typedef void (*PoolRead)(Vm *vm, const HugepagePool *pool, int result);

static void on_pool_read(const HostModel *model, int result, PoolRead then, Vm *vm)
{
	const HugepageReservation *h = &vm->hugepages;
	const HugepagePool *pool = NULL;

	vm->hugepages_read = NULL;
	vm->manager->hugepages_busy = false;
	if (result >= 0 && !(pool = model_pool(model, h->node, h->size_kib)))
		result = -ENOENT;
	else if (result >= 0 && pool->free > pool->total)
		result = -EIO;
	then(vm, pool, result);
}

static void reserved_counted(Vm *vm, const HugepagePool *pool, int result)
{
	HugepageReservation *h = &vm->hugepages;
	VmHugepagesCallback callback = vm->hugepages_callback;
	char pool_text[64], text[1024];
	uint64_t nr = result >= 0 ? pool->total : 0;

	vm->hugepages_callback = NULL;
	pool_name(h, pool_text, sizeof(pool_text));
	uint64_t got = nr > h->before ? nr - h->before : 0;
	if (result >= 0 && got >= h->added) {
		vm_log(vm, LOG_INFO, 0, "VM %s: %" PRIu64 " pages added to %s (%" PRIu64 " now)",
		       vm->name, h->added, pool_text, nr);
		callback(vm, 0, NULL);
		return;
	}
	if (result == -ETIMEDOUT) {
		/* The reservation stays recorded until the write ends: on_late() gives back
		 * what it adds, or the next daemon does, from the record. */
		vm->hugepages_write_pending = true;
		snprintf(text, sizeof(text),
			 "hugepages: growing %s by %" PRIu64 " pages took too long (the kernel "
			 "is compacting memory); reserve them at boot (hugepages= on the kernel "
			 "command line) or start it again later.",
			 pool_text, h->added);
	} else if (result < 0)
		snprintf(text, sizeof(text), "hugepages: cannot grow %s: %s.", pool_text,
			 strerror(-result));
	else
		snprintf(text, sizeof(text),
			 "hugepages: the VM needs %" PRIu64 " more pages than the %" PRIu64
			 " free in %s, and the kernel found only %" PRIu64
			 " (memory is short or fragmented); free memory on that node, reserve the "
			 "pages at boot (hugepages= on the kernel command line), or give the VM "
			 "less memory.",
			 h->added, vm->hugepages_free_before, pool_text, got);
	callback(vm, result < 0 ? result : -ENOMEM, text);
}

static void on_reserved_read(const HostModel *model, int result, void *userdata)
{
	on_pool_read(model, result, reserved_counted, userdata);
}

/* The start's write has ended: how many pages the pool has now is read, off the loop. */
static void on_reserved(int result, void *userdata)
{
	Vm *vm = userdata;

	if (result == -ECANCELED)
		return; /* the daemon is stopping: the record stays for the next one */
	if (result >= 0)
		result = host_cache_read_memory(vm->manager->host, on_reserved_read, vm,
						&vm->hugepages_read);
	if (result >= 0)
		return; /* still busy: the pools stay this VM's until they are read */
	vm->manager->hugepages_busy = false;
	reserved_counted(vm, NULL, result);
}

/* The reservation of a VM that does not run is given back: its record goes. */
static void on_late_given_back(Vm *vm)
{
	if (!vm_is_active(vm) && !vm->releasing && !vm->hugepages.active)
		(void)vm_runtime_remove(vm->manager->records_dir, vm->name);
}

static void on_late(int result, void *userdata)
{
	Vm *vm = userdata;
	if (result == -ECANCELED)
		return; /* the daemon is stopping: the record stays for the next one */
	vm_log(vm, LOG_WARNING, result, "VM %s: a hugepage pool write that timed out has ended",
	       vm->name);
	vm->hugepages_write_pending = false;
	/* Running again, or being released: its release gives the pages back. */
	if (vm_is_active(vm) || vm->releasing)
		return;
	if (vm_hugepages_give_back(vm, on_late_given_back) == 0)
		on_late_given_back(vm);
}

/* Pools are planned from what they read: one write at a time, the others wait their turn. */
#define RETRY_USEC (20 * USEC_PER_MSEC)

static int on_retry_reserve(sd_event_source *source, uint64_t usec, void *userdata)
{
	loop_watch_enter(source);
	Vm *vm = userdata;
	_cleanup_free_ char *message = NULL;
	VmHugepagesCallback callback = vm->hugepages_callback;
	(void)usec;
	vm->hugepages_retry = sd_event_source_disable_unref(vm->hugepages_retry);
	int r = vm_hugepages_reserve(vm, vm->hugepages_definition, vm->hugepages_node, callback,
				     &message);
	if (r <= 0)
		callback(vm, r, message);
	return 0;
}

static int on_retry_give_back(sd_event_source *source, uint64_t usec, void *userdata)
{
	loop_watch_enter(source);
	Vm *vm = userdata;
	void (*done)(Vm * vm) = vm->hugepages_done;
	(void)usec;
	vm->hugepages_retry = sd_event_source_disable_unref(vm->hugepages_retry);
	if (vm_hugepages_give_back(vm, done) == 0 && done)
		done(vm);
	return 0;
}

/* Waits for the pool write under way; 1, or < 0 when the timer cannot be had. */
static int wait_turn(Vm *vm, sd_event_time_handler_t handler)
{
	int r = sd_event_add_time_relative(vm->manager->event, &vm->hugepages_retry,
					   CLOCK_MONOTONIC, RETRY_USEC, USEC_PER_MSEC, handler, vm);
	if (r < 0)
		return r;
	(void)sd_event_source_set_description(vm->hugepages_retry, "hugepages, retry");
	return 1;
}

/*
 * The plan from pools just read, the record, the write: 1 when the write is
 * under way, 0 when the pool has enough free pages, < 0 with *ret_message.
 */
static int reserve_planned(Vm *vm, const VmDefinition *definition, int node, const HostModel *model,
			   char **ret_message)
{
	VmManager *m = vm->manager;
	HugepageReservation plan;
	char path[256], value[32], pool[64];

	int r = hugepage_plan(definition, model, node, 0, &plan);
	if (r >= 0) {
		/*
		 * Free pages another start has counted on, and its QEMU not taken yet
		 * (it takes them all at once, prealloc, before QMP greets), are not free.
		 */
		uint64_t claimed = 0;
		size_t n;
		void *const *vms = vm_table_items(&m->vms, &n);
		for (size_t i = 0; i < n; i++) {
			const Vm *other = vms[i];
			if (other != vm && other->hugepages_claim_pages > 0 &&
			    hugepage_pools_overlap(other->hugepages_claim_node,
						   other->hugepages_claim_size_kib, plan.node,
						   plan.size_kib))
				claimed += other->hugepages_claim_pages;
		}
		r = hugepage_plan(definition, model, node, claimed, &plan);
	}
	if (r >= 0) {
		vm->hugepages_claim_node = plan.node;
		vm->hugepages_claim_size_kib = plan.size_kib;
		vm->hugepages_claim_pages = definition->memory / 1024 / plan.size_kib;
	}
	if (r == -ENOENT)
		return error_message(ret_message, r,
				     "hugepages: this host has no %s page pool; use another size "
				     "or 'hugepages: off'.",
				     vm_hugepages_to_string(definition->hugepages));
	if (r < 0 || !plan.active)
		return r;
	r = hugepage_pool_path(plan.node, plan.size_kib, path, sizeof(path));
	if (r < 0)
		return r;
	const HugepagePool *planned = model_pool(model, plan.node, plan.size_kib);
	uint64_t free_before = planned ? planned->free : 0;

	/* Written down before the pool grows: a daemon that dies now leaves the next one
	 * what to give back. */
	vm->hugepages = plan;
	r = vm_save_runtime(vm);
	if (r < 0) {
		vm->hugepages = (HugepageReservation){ .node = -1 };
		return vm_save_runtime_error(vm, r, ret_message);
	}
	vm->hugepages_free_before = free_before;
	pool_name(&plan, pool, sizeof(pool));
	vm_log(vm, LOG_INFO, 0, "VM %s: adding %" PRIu64 " pages to %s (%" PRIu64 " now)", vm->name,
	       plan.added, pool, plan.before);
	snprintf(value, sizeof(value), "%" PRIu64, plan.before + plan.added);
	r = sysfs_write_async(m->writer, host_cache_root(m->host), path, value,
			      m->config->sysfs_write_timeout_usec, on_reserved, on_late, vm);
	if (r < 0)
		return error_message(ret_message, r, "hugepages: cannot grow %s: %s.", pool,
				     strerror(-r));
	m->hugepages_busy = true;
	return 1;
}

/* The pools, read anew on a worker: now the plan, and the write when one is needed. */
static void on_pools_read(const HostModel *model, int result, void *userdata)
{
	Vm *vm = userdata;
	VmHugepagesCallback callback = vm->hugepages_callback;
	_cleanup_free_ char *message = NULL;

	vm->hugepages_read = NULL;
	vm->manager->hugepages_busy = false;
	int r = result < 0 ? error_message(&message, result, "Cannot read the host: %s.",
					   strerror(-result))
			   : reserve_planned(vm, vm->hugepages_definition, vm->hugepages_node,
					     model, &message);
	vm->hugepages_definition = NULL; /* planned: a write under way ends on its own */
	if (r <= 0) {
		vm->hugepages_callback = NULL;
		callback(vm, r, message);
	}
}

int vm_hugepages_reserve(Vm *vm, const VmDefinition *definition, int node,
			 VmHugepagesCallback callback, char **ret_message)
{
	VmManager *m = vm->manager;
	char pool[64];

	if (definition->hugepages == VM_HUGEPAGES_OFF)
		return 0;
	if (vm->hugepages_write_pending) {
		pool_name(&vm->hugepages, pool, sizeof(pool));
		return error_message(
			ret_message, -EBUSY,
			"hugepages: the last start's write to %s has not ended yet (the "
			"kernel is compacting memory); start it again in a moment.",
			pool);
	}
	vm->hugepages_callback = callback;
	vm->hugepages_definition = definition;
	vm->hugepages_node = node;
	if (m->hugepages_busy) {
		int r = wait_turn(vm, on_retry_reserve);
		if (r < 0)
			return error_message(ret_message, r,
					     "Cannot wait for the hugepage pool: %s.",
					     strerror(-r));
		return r;
	}
	/*
	 * Free pages change without uevents: the pools are read anew (not the
	 * whole host), on a worker; the loop plans once they are read. One VM at
	 * a time, from this read to the end of its write: each plans from what
	 * the pools hold.
	 */
	int r = host_cache_read_memory(m->host, on_pools_read, vm, &vm->hugepages_read);
	if (r < 0)
		return error_message(ret_message, r, "Cannot read the host: %s.", strerror(-r));
	m->hugepages_busy = true;
	return 1;
}

/* Nothing of the VM's waits any more: its turn, or a read of the pools (which frees them). */
static void stop_waiting(Vm *vm)
{
	vm->hugepages_retry = sd_event_source_disable_unref(vm->hugepages_retry);
	if (vm->hugepages_read) {
		vm->hugepages_read = worker_cancel(vm->hugepages_read);
		vm->manager->hugepages_busy = false;
	}
}

void vm_hugepages_cancel(Vm *vm)
{
	if (!vm->hugepages_definition)
		return; /* nothing waits, or a write is under way (its end finds no start) */
	stop_waiting(vm);
	vm->hugepages_callback = NULL;
	vm->hugepages_definition = NULL;
}

void vm_hugepages_forget(Vm *vm)
{
	vm_hugepages_cancel(vm);
	/* A read after the start's write, or before a give-back, too: what was added
	 * stays in the record for the next daemon. */
	stop_waiting(vm);
}

static void on_given_back(int result, void *userdata)
{
	Vm *vm = userdata;
	void (*done)(Vm * vm) = vm->hugepages_done;
	char pool[64];

	if (result == -ECANCELED)
		return; /* the daemon is stopping: the record stays for the next one */
	vm->manager->hugepages_busy = false;
	pool_name(&vm->hugepages, pool, sizeof(pool));
	if (result < 0)
		vm_log(vm, LOG_WARNING, result,
		       "VM %s: cannot give %" PRIu64 " pages back to %s; "
		       "lower its nr_hugepages by hand",
		       vm->name, vm->hugepages.added, pool);
	else
		vm_log(vm, LOG_INFO, 0, "VM %s: hugepages given back to %s", vm->name, pool);
	vm->hugepages = (HugepageReservation){ .node = -1 };
	vm->hugepages_done = NULL;
	if (done)
		done(vm);
}

/*
 * What the pool holds decides what goes back (a write, 1) or that nothing
 * does (0). `pool`: what it holds now; NULL while the start's write is
 * under way (the pool says nothing of what it adds yet).
 */
static int give_back_counted(Vm *vm, const HugepagePool *pool, int result, void (*done)(Vm *vm))
{
	VmManager *m = vm->manager;
	HugepageReservation *h = &vm->hugepages;
	char path[256], value[32], pool_text[64];

	pool_name(h, pool_text, sizeof(pool_text));
	if (result >= 0)
		result = hugepage_pool_path(h->node, h->size_kib, path, sizeof(path));
	if (result < 0) {
		vm_log(vm, LOG_WARNING, result, "VM %s: cannot read %s to give its pages back",
		       vm->name, pool_text);
		*h = (HugepageReservation){ .node = -1 };
		return 0;
	}
	uint64_t nr = pool ? pool->total : 0, target = nr;
	switch (hugepage_release_decide(h, vm->hugepages_write_pending, nr, pool ? pool->free : 0,
					&target)) {
	case HUGEPAGE_RELEASE_KEEP:
		vm_log(vm, LOG_NOTICE, 0,
		       "VM %s: its write to %s has not ended; what it adds is given back when it "
		       "does (the record stays)",
		       vm->name, pool_text);
		return 0;
	case HUGEPAGE_RELEASE_NOTHING:
		*h = (HugepageReservation){ .node = -1 };
		return 0;
	case HUGEPAGE_RELEASE_WRITE:
		break;
	}
	snprintf(value, sizeof(value), "%" PRIu64, target);
	vm->hugepages_done = done;
	result = sysfs_write_async(m->writer, host_cache_root(m->host), path, value,
				   m->config->sysfs_write_timeout_usec, on_given_back, NULL, vm);
	if (result < 0) {
		vm->hugepages_done = NULL;
		vm_log(vm, LOG_WARNING, result, "VM %s: cannot give its pages back to %s", vm->name,
		       pool_text);
		*h = (HugepageReservation){ .node = -1 };
		return 0;
	}
	m->hugepages_busy = true;
	return 1;
}

static void give_back_read(Vm *vm, const HugepagePool *pool, int result)
{
	void (*done)(Vm * vm) = vm->hugepages_done;
	vm->hugepages_done = NULL;
	if (give_back_counted(vm, pool, result, done) == 0 && done)
		done(vm);
}

static void on_give_back_read(const HostModel *model, int result, void *userdata)
{
	on_pool_read(model, result, give_back_read, userdata);
}

int vm_hugepages_give_back(Vm *vm, void (*done)(Vm *vm))
{
	VmManager *m = vm->manager;

	if (!vm->hugepages.active)
		return 0;
	if (m->hugepages_busy) {
		vm->hugepages_done = done;
		if (wait_turn(vm, on_retry_give_back) > 0)
			return 1;
		vm->hugepages_done = NULL; /* no timer: given back now, from what the pool holds */
	}
	if (vm->hugepages_write_pending)
		return give_back_counted(vm, NULL, 0, done);
	/* What the pool holds now is read off the loop; the pools are this VM's meanwhile. */
	int r = host_cache_read_memory(m->host, on_give_back_read, vm, &vm->hugepages_read);
	if (r < 0)
		return give_back_counted(vm, NULL, r, done);
	vm->hugepages_done = done;
	m->hugepages_busy = true;
	return 1;
}
