/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VM table: one entry per defined or running VM, and every vm_manager_*()
 * entry point. It finds the VM, checks that the call fits its state, and
 * hands the work to the file that does it (vm_start.c, vm_control.c,
 * vm_adopt.c); List, Get, Define, Undefine, Watch and the autostart are its
 * own. See vm_internal.h for the call graph.
 */
#include "vm/vm_internal.h"

#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "array.h"
#include "base/log.h"
#include "base/parallel.h"
#include "fs_util.h"
#include "strv.h"
#include "vm/vm_adopt.h"
#include "vm/vm_last_end.h"
#include "vm/vm_logs.h"
#include "vm/vm_qemu_user.h"
#include "vm/vm_start.h"
#include "vm/vm_store.h"

/* RUNTIME/vms/autostarted: the autostart VMs were started since boot. */
#define MARKER_AUTOSTARTED "autostarted"

/* ---- The VM table ---- */

/*
 * Definitions are read once and kept (what List and Get show of each is the
 * Vm's summary); a file is read again only when the directory watch
 * (vm_dir_watch.h) says it may have changed. Define and Undefine change the
 * table themselves.
 */

static Vm *vm_find(VmManager *m, const char *name)
{
	return vm_table_find(&m->vms, name);
}

static int vm_add(VmManager *m, const char *name, Vm **ret)
{
	Vm *vm = vm_new(m, name);
	if (!vm)
		return -ENOMEM;
	int r = vm_table_add(&m->vms, vm);
	if (r < 0) {
		vm_free(vm);
		return r;
	}
	*ret = vm;
	return 0;
}

/* A VM leaves the table when its definition is gone: how it last ended goes with it. */
static void vm_remove(VmManager *m, Vm *vm)
{
	vm_forget_end(vm);
	vm_table_remove(&m->vms, vm);
	vm_free(vm);
}

static void definition_file_name(const char *name, char *buf, size_t size)
{
	(void)snprintf(buf, size, "%s.yaml", name);
}

/* What one vm_store_load_at() returned. */
typedef struct VmStoreLoad {
	int result;
	VmDefinition definition; /* when result is 0 */
	struct stat st;
	char *message;
} VmStoreLoad;

/*
 * Takes what a read of NAME's definition found (`load`, consumed) into the
 * table. Returns the VM (NULL when it neither has a definition nor runs); a
 * definition that does not load is still listed, with its problem.
 */
static int vm_apply_load(VmManager *m, int dir, const char *name, VmStoreLoad *load, Vm **ret)
{
	VmDefinition definition = load->definition;
	VmFileIdentity identity;
	_cleanup_free_ char *error = TAKE_PTR(load->message);
	char file[VM_NAME_MAX + sizeof(".yaml")];
	Vm *vm = vm_find(m, name);
	struct stat st = load->st;
	int r = load->result;

	/*
	 * The identity of the file read, from its descriptor: a change during
	 * the read shows as another identity next time. A link is not opened:
	 * its own identity.
	 */
	bool read = r == 0 || r == -EINVAL; /* else nothing is known of the file */
	vm_file_identity_from_stat(&st, &identity);
	if (st.st_ino == 0 && r == -EINVAL) {
		definition_file_name(name, file, sizeof(file));
		vm_file_identity_read(dir, file, &identity);
	}
	if (r == -ENOENT) {
		/* Gone unless it runs. */
		if (vm && !vm_is_active(vm) && !vm->hugepages_write_pending) {
			vm_remove(m, vm);
			vm = NULL;
		} else if (vm)
			vm->file = (VmFileIdentity){ 0 };
		*ret = vm;
		return 0;
	}
	if (!vm && (r == 0 || r == -EINVAL)) {
		int k = vm_add(m, name, &vm);
		if (k < 0) {
			if (r == 0)
				vm_definition_done(&definition);
			return k;
		}
	}
	if (r == -EINVAL) {
		if (!vm_is_active(vm))
			vm_set_problem(vm, error);
	} else if (r == 0) {
		r = vm_take_summary(vm, &definition);
		vm_definition_done(&definition);
		/* A problem of the file is gone with the fix; why it last ended stays. */
		if (r >= 0 && !vm_is_active(vm))
			vm_set_problem(vm, vm->end_problem);
	}
	if (vm && read && (r == 0 || r == -EINVAL))
		vm->file = identity;
	*ret = vm;
	return r == -EINVAL ? 0 : r;
}

/* Re-reads NAME's definition (in `dir`, -1 when there is none) into the table. */
static int vm_refresh_at(VmManager *m, int dir, const char *name, Vm **ret)
{
	VmStoreLoad load = { .result = -ENOENT }; /* no directory, no definition */
	if (dir >= 0)
		load.result = vm_store_load_at(dir, m->config->vm_dir, name, &load.definition,
					       &load.st, &load.message);
	return vm_apply_load(m, dir, name, &load, ret);
}

static int vm_refresh(VmManager *m, const char *name, Vm **ret)
{
	_cleanup_close_ int dir = open(m->config->vm_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0 && errno != ENOENT && errno != ENOTDIR)
		return negative_errno();
	return vm_refresh_at(m, dir, name, ret);
}

/* Whether VM `vm`'s file is not the one it was read from (the fallback's question). */
static bool definition_changed(int dir, const Vm *vm)
{
	char file[VM_NAME_MAX + sizeof(".yaml")];
	VmFileIdentity now;
	definition_file_name(vm->name, file, sizeof(file));
	vm_file_identity_read(dir, file, &now);
	return !vm_file_identity_equal(&now, &vm->file);
}

/* Definitions read by several threads (the YAML is the cost), then taken in name order. */
typedef struct LoadBatch {
	int dir;
	const char *vm_dir;
	char **names;
	VmStoreLoad *loads;
} LoadBatch;

static int load_range(size_t begin, size_t end, void *userdata)
{
	LoadBatch *b = userdata;
	for (size_t i = begin; i < end; i++) {
		VmStoreLoad *load = &b->loads[i];
		load->result = vm_store_load_at(b->dir, b->vm_dir, b->names[i], &load->definition,
						&load->st, &load->message);
	}
	return 0;
}

static void load_done(VmStoreLoad *load)
{
	if (load->result == 0)
		vm_definition_done(&load->definition);
	free(load->message);
}

/* A thread reads at least this many files (twice as many for two): it costs more than a few. */
#define PARALLEL_LOAD_MIN 64

/*
 * Every definition of the directory into the table, and out of it the VMs
 * whose file is gone (unless they run). `trust_identity`: a file whose
 * identity is the one read is not read again. Many files are read by several
 * threads, which only read and parse; the table is the caller's thread's.
 */
static int definitions_rescan(VmManager *m, bool trust_identity)
{
	_cleanup_strv_ char **names = NULL;
	_cleanup_free_ char **to_read = NULL;
	_cleanup_free_ VmStoreLoad *loads = NULL;
	_cleanup_close_ int dir = -1;
	size_t n_read = 0;

	int r = vm_store_list(m->config->vm_dir, &names);
	if (r < 0)
		return r;
	if (names)
		dir = open(m->config->vm_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t n_names = strv_length(names);
	to_read = calloc(n_names + 1, sizeof(char *));
	loads = calloc(n_names + 1, sizeof(VmStoreLoad));
	if (!to_read || !loads)
		return -ENOMEM;
	for (size_t i = 0; i < n_names; i++) {
		Vm *vm = vm_find(m, names[i]);
		if (!(vm && trust_identity && vm->file.ino != 0 && !definition_changed(dir, vm)))
			to_read[n_read++] = names[i];
	}
	LoadBatch batch = { dir, m->config->vm_dir, to_read, loads };
	for (size_t i = 0; i < n_read; i++)
		loads[i].result = -ENOENT; /* no directory, no definition */
	if (dir >= 0)
		(void)parallel_ranges(n_read, PARALLEL_LOAD_MIN, load_range, &batch);
	for (size_t i = 0; i < n_read; i++) {
		Vm *vm;
		if (r < 0)
			load_done(&loads[i]); /* what is left after a failure */
		else
			r = vm_apply_load(m, dir, to_read[i], &loads[i], &vm); /* takes the load */
	}
	if (r < 0)
		return r;
	/* Those whose file went away meanwhile: gone unless they run. Both are sorted. */
	size_t n, k = 0;
	void *const *items = vm_table_items(&m->vms, &n);
	for (size_t i = 0; i < n;) {
		Vm *vm = items[i];
		int c = 1;
		while (names && names[k] && (c = strcmp(names[k], vm->name)) < 0)
			k++;
		if (!names || !names[k])
			c = 1;
		if (c == 0 || vm_is_active(vm) || vm->hugepages_write_pending) {
			if (c != 0)
				vm->file = (VmFileIdentity){ 0 };
			i++;
			continue;
		}
		vm_remove(m, vm); /* the next one moves to i */
		items = vm_table_items(&m->vms, &n);
	}
	return 0;
}

/* A VM without a file that ran and has ended: it leaves the table now. */
static bool vm_is_ended_orphan(const Vm *vm)
{
	return vm->file.ino == 0 && !vm_is_active(vm) && !vm->hugepages_write_pending;
}

/* Those VMs, out of the table (a walk of the table in memory, no file read). */
static int definitions_drop_ended(VmManager *m)
{
	size_t n;
	void *const *items = vm_table_items(&m->vms, &n);
	for (size_t i = 0; i < n;) {
		Vm *vm = items[i];
		char name[VM_NAME_MAX + 1];
		if (!vm_is_ended_orphan(vm)) {
			i++;
			continue;
		}
		memcpy(name, vm->name, sizeof(name));
		int r = vm_refresh(m, name, &vm); /* removed, unless its file is back */
		if (r < 0)
			return r;
		items = vm_table_items(&m->vms, &n);
		if (vm)
			i++;
	}
	return 0;
}

/* Brings every VM of the table up to date with its file: before List. */
static int definitions_sync_all(VmManager *m)
{
	if (vm_dir_watch_poll(m->watch, m->config->vm_dir) > 0)
		m->reload_all = true;
	if (m->reload_all) {
		int r = definitions_rescan(m, !vm_dir_watch_reports_names(m->watch));
		m->reload_all = r < 0;
		return r;
	}
	if (vm_dir_watch_reports_names(m->watch)) {
		size_t n;
		char *const *names = vm_dir_watch_take_all(m->watch, &n);
		for (size_t i = 0; i < n; i++) {
			Vm *vm;
			int r = vm_refresh(m, names[i], &vm);
			if (r < 0) {
				m->reload_all = true; /* that name is forgotten: all, next time */
				return r;
			}
		}
		return definitions_drop_ended(m);
	}
	/* Without inotify, and the directory unchanged: the files themselves. */
	_cleanup_close_ int dir = open(m->config->vm_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t n;
	void *const *items = vm_table_items(&m->vms, &n);
	for (size_t i = 0; i < n;) {
		Vm *vm = items[i];
		if (!definition_changed(dir, vm) && !vm_is_ended_orphan(vm)) {
			i++;
			continue;
		}
		char name[VM_NAME_MAX + 1];
		memcpy(name, vm->name, sizeof(name));
		int r = vm_refresh(m, name, &vm);
		if (r < 0)
			return r;
		items = vm_table_items(&m->vms, &n);
		if (vm) /* else it left the table, and the next one is at i */
			i++;
	}
	return 0;
}

/* Brings VM `name` up to date with its file: before Get and any operation on one VM. */
static int definitions_sync_one(VmManager *m, const char *name, Vm **ret)
{
	if (vm_dir_watch_poll(m->watch, m->config->vm_dir) > 0)
		m->reload_all = true;
	Vm *vm = vm_find(m, name);
	bool reload;
	if (vm_dir_watch_reports_names(m->watch))
		reload = vm_dir_watch_take(m->watch, name) || m->reload_all;
	else {
		_cleanup_close_ int dir =
			open(m->config->vm_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (vm)
			reload = definition_changed(dir, vm);
		else {
			char file[VM_NAME_MAX + sizeof(".yaml")];
			VmFileIdentity now;
			definition_file_name(name, file, sizeof(file));
			vm_file_identity_read(dir, file, &now);
			reload = now.ino != 0;
		}
	}
	if (reload || (vm && vm_is_ended_orphan(vm)))
		return vm_refresh(m, name, ret);
	*ret = vm;
	return 0;
}

int vm_manager_list(VmManager *m, VmInfo **ret, size_t *ret_n)
{
	int r = definitions_sync_all(m);
	if (r < 0)
		return r;
	size_t n;
	void *const *items = vm_table_items(&m->vms, &n);
	VmInfo *list = calloc(n > 0 ? n : 1, sizeof(VmInfo));
	if (!list)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		vm_info(items[i], &list[i]);
	*ret = list;
	*ret_n = n;
	return 0;
}

int vm_manager_foreach(VmManager *m, int (*callback)(const VmInfo *vm, void *userdata),
		       void *userdata)
{
	int r = definitions_sync_all(m);
	if (r < 0)
		return r;
	size_t n;
	void *const *items = vm_table_items(&m->vms, &n);
	for (size_t i = 0; i < n; i++) {
		VmInfo info;
		vm_info(items[i], &info);
		r = callback(&info, userdata);
		if (r < 0)
			return r;
	}
	return 0;
}

size_t vm_manager_count(const VmManager *m)
{
	return m->vms.n_items;
}

bool vm_manager_owner(VmManager *m, const char *name, char *buf, size_t size)
{
	Vm *vm = NULL;
	if (!vm_name_is_valid(name) || definitions_sync_one(m, name, &vm) < 0 || !vm ||
	    !vm->owner || !vm->owner[0])
		return false;
	(void)snprintf(buf, size, "%s", vm->owner);
	return true;
}

uint64_t vm_manager_hugepages_held(const VmManager *m, int node, uint64_t size_kib)
{
	uint64_t held = 0;

	size_t n = 0;
	void *const *items = m ? vm_table_items(&m->vms, &n) : NULL;

	for (size_t i = 0; i < n; i++) {
		const Vm *vm = items[i];
		/* A start's write that timed out is counted: it may still add them. */
		held += hugepage_reservation_pages_in(&vm->hugepages, node, size_kib);
	}
	return held;
}

/* Finds NAME for an operation, or calls back NoSuchVM and returns NULL. */
static Vm *vm_lookup(VmManager *m, const char *name, VmCallback callback, void *userdata)
{
	Vm *vm = NULL;
	int r = vm_name_is_valid(name) ? definitions_sync_one(m, name, &vm) : 0;
	if (r < 0) {
		vm_fail_now(callback, userdata, VM_FAIL_INTERNAL, "Cannot read the VM %s: %s.",
			    name, strerror(-r));
		return NULL;
	}
	if (!vm)
		vm_fail_now(callback, userdata, VM_FAIL_NO_SUCH_VM,
			    "There is no VM named '%s'; 'vfioctl list' shows the VMs, 'vfioctl "
			    "define FILE' adds one.",
			    name);
	return vm;
}

void vm_manager_log_file(const VmManager *m, const char *name, char *buf, size_t size)
{
	(void)snprintf(buf, size, "%s/vms/%s/qemu.log", m->config->state_dir, name);
}

int vm_manager_log_read(const VmManager *m, const char *name, size_t lines, VmLogRead done,
			void *userdata, WorkerJob **ret)
{
	char file[4200];
	QemuUser user = { .uid = 0 };
	_cleanup_free_ char *message = NULL;
	vm_manager_log_file(m, name, file, sizeof(file));
	(void)qemu_user_lookup(m->config->qemu_user, &user, &message); /* none: root's lines */
	return vm_log_read(m->event, name, file, user.uid, lines, done, userdata, ret);
}

void vm_manager_get(VmManager *m, const char *name, VmCallback callback, void *userdata)
{
	Vm *vm = vm_lookup(m, name, callback, userdata);
	if (vm) {
		Waiter w = { callback, userdata };
		vm_call_back(&w, vm, VM_OK, NULL, NULL);
	}
}

static void vm_wrong_state(Vm *vm, VmCallback callback, void *userdata, const char *what)
{
	char text[512];
	snprintf(text, sizeof(text), "%s is %s: %s.", vm->name, vm_state_to_string(vm->state),
		 what);
	Waiter w = { callback, userdata };
	vm_call_back(&w, vm, VM_FAIL_WRONG_STATE, text, NULL);
}

/* ---- Define, Undefine ---- */

/*
 * A definition's file is written (temp file, fsync, rename, fsync of the
 * directory) or removed (unlink, fsync of the directory) on a worker thread:
 * milliseconds to seconds on a busy disk, which the loop does not wait for.
 * The operations form one FIFO for the whole daemon, and only the first one
 * is under way: a Define decides its uuid (from the file as it is then) only
 * once every write before it has landed, so two Defines or a Define and an
 * Undefine of one name can neither race on the uuid nor land out of order.
 * The reply, and the change to the table, come when the write has landed:
 * the definition is durable before anyone hears it is stored. Until the
 * rename, Get, List and Start see the previous definition (or none): a Start
 * while a Define of its VM is in flight starts what was stored before. After
 * the rename, while the directory is fsynced, the directory watch may show
 * the new file a moment before the reply; a Start then starts the new one.
 *
 * A caller that goes away does not stop its operation: it was accepted, and
 * it completes; the reply goes nowhere.
 */

/* Operations waiting or under way, at most: each holds a definition's text. */
#define STORE_OPERATIONS_MAX 1024

typedef enum StoreKind {
	STORE_DEFINE,
	STORE_UNDEFINE,
} StoreKind;

typedef struct StoreOperation {
	struct StoreOperation *next;
	StoreKind kind;
	char *text; /* Define: the text as sent, NUL-terminated */
	size_t size;
	char name[VM_NAME_MAX + 1]; /* Undefine: the VM */
	VmDefinition definition; /* Define: what is being written, once `prepared` */
	bool prepared;
	Waiter waiter;
} StoreOperation;

/* What the worker thread owns: a copy of everything it needs. */
typedef struct StoreWrite {
	char *directory;
	char name[VM_NAME_MAX + 1];
	char *text; /* NULL: remove the file */
	size_t size;
} StoreWrite;

static StoreOperation *store_operation_free(StoreOperation *op)
{
	if (!op)
		return NULL;
	if (op->prepared)
		vm_definition_done(&op->definition);
	free(op->text);
	free(op);
	return NULL;
}

static void store_write_free(void *data)
{
	StoreWrite *w = data;
	free(w->directory);
	free(w->text);
	free(w);
}

static int store_write_run(void *data)
{
	StoreWrite *w = data;
	if (w->text)
		return vm_store_write(w->directory, w->name, w->text, w->size);
	return vm_store_undefine(w->directory, w->name);
}

static void on_store_written(int result, void *userdata);

/* Hands the file work to a worker; `text` (taken) NULL removes the file. */
static int store_write_start(VmManager *m, const char *name, char *text, size_t size)
{
	StoreWrite *w = calloc(1, sizeof(*w));
	if (!w) {
		free(text);
		return -ENOMEM;
	}
	w->text = text;
	w->size = size;
	(void)snprintf(w->name, sizeof(w->name), "%s", name);
	w->directory = strdup(m->config->vm_dir);
	if (!w->directory) {
		store_write_free(w);
		return -ENOMEM;
	}
	return worker_start(m->event, text ? "VM definition write" : "VM definition removal",
			    store_write_run, w, store_write_free, on_store_written, m,
			    &m->store_job);
}

/*
 * Decides what Define stores (parse, uuid, text: quick) and starts its
 * write. Returns 1 when the write is under way, 0 when the call was answered.
 */
static int store_begin_define(VmManager *m, StoreOperation *op)
{
	_cleanup_free_ char *error = NULL;
	char *stored = NULL;
	size_t stored_size = 0;

	int r = vm_store_define_prepare(m->config->vm_dir, op->text, op->size, &op->definition,
					&stored, &stored_size, &error);
	if (r == -EINVAL || r == -EEXIST) {
		vm_fail_now(op->waiter.callback, op->waiter.userdata,
			    r == -EINVAL ? VM_FAIL_INVALID_DEFINITION : VM_FAIL_EXISTS, "%s",
			    error);
		return 0;
	}
	if (r >= 0) {
		op->prepared = true;
		op->text = mfree(op->text);
		r = store_write_start(m, op->definition.name, stored, stored_size);
	}
	if (r < 0) {
		vm_fail_now(op->waiter.callback, op->waiter.userdata, VM_FAIL_INTERNAL,
			    "Cannot store the definition in %s: %s.", m->config->vm_dir,
			    strerror(-r));
		return 0;
	}
	return 1;
}

static void store_end_define(VmManager *m, StoreOperation *op, int result)
{
	Vm *vm;

	if (result < 0) {
		vm_fail_now(op->waiter.callback, op->waiter.userdata, VM_FAIL_INTERNAL,
			    "Cannot store the definition in %s: %s.", m->config->vm_dir,
			    strerror(-result));
		return;
	}
	vm = vm_find(m, op->definition.name);
	int r = vm ? 0 : vm_add(m, op->definition.name, &vm);
	if (r >= 0)
		r = vm_take_summary(vm, &op->definition);
	/* A problem of the old definition is gone; why it last ended stays. */
	if (r >= 0 && !vm_is_active(vm))
		vm_set_problem(vm, vm->end_problem);
	LogField fields[] = { { "LIBVFIO_VM", op->definition.name } };
	log_full_errno_fields(LOG_INFO, 0, fields, 1, "VM %s defined (uuid %s)",
			      op->definition.name, op->definition.uuid);
	if (r < 0) {
		vm_fail_now(op->waiter.callback, op->waiter.userdata, VM_FAIL_INTERNAL,
			    "The daemon ran out of memory.");
		return;
	}
	vm_call_back(&op->waiter, vm, VM_OK, NULL, NULL);
	vm_notify(m, vm);
}

/* Checks that the VM may be undefined now and starts the removal: as store_begin_define(). */
static int store_begin_undefine(VmManager *m, StoreOperation *op)
{
	VmCallback callback = op->waiter.callback;
	void *userdata = op->waiter.userdata;

	Vm *vm = vm_lookup(m, op->name, callback, userdata);
	if (!vm)
		return 0;
	if (vm_is_active(vm)) {
		vm_wrong_state(vm, callback, userdata, "stop it first (vfioctl stop)");
		return 0;
	}
	if (vm->hugepages_write_pending) {
		vm_wrong_state(vm, callback, userdata,
			       "its last start's hugepage pool write has not ended; try again in a "
			       "moment");
		return 0;
	}
	int r = store_write_start(m, op->name, NULL, 0);
	if (r < 0) {
		vm_fail_now(callback, userdata, VM_FAIL_INTERNAL, "Cannot remove %s/%s.yaml: %s.",
			    m->config->vm_dir, op->name, strerror(-r));
		return 0;
	}
	return 1;
}

static void store_end_undefine(VmManager *m, StoreOperation *op, int result)
{
	if (result < 0 && result != -ENOENT) {
		vm_fail_now(op->waiter.callback, op->waiter.userdata, VM_FAIL_INTERNAL,
			    "Cannot remove %s/%s.yaml: %s.", m->config->vm_dir, op->name,
			    strerror(-result));
		return;
	}
	Vm *vm = vm_find(m, op->name);
	if (vm) {
		vm_log(vm, LOG_INFO, 0, "VM %s undefined", op->name);
		if (!vm_is_active(vm) && !vm->hugepages_write_pending) {
			vm->state = VM_STATE_UNDEFINED;
			vm_notify(m, vm);
			vm_remove(m, vm);
		} else
			/* Started while the file went: it runs on, as after an rm
			 * (vm_apply_load()). */
			vm->file = (VmFileIdentity){ 0 };
	}
	vm_call_back(&op->waiter, NULL, VM_OK, NULL, NULL);
}

/* The first operation, out of the queue. */
static StoreOperation *store_pop(VmManager *m)
{
	StoreOperation *op = m->store_first;
	m->store_first = op->next;
	if (!m->store_first)
		m->store_last = NULL;
	m->n_store_operations--;
	return op;
}

/* Starts the first operation of the queue, answering those that end at once. */
static void store_run(VmManager *m)
{
	while (m->store_first && !m->store_job) {
		StoreOperation *op = m->store_first;
		int r = op->kind == STORE_DEFINE ? store_begin_define(m, op)
						 : store_begin_undefine(m, op);
		if (r > 0)
			return;
		store_operation_free(store_pop(m));
	}
}

static void on_store_written(int result, void *userdata)
{
	VmManager *m = userdata;
	StoreOperation *op = store_pop(m);

	m->store_job = NULL;
	if (op->kind == STORE_DEFINE)
		store_end_define(m, op, result);
	else
		store_end_undefine(m, op, result);
	store_operation_free(op);
	store_run(m);
}

/* Queues a Define (`text` copied) or an Undefine (`name`). */
static void store_enqueue(VmManager *m, StoreKind kind, const char *text, size_t size,
			  const char *name, VmCallback callback, void *userdata)
{
	if (m->n_store_operations >= STORE_OPERATIONS_MAX) {
		vm_fail_now(callback, userdata, VM_FAIL_INTERNAL,
			    "libvfiod has %d definition changes waiting to be written; try again "
			    "in a moment.",
			    STORE_OPERATIONS_MAX);
		return;
	}
	StoreOperation *op = calloc(1, sizeof(*op));
	if (op && kind == STORE_DEFINE && !(op->text = strndup(text, size)))
		op = store_operation_free(op);
	if (!op) {
		vm_fail_now(callback, userdata, VM_FAIL_INTERNAL, "The daemon ran out of memory.");
		return;
	}
	op->kind = kind;
	op->size = size;
	if (name)
		(void)snprintf(op->name, sizeof(op->name), "%s", name);
	op->waiter = (Waiter){ callback, userdata };
	if (m->store_last)
		m->store_last->next = op;
	else
		m->store_first = op;
	m->store_last = op;
	m->n_store_operations++;
	store_run(m);
}

/* At the daemon's end: whoever waits hears it; a write under way finishes alone. */
static void store_abandon(VmManager *m)
{
	bool first = true;

	m->store_job = worker_cancel(m->store_job);
	while (m->store_first) {
		StoreOperation *op = store_pop(m);
		vm_fail_now(op->waiter.callback, op->waiter.userdata, VM_FAIL_INTERNAL,
			    first && op->prepared
				    ? "libvfiod is stopping while it stores the definition; "
				      "'vfioctl list' after its restart shows whether it was."
				    : "libvfiod is stopping; the definition change was not made.");
		first = false;
		store_operation_free(op);
	}
}

void vm_manager_define(VmManager *m, const char *text, size_t size, VmCallback callback,
		       void *userdata)
{
	store_enqueue(m, STORE_DEFINE, text, size, NULL, callback, userdata);
}

void vm_manager_undefine(VmManager *m, const char *name, VmCallback callback, void *userdata)
{
	if (!vm_name_is_valid(name)) {
		(void)vm_lookup(m, name, callback, userdata); /* NoSuchVM */
		return;
	}
	store_enqueue(m, STORE_UNDEFINE, NULL, 0, name, callback, userdata);
}

/* ---- Start, Stop, Kill, Pause, Resume ---- */

void vm_manager_start(VmManager *m, const char *name, VmCallback callback, void *userdata)
{
	Vm *vm = vm_lookup(m, name, callback, userdata);
	if (!vm)
		return;
	if (vm_is_active(vm)) {
		vm_wrong_state(vm, callback, userdata, "it is already started");
		return;
	}
	vm_start(vm, callback, userdata);
}

/*
 * What Stop and Kill share: a VM whose QEMU runs, a waiter for its end, and
 * a start under way ended at once (`how`: "stopped", "killed"). Returns the
 * VM when the caller goes on, NULL when the call was answered or is taken
 * care of.
 */
static Vm *begin_end(VmManager *m, const char *name, const char *how, VmCallback callback,
		     void *userdata)
{
	Vm *vm = vm_lookup(m, name, callback, userdata);
	if (!vm)
		return NULL;
	if (!vm_is_active(vm) || vm->pid <= 0 || vm->releasing) {
		vm_wrong_state(vm, callback, userdata,
			       vm_is_active(vm) ? "wait until QEMU runs" : "it does not run");
		return NULL;
	}
	if (vm_add_stop_waiter(vm, callback, userdata) < 0) {
		vm_fail_now(callback, userdata, VM_FAIL_INTERNAL, "The daemon ran out of memory.");
		return NULL;
	}
	vm->stop_requested = true;
	if (vm->start) { /* QEMU is killed; the waiters hear when it is gone */
		vm_start_cancel(vm, how);
		return NULL;
	}
	return vm;
}

void vm_manager_stop(VmManager *m, const char *name, bool force, uint64_t timeout_usec,
		     VmCallback callback, void *userdata)
{
	Vm *vm = vm_find(m, name);
	bool already = vm && vm->stop_requested && vm->state == VM_STATE_STOPPING;

	vm = begin_end(m, name, "stopped", callback, userdata);
	if (!vm)
		return;
	vm_stop_qemu(vm, force, already,
		     timeout_usec == UINT64_MAX ? m->config->stop_timeout_usec : timeout_usec);
}

void vm_manager_kill(VmManager *m, const char *name, VmCallback callback, void *userdata)
{
	Vm *vm = begin_end(m, name, "killed", callback, userdata);
	if (vm)
		vm_kill_qemu(vm);
}

static void pause_or_resume(VmManager *m, const char *name, bool pause, VmCallback callback,
			    void *userdata)
{
	Vm *vm = vm_lookup(m, name, callback, userdata);
	if (!vm)
		return;
	VmState from = pause ? VM_STATE_RUNNING : VM_STATE_PAUSED;
	if (vm->state != from || !vm->qmp) {
		vm_wrong_state(vm, callback, userdata,
			       pause ? "only a running VM can be paused"
				     : "only a paused VM can be resumed");
		return;
	}
	vm_pause_qemu(vm, pause, callback, userdata);
}

void vm_manager_pause(VmManager *m, const char *name, VmCallback callback, void *userdata)
{
	pause_or_resume(m, name, true, callback, userdata);
}

void vm_manager_resume(VmManager *m, const char *name, VmCallback callback, void *userdata)
{
	pause_or_resume(m, name, false, callback, userdata);
}

static void reset_or_reboot(VmManager *m, const char *name, bool reboot, VmCallback callback,
			    void *userdata)
{
	Vm *vm = vm_lookup(m, name, callback, userdata);
	if (!vm)
		return;
	if (vm->state != VM_STATE_RUNNING || !vm->qmp || vm->start || vm->rebooting) {
		vm_wrong_state(vm, callback, userdata,
			       reboot ? "only a running VM can be rebooted"
				      : "only a running VM can be reset");
		return;
	}
	vm_reset_qemu(vm, reboot, callback, userdata);
}

void vm_manager_reset(VmManager *m, const char *name, VmCallback callback, void *userdata)
{
	reset_or_reboot(m, name, false, callback, userdata);
}

void vm_manager_reboot(VmManager *m, const char *name, VmCallback callback, void *userdata)
{
	reset_or_reboot(m, name, true, callback, userdata);
}

/* ---- Adoption after a daemon restart, autostart ---- */

static int adopt_record(VmManager *m, VmRuntime *runtime)
{
	Vm *vm = vm_find(m, runtime->name);
	int r;

	if (!vm && (r = vm_add(m, runtime->name, &vm)) < 0)
		return r;
	return vm_adopt(vm, runtime);
}

/*
 * How the VMs that were not re-adopted last ended (vm_last_end.h): failed,
 * crashed or stopped, with the reason, rather than "defined" as if never
 * started. A record whose definition is gone is removed. Only running out of
 * memory fails: what cannot be read is said, and the VMs show as defined.
 */
static int restore_ends(VmManager *m)
{
	VmLastEnd *ends = NULL;
	size_t n = 0;
	_cleanup_strv_ char **problems = NULL;

	/* Root's alone: the reasons may name paths and devices of other users' VMs. */
	int r = mkdir_p_mode(m->ends_dir, 0700);
	if (r < 0) {
		log_warning_errno(r, "Cannot create %s; how VMs end is not kept", m->ends_dir);
		return 0;
	}
	r = vm_last_end_load_all(m->ends_dir, &ends, &n, &problems);
	for (char **p = problems; p && *p; p++)
		log_warning("VM states: %s", *p);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		Vm *vm = vm_find(m, ends[i].name);
		if (vm) /* re-adopted, or being cleaned up after: its record says more */
			continue;
		r = vm_refresh(m, ends[i].name, &vm);
		if (r < 0 && r != -ENOMEM) {
			log_warning_errno(r, "Cannot read the VM %s", ends[i].name);
			r = 0;
			continue;
		}
		if (r < 0)
			break;
		if (!vm) {
			(void)vm_last_end_remove(m->ends_dir, ends[i].name);
			continue;
		}
		vm->state = ends[i].state;
		vm->end_problem = TAKE_PTR(ends[i].problem);
		if (!vm->problem) /* a definition that does not load says so first */
			vm_set_problem(vm, vm->end_problem);
	}
	for (size_t i = 0; i < n; i++)
		vm_last_end_done(&ends[i]);
	free(ends);
	if (r == -ENOMEM)
		return log_error_errno(r, "Cannot read how the VMs last ended");
	if (r < 0)
		log_warning_errno(r, "Cannot read %s", m->ends_dir);
	return 0;
}

/* Partitions held for a VM that has no QEMU (the daemon died while starting it). */
static void release_orphans(VmManager *m)
{
	size_t n;
	const PartitionRecord *records = partition_engine_records(m->engine, &n);
	_cleanup_strv_ char **orphans = NULL;

	for (size_t i = 0; i < n; i++) {
		const char *holder = records[i].holder;
		if (strncmp(holder, "vm:", 3) != 0)
			continue;
		Vm *vm = vm_find(m, holder + 3);
		if (vm && strv_contains(vm->partitions, records[i].id))
			continue;
		if (strv_append(&orphans, records[i].id) < 0)
			return;
	}
	for (char **id = orphans; id && *id; id++) {
		log_notice("Releasing partition %s: its VM has no QEMU", *id);
		(void)partition_engine_destroy(m->engine, *id, NULL, NULL);
	}
}

static void autostart(VmManager *m)
{
	_cleanup_strv_ char **names = NULL;
	char marker[4096];
	size_t n;

	/* The runtime directory is a tmpfs: no marker means the first start since boot. */
	snprintf(marker, sizeof(marker), "%s/" MARKER_AUTOSTARTED, m->records_dir);
	if (access(marker, F_OK) == 0)
		return;
	if (write_file_atomic(m->records_dir, MARKER_AUTOSTARTED, "", 0, 0600) < 0)
		return;
	/* The table is read: the names first, as starts may change it. */
	void *const *items = vm_table_items(&m->vms, &n);
	for (size_t i = 0; i < n; i++) {
		const Vm *vm = items[i];
		if (vm->autostart && !vm_is_active(vm) && strv_append(&names, vm->name) < 0)
			return;
	}
	for (char **name = names; name && *name; name++) {
		log_info("Autostarting VM %s", *name);
		vm_manager_start(m, *name, NULL, NULL);
	}
}

int vm_manager_adopt(VmManager *m)
{
	VmRuntime *records = NULL;
	size_t n = 0;
	_cleanup_strv_ char **problems = NULL;

	/* Watched from before the first read: no change can fall between the two. */
	if (vm_dir_watch_poll(m->watch, m->config->vm_dir) > 0)
		m->reload_all = true;
	/* QEMU's user passes through it to its own directory below. */
	int r = mkdir_p_mode(m->records_dir, 0711);
	if (r < 0)
		return log_error_errno(r, "Cannot create %s", m->records_dir);
	r = vm_runtime_load_all(m->records_dir, &records, &n, &problems);
	for (char **p = problems; p && *p; p++)
		log_warning("VM records: %s", *p);
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = adopt_record(m, &records[i]);
	for (size_t i = 0; i < n; i++)
		vm_runtime_done(&records[i]);
	free(records);
	if (r < 0)
		return log_error_errno(r, "Cannot re-adopt the running VMs");
	r = restore_ends(m);
	if (r < 0)
		return r;
	/* Every definition, read once (those read above are not read again). */
	r = definitions_rescan(m, true);
	if (r == -ENOMEM)
		return log_error_errno(r, "Cannot read the VM definitions");
	if (r < 0)
		log_warning_errno(r, "Cannot read the VM definitions in %s", m->config->vm_dir);
	m->reload_all = r < 0;
	release_orphans(m);
	autostart(m);
	return 0;
}

/* ---- Watchers, the manager itself ---- */

int vm_manager_watch(VmManager *m, int (*callback)(const VmInfo *vm, void *userdata),
		     void (*drop)(void *userdata), void *userdata)
{
	if (ARRAY_RESERVE(m->watchers, m->allocated_watchers, m->n_watchers + 1) < 0)
		return -ENOMEM;
	m->watchers[m->n_watchers++] = (Watcher){ callback, drop, userdata };
	return 0;
}

int vm_manager_new(sd_event *event, PartitionEngine *engine, HostCache *host,
		   const DaemonConfig *config, VmManager **ret)
{
	VmManager *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->event = sd_event_ref(event);
	m->engine = engine;
	m->host = host;
	m->config = config;
	m->systemd_bus = (BusConnection){ .event = event, .kind = BUS_SYSTEMD_PRIVATE };
	m->system_bus = (BusConnection){ .event = event, .kind = BUS_SYSTEM };
	if (asprintf(&m->records_dir, "%s/vms", config->runtime_dir) < 0) {
		sd_event_unref(m->event);
		free(m);
		return -ENOMEM;
	}
	if (asprintf(&m->ends_dir, "%s/vm-states", config->runtime_dir) < 0) {
		free(m->records_dir);
		sd_event_unref(m->event);
		free(m);
		return -ENOMEM;
	}
	vm_table_init(&m->vms, offsetof(Vm, name));
	int r = sysfs_writer_new(event, &m->writer);
	if (r >= 0)
		r = vm_dir_watch_new(event, &m->watch);
	if (r < 0) {
		m->writer = sysfs_writer_free(m->writer);
		free(m->ends_dir);
		free(m->records_dir);
		sd_event_unref(m->event);
		free(m);
		return r;
	}
	*ret = m;
	return 0;
}

VmManager *vm_manager_free(VmManager *m)
{
	if (!m)
		return NULL;
	/* First: writes under way hear -ECANCELED while their VMs still exist. */
	m->writer = sysfs_writer_free(m->writer);
	store_abandon(m);
	for (size_t i = 0; i < m->n_watchers; i++)
		m->watchers[i].drop(m->watchers[i].userdata);
	free(m->watchers);
	m->watch = vm_dir_watch_free(m->watch);
	size_t n;
	void *const *items = vm_table_items(&m->vms, &n);
	for (size_t i = 0; i < n; i++) {
		Vm *vm = items[i];
		/* Whoever waits hears it now; what QEMU holds stays, for the next daemon. */
		static const char stopping[] =
			"libvfiod is stopping; a QEMU that runs goes on, and "
			"the next libvfiod takes it back.";
		vm->releasing = true; /* nothing may start a release any more */
		vm_start_abandon(vm, stopping);
		for (size_t k = 0; k < vm->n_stop_waiters; k++)
			vm_call_back(&vm->stop_waiters[k], vm, VM_FAIL_INTERNAL, stopping, NULL);
		vm->n_stop_waiters = 0;
		vm_free(vm);
	}
	vm_table_done(&m->vms);
	bus_connection_close(&m->systemd_bus);
	bus_connection_close(&m->system_bus);
	free(m->records_dir);
	free(m->ends_dir);
	sd_event_unref(m->event);
	free(m);
	return NULL;
}
