/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "fs_util.h"
#include "json_util.h"
#include "log.h"
#include "macro.h"
#include "process_spawn.h"
#include "qemu_cmdline.h"
#include "qemu_probe.h"
#include "qmp.h"
#include "strv.h"
#include "vm_placement.h"
#include "vm_resources.h"
#include "vm_runtime.h"
#include "vm_store.h"

/* QEMU has this long from exec to a QMP socket that answers. */
#define CONNECT_TIMEOUT_USEC (30 * USEC_PER_SEC)
/* Between attempts to connect: short, since the start's speed depends on it. */
#define CONNECT_RETRY_USEC (2 * USEC_PER_MSEC)
/* After quit, or after SIGTERM-less escalation, how long until SIGKILL. */
#define QUIT_GRACE_USEC (5 * USEC_PER_SEC)
/* The devices of one GPU entry: a passthrough GPU with its audio and more. */
#define MAX_DEVICES_PER_GPU 8
#define MARKER_AUTOSTARTED "autostarted"

static uint64_t now_usec(clockid_t clock)
{
	struct timespec ts;
	(void)clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

typedef struct Waiter {
	VmCallback callback;
	void *userdata;
} Waiter;

typedef struct Watcher {
	int (*callback)(const VmInfo *vm, void *userdata);
	void (*drop)(void *userdata);
	void *userdata;
} Watcher;

typedef struct Vm Vm;

struct Vm {
	VmManager *manager;
	char name[VM_NAME_MAX + 1];
	VmState state;
	char *problem;

	/* From the definition, as last read */
	char uuid[UUID_STRING_SIZE];
	bool autostart;
	char *owner;
	bool defined; /* a definition file exists */

	/* Start */
	VmDefinition definition; /* while starting */
	bool has_definition;
	Waiter start_waiter;
	bool start_pending;
	size_t next_gpu;
	int auto_mode; /* the mode tried for a `mode: auto` GPU */
	QemuGpuAssignment assignments[VM_MAX_GPUS];
	PciAddress devices[VM_MAX_GPUS][MAX_DEVICES_PER_GPU];
	size_t n_assignments;
	int *vcpu_cpus; /* host CPU of each vCPU when pinning */
	bool pin;
	char *log_path; /* QEMU's output, when it goes to a file */
	PartitionOutcome failed_partition; /* a start that failed on a partition */
	char *failure_message;
	VmFailure failure;

	/* While QEMU runs */
	pid_t pid;
	int pidfd;
	bool own_child; /* ours to reap (false when adopted from a previous daemon) */
	uint64_t start_time;
	uint64_t started_at_usec;
	sd_event_source *exit_source;
	sd_event_source *timer;
	uint64_t connect_deadline;
	Qmp *qmp;
	char *qmp_status;
	char **partitions;
	char **device_nodes;
	bool stop_requested;
	bool guest_shutdown;
	Waiter *stop_waiters;
	size_t n_stop_waiters, allocated_stop_waiters;
	bool releasing;
	VmState end_state; /* stopped or crashed: what the VM becomes once released */
};

struct VmManager {
	sd_event *event;
	PartitionEngine *engine;
	HostService *host;
	const DaemonConfig *config;
	char *records_dir; /* RUNTIME/vms */
	Vm **vms;
	size_t n_vms, allocated_vms;
	Watcher *watchers;
	size_t n_watchers, allocated_watchers;
};

static const char *const state_names[_VM_STATE_MAX] = {
	[VM_STATE_DEFINED] = "defined", [VM_STATE_STARTING] = "starting",
	[VM_STATE_RUNNING] = "running", [VM_STATE_PAUSED] = "paused",
	[VM_STATE_STOPPING] = "stopping", [VM_STATE_STOPPED] = "stopped",
	[VM_STATE_CRASHED] = "crashed",
};

const char *vm_state_to_string(VmState state)
{
	return state >= 0 && state < _VM_STATE_MAX ? state_names[state] : NULL;
}

static bool vm_is_active(const Vm *vm)
{
	return vm->state == VM_STATE_STARTING || vm->state == VM_STATE_RUNNING ||
	       vm->state == VM_STATE_PAUSED || vm->state == VM_STATE_STOPPING;
}

static void vm_log(const Vm *vm, int level, int error, const char *format, ...)
	_printf_(4, 5);
static void vm_log(const Vm *vm, int level, int error, const char *format, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, format);
	(void)vsnprintf(text, sizeof(text), format, ap);
	va_end(ap);
	LogField fields[] = { { "LIBVFIO_VM", vm->name } };
	log_full_errno_fields(level, error, fields, 1, "%s", text);
}

/* ---- Info and notifications ---- */

static void vm_info(const Vm *vm, VmInfo *ret)
{
	*ret = (VmInfo){
		.name = vm->name,
		.uuid = vm->uuid,
		.state = vm->state,
		.pid = vm->pid,
		.started_at_usec = vm->pid > 0 ? vm->started_at_usec : 0,
		.partitions = vm->partitions,
		.qmp_status = vm->qmp ? vm->qmp_status : NULL,
		.autostart = vm->autostart,
		.owner = vm->owner,
		.problem = vm->problem,
	};
}

static void notify_watchers(VmManager *m, const Vm *vm)
{
	VmInfo info;
	vm_info(vm, &info);
	for (size_t i = 0; i < m->n_watchers;) {
		if (m->watchers[i].callback(&info, m->watchers[i].userdata) >= 0) {
			i++;
			continue;
		}
		m->watchers[i].drop(m->watchers[i].userdata);
		memmove(&m->watchers[i], &m->watchers[i + 1],
			(m->n_watchers - i - 1) * sizeof(Watcher));
		m->n_watchers--;
	}
}

static void set_state(Vm *vm, VmState state)
{
	if (vm->state == state)
		return;
	vm->state = state;
	vm_log(vm, LOG_INFO, 0, "VM %s is %s", vm->name, vm_state_to_string(state));
	notify_watchers(vm->manager, vm);
}

static void set_problem(Vm *vm, const char *problem)
{
	free(vm->problem);
	vm->problem = problem ? strdup(problem) : NULL;
}

static void call_back(const Waiter *w, const Vm *vm, VmFailure failure, const char *message,
		      const PartitionOutcome *partition)
{
	VmInfo info;
	if (!w->callback)
		return;
	if (vm)
		vm_info(vm, &info);
	VmOutcome outcome = {
		.failure = failure,
		.message = message,
		.partition = partition,
		.vm = vm ? &info : NULL,
		.final = true,
	};
	w->callback(&outcome, w->userdata);
}

_printf_(4, 5) static void fail_now(VmCallback callback, void *userdata, VmFailure failure,
				    const char *format, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, format);
	(void)vsnprintf(text, sizeof(text), format, ap);
	va_end(ap);
	Waiter w = { callback, userdata };
	call_back(&w, NULL, failure, text, NULL);
}

static void progress(Vm *vm, const char *phase)
{
	VmInfo info;
	if (!vm->start_pending || !vm->start_waiter.callback)
		return;
	vm_info(vm, &info);
	VmOutcome outcome = { .vm = &info, .phase = phase };
	vm->start_waiter.callback(&outcome, vm->start_waiter.userdata);
}

/* ---- The VM table ---- */

static Vm *vm_find(VmManager *m, const char *name)
{
	for (size_t i = 0; i < m->n_vms; i++)
		if (strcmp(m->vms[i]->name, name) == 0)
			return m->vms[i];
	return NULL;
}

static Vm *vm_free(Vm *vm)
{
	if (!vm)
		return NULL;
	qmp_free(vm->qmp);
	sd_event_source_disable_unref(vm->exit_source);
	sd_event_source_disable_unref(vm->timer);
	if (vm->pidfd >= 0)
		close(vm->pidfd);
	if (vm->has_definition)
		vm_definition_done(&vm->definition);
	free(vm->problem);
	free(vm->owner);
	free(vm->vcpu_cpus);
	free(vm->log_path);
	free(vm->failure_message);
	free((char *)vm->failed_partition.message);
	free(vm->qmp_status);
	strv_free(vm->partitions);
	strv_free(vm->device_nodes);
	free(vm->stop_waiters);
	free(vm);
	return NULL;
}

static int vm_add(VmManager *m, const char *name, Vm **ret)
{
	Vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->manager = m;
	vm->pidfd = -1;
	vm->state = VM_STATE_DEFINED;
	snprintf(vm->name, sizeof(vm->name), "%s", name);
	if (ARRAY_RESERVE(m->vms, m->allocated_vms, m->n_vms + 1) < 0) {
		vm_free(vm);
		return -ENOMEM;
	}
	m->vms[m->n_vms++] = vm;
	*ret = vm;
	return 0;
}

static void vm_remove(VmManager *m, Vm *vm)
{
	for (size_t i = 0; i < m->n_vms; i++)
		if (m->vms[i] == vm) {
			memmove(&m->vms[i], &m->vms[i + 1], (m->n_vms - i - 1) * sizeof(Vm *));
			m->n_vms--;
			break;
		}
	vm_free(vm);
}

/* Keeps what List and Get show of the definition. */
static int vm_take_summary(Vm *vm, const VmDefinition *definition)
{
	char *owner = definition->owner ? strdup(definition->owner) : NULL;
	if (definition->owner && !owner)
		return -ENOMEM;
	memcpy(vm->uuid, definition->uuid, sizeof(vm->uuid));
	vm->autostart = definition->autostart;
	free(vm->owner);
	vm->owner = owner;
	vm->defined = true;
	return 0;
}

/*
 * Re-reads NAME's definition into the table. Returns the VM (NULL when it
 * neither has a definition nor runs), *ret_error for a definition that does
 * not load (the VM is still listed, with the problem).
 */
static int vm_refresh(VmManager *m, const char *name, Vm **ret)
{
	VmDefinition definition;
	_cleanup_free_ char *error = NULL;
	Vm *vm = vm_find(m, name);

	int r = vm_store_load(m->config->vm_dir, name, &definition, &error);
	if (r == -ENOENT) {
		if (vm && !vm_is_active(vm)) {
			vm_remove(m, vm);
			vm = NULL;
		} else if (vm)
			vm->defined = false;
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
		vm->defined = true;
		if (!vm_is_active(vm))
			set_problem(vm, error);
	} else if (r == 0) {
		r = vm_take_summary(vm, &definition);
		vm_definition_done(&definition);
	}
	*ret = vm;
	return r == -EINVAL ? 0 : r;
}

static int compare_vms(const void *a, const void *b)
{
	return strcmp(((const VmInfo *)a)->name, ((const VmInfo *)b)->name);
}

int vm_manager_list(VmManager *m, VmInfo **ret, size_t *ret_n)
{
	_cleanup_strv_ char **names = NULL;
	int r = vm_store_list(m->config->vm_dir, &names);
	if (r < 0)
		return r;
	for (char **name = names; name && *name; name++) {
		Vm *vm;
		r = vm_refresh(m, *name, &vm);
		if (r < 0)
			return r;
	}
	/* Those whose file went away meanwhile: gone unless they run. */
	for (size_t i = 0; i < m->n_vms;) {
		Vm *vm = m->vms[i];
		if (!strv_contains(names, vm->name) && !vm_is_active(vm)) {
			vm_remove(m, vm);
			continue;
		}
		i++;
	}
	VmInfo *list = calloc(m->n_vms > 0 ? m->n_vms : 1, sizeof(VmInfo));
	if (!list)
		return -ENOMEM;
	for (size_t i = 0; i < m->n_vms; i++)
		vm_info(m->vms[i], &list[i]);
	if (m->n_vms > 0)
		qsort(list, m->n_vms, sizeof(VmInfo), compare_vms);
	*ret = list;
	*ret_n = m->n_vms;
	return 0;
}

/* Finds NAME for an operation, or calls back NoSuchVM. */
static Vm *vm_lookup(VmManager *m, const char *name, VmCallback callback, void *userdata)
{
	Vm *vm = NULL;
	int r = vm_name_is_valid(name) ? vm_refresh(m, name, &vm) : 0;
	if (r < 0) {
		fail_now(callback, userdata, VM_FAIL_INTERNAL, "Cannot read the VM %s: %s.", name,
			 strerror(-r));
		return NULL;
	}
	if (!vm)
		fail_now(callback, userdata, VM_FAIL_NO_SUCH_VM,
			 "There is no VM named '%s'; 'vfioctl list' shows the VMs, 'vfioctl "
			 "define FILE' adds one.",
			 name);
	return vm;
}

void vm_manager_get(VmManager *m, const char *name, VmCallback callback, void *userdata)
{
	Vm *vm = vm_lookup(m, name, callback, userdata);
	if (vm) {
		Waiter w = { callback, userdata };
		call_back(&w, vm, VM_OK, NULL, NULL);
	}
}

static void wrong_state(Vm *vm, VmCallback callback, void *userdata, const char *what)
{
	char text[512];
	snprintf(text, sizeof(text), "%s is %s: %s.", vm->name, vm_state_to_string(vm->state),
		 what);
	Waiter w = { callback, userdata };
	call_back(&w, vm, VM_FAIL_WRONG_STATE, text, NULL);
}

/* ---- Define, Undefine ---- */

void vm_manager_define(VmManager *m, const char *text, size_t size, VmCallback callback,
		       void *userdata)
{
	VmDefinition definition;
	_cleanup_free_ char *error = NULL;
	Vm *vm;

	int r = vm_store_define(m->config->vm_dir, text, size, &definition, &error);
	if (r == -EINVAL || r == -EEXIST) {
		fail_now(callback, userdata,
			 r == -EINVAL ? VM_FAIL_INVALID_DEFINITION : VM_FAIL_EXISTS, "%s", error);
		return;
	}
	if (r < 0) {
		fail_now(callback, userdata, VM_FAIL_INTERNAL, "Cannot store the definition in %s: %s.",
			 m->config->vm_dir, strerror(-r));
		return;
	}
	vm = vm_find(m, definition.name);
	r = vm ? 0 : vm_add(m, definition.name, &vm);
	if (r >= 0)
		r = vm_take_summary(vm, &definition);
	if (r >= 0 && !vm_is_active(vm))
		set_problem(vm, NULL);
	LogField fields[] = { { "LIBVFIO_VM", definition.name } };
	log_full_errno_fields(LOG_INFO, 0, fields, 1, "VM %s defined (uuid %s)", definition.name,
			      definition.uuid);
	vm_definition_done(&definition);
	if (r < 0) {
		fail_now(callback, userdata, VM_FAIL_INTERNAL, "The daemon ran out of memory.");
		return;
	}
	Waiter w = { callback, userdata };
	call_back(&w, vm, VM_OK, NULL, NULL);
	notify_watchers(m, vm);
}

void vm_manager_undefine(VmManager *m, const char *name, VmCallback callback, void *userdata)
{
	Vm *vm = vm_lookup(m, name, callback, userdata);
	if (!vm)
		return;
	if (vm_is_active(vm)) {
		wrong_state(vm, callback, userdata, "stop it first (vfioctl stop)");
		return;
	}
	int r = vm_store_undefine(m->config->vm_dir, name);
	if (r < 0 && r != -ENOENT) {
		fail_now(callback, userdata, VM_FAIL_INTERNAL, "Cannot remove %s/%s.yaml: %s.",
			 m->config->vm_dir, name, strerror(-r));
		return;
	}
	vm_log(vm, LOG_INFO, 0, "VM %s undefined", name);
	vm->defined = false;
	vm->state = VM_STATE_STOPPED;
	notify_watchers(m, vm);
	vm_remove(m, vm);
	Waiter w = { callback, userdata };
	call_back(&w, NULL, VM_OK, NULL, NULL);
}

/* ---- The end of QEMU: release everything, then tell everyone ---- */

static void release_next(Vm *vm);

static void finish_release(Vm *vm)
{
	VmManager *m = vm->manager;
	char path[4096];

	for (char **node = vm->device_nodes; node && *node; node++)
		device_node_return(*node);
	vm->device_nodes = strv_free(vm->device_nodes);
	vm->partitions = strv_free(vm->partitions);
	(void)vm_runtime_remove(m->records_dir, vm->name);
	snprintf(path, sizeof(path), "%s/%s", m->records_dir, vm->name);
	vm_private_dir_remove(path);
	vm->releasing = false;
	vm->pid = 0;
	vm->stop_requested = false;
	vm->guest_shutdown = false;
	if (vm->has_definition) {
		vm_definition_done(&vm->definition);
		vm->has_definition = false;
	}
	vm->n_assignments = 0;
	vm->next_gpu = 0;

	/* Who waited: a failed start, then those who asked for the stop. */
	if (vm->start_pending) {
		vm->start_pending = false;
		set_state(vm, VM_STATE_STOPPED);
		call_back(&vm->start_waiter, vm, vm->failure,
			  vm->failure_message ? vm->failure_message : "QEMU ended before the guest ran.",
			  vm->failure == VM_FAIL_PARTITION ? &vm->failed_partition : NULL);
	} else
		set_state(vm, vm->end_state);
	vm->failure = VM_OK;
	vm->failure_message = mfree(vm->failure_message);
	vm->failed_partition.message = mfree((char *)vm->failed_partition.message);

	Waiter *waiters = TAKE_PTR(vm->stop_waiters);
	size_t n = vm->n_stop_waiters;
	vm->n_stop_waiters = vm->allocated_stop_waiters = 0;
	for (size_t i = 0; i < n; i++)
		call_back(&waiters[i], vm, VM_OK, NULL, NULL);
	free(waiters);
}

static void on_partition_released(const PartitionOutcome *outcome, void *userdata)
{
	Vm *vm = userdata;
	if (outcome->result < 0)
		vm_log(vm, LOG_WARNING, outcome->result, "Cannot release a partition of %s: %s",
		       vm->name, outcome->message ? outcome->message : "");
	release_next(vm);
}

/* Gives back the partitions one by one (the engine serializes them anyway), newest first. */
static void release_next(Vm *vm)
{
	size_t n = strv_length(vm->partitions);
	while (n > 0) {
		char *id = vm->partitions[n - 1];
		vm->partitions[n - 1] = NULL;
		int r = partition_engine_destroy(vm->manager->engine, id, on_partition_released,
						 vm);
		if (r >= 0) {
			free(id);
			return;
		}
		if (r != -ENOENT)
			vm_log(vm, LOG_WARNING, r, "Cannot release partition %s of %s", id,
			       vm->name);
		free(id);
		n--;
	}
	finish_release(vm);
}

static void release_all(Vm *vm, VmState end_state)
{
	vm->releasing = true;
	vm->end_state = end_state;
	vm->timer = sd_event_source_disable_unref(vm->timer);
	vm->qmp = qmp_free(vm->qmp);
	vm->qmp_status = mfree(vm->qmp_status);
	vm->exit_source = sd_event_source_disable_unref(vm->exit_source);
	if (vm->pidfd >= 0) {
		close(vm->pidfd);
		vm->pidfd = -1;
	}
	release_next(vm);
}

/* A start that cannot go on: whatever was taken is given back, then the caller hears why. */
static void start_failed(Vm *vm, VmFailure failure, const char *message,
			 const PartitionOutcome *partition)
{
	/* Only the first reason counts; the rest follow from it (a QMP reply cut off...). */
	if (vm->releasing || vm->failure != VM_OK)
		return;
	vm_log(vm, LOG_WARNING, 0, "VM %s did not start: %s", vm->name, message);
	set_problem(vm, message);
	vm->failure = failure;
	free(vm->failure_message);
	vm->failure_message = strdup(message);
	if (partition) {
		vm->failed_partition = *partition;
		vm->failed_partition.record = NULL;
		vm->failed_partition.message = partition->message ? strdup(partition->message) : NULL;
	}
	if (vm->pid > 0 && vm->pidfd >= 0) {
		/* QEMU was spawned: its end is awaited, and the release follows it. */
		vm->stop_requested = true;
		(void)pidfd_send_signal(vm->pidfd, SIGKILL, NULL, 0);
		return;
	}
	release_all(vm, VM_STATE_STOPPED);
}

_printf_(3, 4) static void start_failedf(Vm *vm, VmFailure failure, const char *format, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, format);
	(void)vsnprintf(text, sizeof(text), format, ap);
	va_end(ap);
	start_failed(vm, failure, text, NULL);
}

/* How QEMU ended, as a sentence; and whether that was a clean end. */
static bool describe_exit(Vm *vm, const siginfo_t *info, bool known, char *buf, size_t size)
{
	if (!known) {
		snprintf(buf, size, "QEMU ended (its status is unknown: it was adopted)");
		return vm->guest_shutdown;
	}
	if (info->si_code == CLD_EXITED) {
		snprintf(buf, size, "QEMU exited with status %d", info->si_status);
		return info->si_status == 0;
	}
	snprintf(buf, size, "QEMU was killed by signal %d (%s)", info->si_status,
		 sigabbrev_np(info->si_status) ? sigabbrev_np(info->si_status) : "?");
	return false;
}

static int on_qemu_exit(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	Vm *vm = userdata;
	siginfo_t info = { 0 };
	char how[256], last[320] = "";
	bool crashed = false;
	(void)source;
	(void)fd;
	(void)revents;

	bool known = vm->own_child && waitid(P_PIDFD, (id_t)vm->pidfd, &info, WEXITED) == 0;
	bool clean = describe_exit(vm, &info, known, how, sizeof(how));
	if (vm->log_path)
		log_file_last_line(vm->log_path, last, sizeof(last));

	if (vm->start_pending && vm->failure == VM_OK) {
		char text[1024];
		snprintf(text, sizeof(text), "%s before the guest ran%s%s%s", how,
			 last[0] ? ": " : "", last,
			 last[0] ? "" : "; see its log (journalctl -t qemu-NAME)");
		vm->failure = VM_FAIL_START;
		vm->failure_message = strdup(text);
		set_problem(vm, text);
		vm_log(vm, LOG_WARNING, 0, "VM %s: %s", vm->name, text);
	} else if (vm->stop_requested || clean) {
		vm_log(vm, LOG_INFO, 0, "VM %s stopped: %s", vm->name, how);
		set_problem(vm, NULL);
	} else {
		char text[1024];
		snprintf(text, sizeof(text), "%s%s%s", how, last[0] ? ": " : "", last);
		vm_log(vm, LOG_ERR, 0, "VM %s crashed: %s", vm->name, text);
		set_problem(vm, text);
		crashed = true;
	}
	release_all(vm, crashed ? VM_STATE_CRASHED : VM_STATE_STOPPED);
	return 0;
}

/* ---- Start ---- */

static void allocate_next(Vm *vm);
static void spawn_qemu(Vm *vm);
static void connect_qmp(Vm *vm);

static const PartitionModeKind auto_order[] = {
	PARTITION_MDEV,
	PARTITION_SRIOV,
	PARTITION_PASSTHROUGH,
};

static bool worth_next_mode(AllocError error)
{
	return error == ALLOC_MODE_UNSUPPORTED || error == ALLOC_NONE_FREE ||
	       error == ALLOC_UNKNOWN_TYPE || error == ALLOC_HELD;
}

/* What the partition record says QEMU gets: the mdev, the VF, or the GPU and its group. */
static void assign(Vm *vm, const VmGpu *gpu, const PartitionRecord *record)
{
	QemuGpuAssignment *a = &vm->assignments[vm->n_assignments];
	PciAddress *devices = vm->devices[vm->n_assignments];
	size_t n = 0;

	*a = (QemuGpuAssignment){ .gpu = gpu, .mode = record->mode, .devices = devices };
	if (record->mode == PARTITION_PASSTHROUGH)
		devices[n++] = record->gpu;
	for (size_t i = 0; i < record->n_steps; i++) {
		const RecordStep *s = &record->steps[i];
		if (s->kind == STEP_MDEV_CREATE && s->uuid)
			snprintf(a->mdev_uuid, sizeof(a->mdev_uuid), "%s", s->uuid);
		if (s->kind == STEP_BIND_VFIO && n < MAX_DEVICES_PER_GPU &&
		    (record->mode != PARTITION_PASSTHROUGH ||
		     pci_address_compare(&s->device, &record->gpu) != 0))
			devices[n++] = s->device;
	}
	if (record->mode == PARTITION_MDEV)
		devices[n++] = record->gpu; /* for its NUMA node */
	a->n_devices = record->mode == PARTITION_MDEV ? 0 : n;
	vm->n_assignments++;
}

static void on_partition_created(const PartitionOutcome *outcome, void *userdata)
{
	Vm *vm = userdata;
	const VmGpu *gpu = &vm->definition.gpus[vm->next_gpu];

	if (outcome->result < 0) {
		if (gpu->mode == VM_GPU_AUTO && worth_next_mode(outcome->error) &&
		    (size_t)vm->auto_mode + 1 < ELEMENTSOF(auto_order)) {
			vm->auto_mode++;
			allocate_next(vm);
			return;
		}
		start_failed(vm, VM_FAIL_PARTITION,
			     outcome->message ? outcome->message : "No partition fits the GPU entry.",
			     outcome);
		return;
	}
	if (strv_append(&vm->partitions, outcome->record->id) < 0) {
		start_failed(vm, VM_FAIL_INTERNAL, "The daemon ran out of memory.", NULL);
		return;
	}
	assign(vm, gpu, outcome->record);
	vm->next_gpu++;
	vm->auto_mode = 0;
	allocate_next(vm);
}

static PartitionModeKind gpu_mode(const VmGpu *gpu, int auto_mode)
{
	switch (gpu->mode) {
	case VM_GPU_MDEV:
		return PARTITION_MDEV;
	case VM_GPU_SRIOV:
		return PARTITION_SRIOV;
	case VM_GPU_PASSTHROUGH:
		return PARTITION_PASSTHROUGH;
	default:
		return auto_order[auto_mode];
	}
}

static void allocate_next(Vm *vm)
{
	const VmDefinition *d = &vm->definition;
	char holder[VM_NAME_MAX + 4];

	while (vm->next_gpu < d->n_gpus && d->gpus[vm->next_gpu].mode == VM_GPU_NONE)
		vm->next_gpu++;
	if (vm->next_gpu >= d->n_gpus) {
		spawn_qemu(vm);
		return;
	}
	const VmGpu *gpu = &d->gpus[vm->next_gpu];
	PartitionRequest request = {
		.mode = gpu_mode(gpu, vm->auto_mode),
		.has_address = gpu->has_address,
		.address = gpu->address,
		.vendor_id = gpu->vendor_id,
		.device_id = gpu->device_id,
		.type = gpu->type,
		.min_framebuffer_mib = gpu->min_framebuffer >> 20,
		.max_instances = gpu->max_instances,
		.preferred_node = d->numa >= 0 ? d->numa : -1,
	};
	snprintf(holder, sizeof(holder), "vm:%s", vm->name);
	int r = partition_engine_create(vm->manager->engine, &request, holder,
					on_partition_created, vm);
	if (r < 0)
		start_failedf(vm, VM_FAIL_INTERNAL, "Cannot ask for a partition: %s.", strerror(-r));
}

void vm_manager_start(VmManager *m, const char *name, VmCallback callback, void *userdata)
{
	_cleanup_free_ char *error = NULL;
	Vm *vm = vm_lookup(m, name, callback, userdata);
	if (!vm)
		return;
	if (vm_is_active(vm)) {
		wrong_state(vm, callback, userdata, "it is already started");
		return;
	}
	int r = vm_store_load(m->config->vm_dir, name, &vm->definition, &error);
	if (r < 0) {
		if (r == -ENOENT)
			fail_now(callback, userdata, VM_FAIL_NO_SUCH_VM,
				 "%s has no definition any more; define it again.", name);
		else if (r == -EINVAL)
			fail_now(callback, userdata, VM_FAIL_INVALID_DEFINITION, "%s", error);
		else
			fail_now(callback, userdata, VM_FAIL_INTERNAL, "Cannot read %s: %s.", name,
				 strerror(-r));
		return;
	}
	vm->has_definition = true;
	if (vm_take_summary(vm, &vm->definition) < 0) {
		vm_definition_done(&vm->definition);
		vm->has_definition = false;
		fail_now(callback, userdata, VM_FAIL_INTERNAL, "The daemon ran out of memory.");
		return;
	}
	vm->start_waiter = (Waiter){ callback, userdata };
	vm->start_pending = true;
	vm->failure = VM_OK;
	vm->next_gpu = 0;
	vm->auto_mode = 0;
	vm->n_assignments = 0;
	set_problem(vm, NULL);
	set_state(vm, VM_STATE_STARTING);
	progress(vm, "allocating");
	allocate_next(vm);
}

/* ---- Spawning ---- */

static int accel_choice(const VmManager *m, const HostFacts *facts, QemuAccel *ret)
{
	if (strcmp(m->config->accel, "tcg") == 0)
		*ret = QEMU_ACCEL_TCG;
	else if (strcmp(m->config->accel, "kvm") == 0 || facts->kvm_usable)
		*ret = QEMU_ACCEL_KVM;
	else
		*ret = QEMU_ACCEL_TCG;
	return 0;
}

/* Lends QEMU's user the /dev/vfio node of every assigned device. */
static int lend_device_nodes(Vm *vm, const QemuUser *user, char **ret_message)
{
	const SysfsRoot *root = host_service_root(vm->manager->host);
	for (size_t i = 0; i < vm->n_assignments; i++) {
		const QemuGpuAssignment *a = &vm->assignments[i];
		size_t n = a->mode == PARTITION_MDEV ? 1 : a->n_devices;
		for (size_t k = 0; k < n; k++) {
			_cleanup_free_ char *node = NULL;
			int r = vfio_group_node(root, a->mode == PARTITION_MDEV ? NULL : &a->devices[k],
						a->mode == PARTITION_MDEV ? a->mdev_uuid : NULL, &node,
						ret_message);
			if (r < 0)
				return r;
			if (strv_contains(vm->device_nodes, node))
				continue;
			/* Written down first, so that it is given back whatever happens next. */
			if (strv_append(&vm->device_nodes, node) < 0)
				return -ENOMEM;
			r = device_node_lend(node, user, ret_message);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int placement(Vm *vm, const HostModel *model, int *ret_node, cpu_set_t *ret_affinity,
		     bool *ret_has_affinity, char **ret_message)
{
	PciAddress devices[VM_MAX_GPUS * MAX_DEVICES_PER_GPU];
	size_t n = 0;
	cpu_set_t host_cpus, node_cpus;
	bool has_node_cpus = false;

	for (size_t i = 0; i < vm->n_assignments; i++) {
		const QemuGpuAssignment *a = &vm->assignments[i];
		if (a->mode == PARTITION_MDEV)
			devices[n++] = vm->devices[i][0];
		for (size_t k = 0; k < a->n_devices; k++)
			devices[n++] = a->devices[k];
	}
	int node = vm_placement_node(&vm->definition, model, devices, n);
	if (sched_getaffinity(0, sizeof(host_cpus), &host_cpus) < 0)
		CPU_ZERO(&host_cpus);
	for (size_t i = 0; node >= 0 && i < model->n_nodes; i++)
		if (model->nodes[i].id == node && model->nodes[i].cpus &&
		    cpulist_parse(model->nodes[i].cpus, &node_cpus) >= 0) {
			CPU_AND(&node_cpus, &node_cpus, &host_cpus);
			has_node_cpus = CPU_COUNT(&node_cpus) > 0;
		}
	if (node >= 0 && !has_node_cpus && vm->definition.numa >= 0)
		return asprintf(ret_message,
				"numa: node %d has no CPUs this daemon may use; choose another "
				"node or 'numa: auto'.",
				node) < 0
			       ? -ENOMEM
			       : -EINVAL;
	if (!has_node_cpus)
		node = vm->definition.numa >= 0 ? node : -1;

	unsigned n_vcpus = vm_definition_cpus(&vm->definition);
	vm->vcpu_cpus = calloc(n_vcpus, sizeof(int));
	if (!vm->vcpu_cpus)
		return -ENOMEM;
	int r = vm_placement_vcpus(&vm->definition, has_node_cpus ? &node_cpus : NULL, &host_cpus,
				   vm->vcpu_cpus);
	if (r < 0)
		return asprintf(ret_message,
				"cpu-pinning: a listed host CPU is not one this daemon may use; "
				"'vfioctl topology' lists them.") < 0
			       ? -ENOMEM
			       : -EINVAL;
	vm->pin = r > 0;
	*ret_node = node;
	*ret_has_affinity = has_node_cpus;
	if (has_node_cpus)
		*ret_affinity = node_cpus;
	return 0;
}

static int save_runtime(Vm *vm)
{
	VmRuntime runtime = {
		.pid = vm->pid,
		.start_time = vm->start_time,
		.started_at_usec = vm->started_at_usec,
		.partitions = vm->partitions,
		.device_nodes = vm->device_nodes,
	};
	snprintf(runtime.name, sizeof(runtime.name), "%s", vm->name);
	return vm_runtime_save(vm->manager->records_dir, &runtime);
}

_printf_(3, 4) static int failf(char **ret_message, int error, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	if (vasprintf(ret_message, format, ap) < 0)
		*ret_message = NULL;
	va_end(ap);
	return *ret_message ? error : -ENOMEM;
}

/* What the definition asks for that this daemon cannot give yet: said before anything is made. */
static int refuse_unsupported(const VmDefinition *d, char **ret_message)
{
	if (d->tpm)
		return failf(ret_message, -EOPNOTSUPP,
			     "tpm: this libvfiod cannot run swtpm yet; remove 'tpm: true' for now.");
	if (d->network == VM_NETWORK_BRIDGE)
		return failf(ret_message, -EOPNOTSUPP,
			     "network: bridge %s needs a tap device, which this libvfiod cannot "
			     "make yet; use 'network: user' for now.",
			     d->bridge);
	if (d->audio != VM_AUDIO_NONE)
		return failf(ret_message, -EOPNOTSUPP,
			     "audio: reaching the owner's sound server is not done yet; use "
			     "'audio: none' for now.");
	return 0;
}

static char *find_qemu(const char *configured)
{
	char *binary = configured[0] == '/'
			       ? strdup(configured)
			       : qemu_find_in_path(configured, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	if (binary && access(binary, X_OK) < 0)
		binary = mfree(binary);
	return binary;
}

/* The Looking Glass shared memory: the kvmfr device when loaded, else a file in /dev/shm. */
static char *looking_glass_path(const VmManager *m, const char *name, bool *ret_kvmfr)
{
	char kvmfr[4096], *path = NULL;
	if (sysfs_path(host_service_root(m->host), "dev/kvmfr0", kvmfr, sizeof(kvmfr)) >= 0 &&
	    access(kvmfr, F_OK) == 0) {
		*ret_kvmfr = true;
		return strdup(kvmfr);
	}
	*ret_kvmfr = false;
	return asprintf(&path, "/dev/shm/looking-glass-%s", name) < 0 ? NULL : path;
}

/* Everything before exec: directories, firmware, devices, argv, log. Then the spawn itself. */
static int prepare_and_spawn(Vm *vm, char **ret_message)
{
	VmManager *m = vm->manager;
	const VmDefinition *d = &vm->definition;
	const HostModel *model;
	QemuUser user;
	char dir[4096], state_dir[4096], qmp[4200], vnc[4200], vars[4200], identifier[96];
	_cleanup_free_ char *binary = NULL, *vars_template = NULL, *looking_glass = NULL;
	_cleanup_strv_ char **argv = NULL;
	cpu_set_t affinity;
	bool has_affinity = false, to_file = false;
	int node = -1;

	int r = refuse_unsupported(d, ret_message);
	if (r < 0)
		return r;
	r = host_service_model(m->host, vm->n_assignments > 0, &model);
	if (r < 0)
		return failf(ret_message, r, "Cannot read the host: %s.", strerror(-r));
	binary = find_qemu(m->config->qemu_binary);
	if (!binary)
		return failf(ret_message, -ENOENT,
			     "QEMU (%s) was not found; install it (apt install qemu-system-x86) or "
			     "set qemu-binary in libvfiod.yaml.",
			     m->config->qemu_binary);
	r = qemu_user_lookup(m->config->qemu_user, &user, ret_message);
	if (r < 0)
		return r;
	if (user.is_root)
		vm_log(vm, LOG_WARNING, 0,
		       "VM %s: QEMU runs as root (vms.qemu-user: %s); a guest that escapes QEMU "
		       "owns the host",
		       vm->name, m->config->qemu_user);

	snprintf(dir, sizeof(dir), "%s/%s", m->records_dir, vm->name);
	snprintf(state_dir, sizeof(state_dir), "%s/vms/%s", m->config->state_dir, vm->name);
	snprintf(qmp, sizeof(qmp), "%s/qmp.sock", dir);
	snprintf(vnc, sizeof(vnc), "%s/vnc.sock", dir);
	snprintf(vars, sizeof(vars), "%s/OVMF_VARS.fd", state_dir);
	if (strlen(vnc) >= 108) /* sun_path */
		return failf(ret_message, -ENAMETOOLONG,
			     "The socket path %s is too long for a socket; use a shorter "
			     "runtime-dir.",
			     vnc);
	r = vm_private_dir(dir, &user, ret_message);
	if (r >= 0)
		r = vm_private_dir(state_dir, &user, ret_message);
	if (r < 0)
		return r;

	QemuHostFacts facts = {
		.qmp_socket = qmp,
		.vnc_socket = vnc,
		.tap_fd = -1,
		.numa_node = -1,
	};
	(void)accel_choice(m, &model->facts, &facts.accel);
	if (d->firmware == VM_FIRMWARE_UEFI) {
		r = ovmf_choose(&model->facts, d->secure_boot, &facts.ovmf_code, &vars_template,
				ret_message);
		if (r >= 0)
			r = ovmf_vars_copy(vars_template, vars, &user, ret_message);
		if (r < 0)
			return r;
		facts.ovmf_vars = vars;
	}
	if (d->looking_glass) {
		looking_glass = looking_glass_path(m, vm->name, &facts.looking_glass_kvmfr);
		if (!looking_glass)
			return -ENOMEM;
		facts.looking_glass_path = looking_glass;
	}
	r = placement(vm, model, &node, &affinity, &has_affinity, ret_message);
	if (r < 0)
		return r;
	facts.numa_node = node;
	r = lend_device_nodes(vm, &user, ret_message);
	if (r < 0)
		return r;
	r = qemu_cmdline_build(binary, d, vm->assignments, vm->n_assignments, &facts, &argv,
			       ret_message);
	if (r < 0)
		return r;

	snprintf(identifier, sizeof(identifier), "qemu-%s", vm->name);
	free(vm->log_path);
	if (asprintf(&vm->log_path, "%s/qemu.log", state_dir) < 0) {
		vm->log_path = NULL;
		return -ENOMEM;
	}
	_cleanup_close_ int output = qemu_output_fd(identifier, vm->log_path, &user, &to_file);
	if (!to_file)
		vm->log_path = mfree(vm->log_path);
	if (output < 0)
		return failf(ret_message, output, "Cannot open QEMU's log %s: %s.", vm->log_path,
			     strerror(-output));
	static char *const environment[] = {
		(char *)"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		(char *)"HOME=/",
		(char *)"LANG=C.UTF-8",
		NULL,
	};
	SpawnRequest request = {
		.argv = argv,
		.envp = environment,
		.stdout_fd = output,
		.stderr_fd = output,
		.drop_privileges = !user.is_root,
		.uid = user.uid,
		.gid = user.gid,
		.affinity = has_affinity ? &affinity : NULL,
	};
	const char *stage;
	uint64_t started_at = now_usec(CLOCK_REALTIME);
	r = process_spawn(&request, &vm->pid, &vm->pidfd, &stage);
	if (r < 0) {
		vm->pid = 0;
		return failf(ret_message, r, "Cannot start QEMU (%s failed: %s).", stage,
			     strerror(-r));
	}
	vm->own_child = true;
	vm->started_at_usec = started_at;
	(void)process_start_time("/proc", vm->pid, &vm->start_time);
	vm_log(vm, LOG_INFO, 0, "VM %s: QEMU started as pid %d (%s)", vm->name, (int)vm->pid,
	       qemu_accel_to_string(facts.accel));

	r = sd_event_add_io(m->event, &vm->exit_source, vm->pidfd, EPOLLIN, on_qemu_exit, vm);
	if (r < 0)
		return failf(ret_message, r, "Cannot watch QEMU: %s.", strerror(-r));
	r = save_runtime(vm);
	if (r < 0)
		return failf(ret_message, r, "Cannot write the runtime record of %s: %s.", vm->name,
			     strerror(-r));
	return 0;
}

static void spawn_qemu(Vm *vm)
{
	char *message = NULL;

	progress(vm, "spawning");
	int r = prepare_and_spawn(vm, &message);
	if (r < 0) {
		start_failed(vm, r == -ENOMEM && !message ? VM_FAIL_INTERNAL : VM_FAIL_START,
			     message ? message : "The daemon ran out of memory.", NULL);
		free(message);
		return;
	}
	vm->connect_deadline = now_usec(CLOCK_MONOTONIC) + CONNECT_TIMEOUT_USEC;
	progress(vm, "connecting");
	connect_qmp(vm);
}

/* ---- QMP: connect, pin, cont ---- */

static void on_qmp_ready(Qmp *qmp, void *userdata);
static void on_qmp_event(Qmp *qmp, const char *name, json_object *data, void *userdata);
static void on_qmp_closed(Qmp *qmp, int error, void *userdata);

static const QmpCallbacks qmp_callbacks = {
	.ready = on_qmp_ready,
	.event = on_qmp_event,
	.closed = on_qmp_closed,
};

static int on_connect_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
	Vm *vm = userdata;
	(void)source;
	(void)usec;
	connect_qmp(vm);
	return 0;
}

static void connect_qmp(Vm *vm)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s/qmp.sock", vm->manager->records_dir, vm->name);

	int r = qmp_connect(vm->manager->event, path, &qmp_callbacks, vm, &vm->qmp);
	if (r >= 0) {
		vm->timer = sd_event_source_disable_unref(vm->timer);
		return;
	}
	if ((r != -ENOENT && r != -ECONNREFUSED) ||
	    now_usec(CLOCK_MONOTONIC) > vm->connect_deadline) {
		if (vm->start_pending)
			start_failedf(vm, VM_FAIL_START, "QEMU's QMP socket %s did not answer: %s.",
				      path, strerror(-r));
		else
			vm_log(vm, LOG_WARNING, r, "VM %s: cannot connect to QMP at %s", vm->name,
			       path);
		return;
	}
	if (!vm->timer)
		r = sd_event_add_time_relative(vm->manager->event, &vm->timer, CLOCK_MONOTONIC,
					       CONNECT_RETRY_USEC, 0, on_connect_timer, vm);
	else
		r = sd_event_source_set_time_relative(vm->timer, CONNECT_RETRY_USEC) >= 0
			    ? sd_event_source_set_enabled(vm->timer, SD_EVENT_ONESHOT)
			    : -EIO;
	if (r < 0 && vm->start_pending)
		start_failedf(vm, VM_FAIL_INTERNAL, "Cannot wait for QMP: %s.", strerror(-r));
}

static void set_qmp_status(Vm *vm, const char *status)
{
	free(vm->qmp_status);
	vm->qmp_status = status ? strdup(status) : NULL;
}

static void on_cont(Qmp *qmp, json_object *result, const char *error_class,
		    const char *description, void *userdata)
{
	Vm *vm = userdata;
	(void)qmp;
	(void)result;
	if (!vm->start_pending)
		return;
	if (error_class) {
		start_failedf(vm, VM_FAIL_START, "QEMU refused to run the guest: %s.",
			      description ? description : error_class);
		return;
	}
	set_qmp_status(vm, "running");
	vm->start_pending = false;
	set_state(vm, VM_STATE_RUNNING);
	vm_log(vm, LOG_INFO, 0, "VM %s started (pid %d)", vm->name, (int)vm->pid);
	VmInfo info;
	vm_info(vm, &info);
	VmOutcome outcome = { .vm = &info, .phase = "running", .final = true };
	if (vm->start_waiter.callback)
		vm->start_waiter.callback(&outcome, vm->start_waiter.userdata);
	if (vm->has_definition) {
		vm_definition_done(&vm->definition);
		vm->has_definition = false;
	}
}

static void run_guest(Vm *vm)
{
	progress(vm, "running");
	int r = qmp_execute(vm->qmp, "cont", NULL, on_cont, vm);
	if (r < 0)
		start_failedf(vm, VM_FAIL_INTERNAL, "Cannot send cont: %s.", strerror(-r));
}

static void on_cpus(Qmp *qmp, json_object *result, const char *error_class,
		    const char *description, void *userdata)
{
	Vm *vm = userdata;
	(void)qmp;
	if (!vm->start_pending)
		return;
	if (error_class) {
		start_failedf(vm, VM_FAIL_START, "QEMU did not list its vCPUs: %s.",
			      description ? description : error_class);
		return;
	}
	unsigned n = vm_definition_cpus(&vm->definition);
	for (size_t i = 0; i < json_array_size(result); i++) {
		json_object *cpu = json_object_array_get_idx(result, i);
		int64_t index = -1, thread = 0;
		if (json_get_int(cpu, "cpu-index", &index) < 0 ||
		    json_get_int(cpu, "thread-id", &thread) < 0 || index < 0 ||
		    (uint64_t)index >= n || thread <= 0)
			continue;
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(vm->vcpu_cpus[index], &set);
		if (sched_setaffinity((pid_t)thread, sizeof(set), &set) < 0)
			vm_log(vm, LOG_WARNING, -errno, "VM %s: cannot pin vCPU %lld to CPU %d",
			       vm->name, (long long)index, vm->vcpu_cpus[index]);
	}
	run_guest(vm);
}

static void on_qmp_ready(Qmp *qmp, void *userdata)
{
	Vm *vm = userdata;
	(void)qmp;
	if (!vm->start_pending)
		return; /* an adopted VM: its query-status is on the way */
	set_qmp_status(vm, "prelaunch");
	if (!vm->pin) {
		run_guest(vm);
		return;
	}
	progress(vm, "pinning");
	int r = qmp_execute(vm->qmp, "query-cpus-fast", NULL, on_cpus, vm);
	if (r < 0)
		start_failedf(vm, VM_FAIL_INTERNAL, "Cannot ask QEMU for its vCPUs: %s.",
			      strerror(-r));
}

static void on_qmp_event(Qmp *qmp, const char *name, json_object *data, void *userdata)
{
	Vm *vm = userdata;
	bool guest = false;
	(void)qmp;

	if (strcmp(name, "STOP") == 0) {
		set_qmp_status(vm, "paused");
		if (vm->state == VM_STATE_RUNNING)
			set_state(vm, VM_STATE_PAUSED);
	} else if (strcmp(name, "RESUME") == 0) {
		set_qmp_status(vm, "running");
		if (vm->state == VM_STATE_PAUSED)
			set_state(vm, VM_STATE_RUNNING);
	} else if (strcmp(name, "SHUTDOWN") == 0) {
		if (json_get_bool(data, "guest", &guest) >= 0 && guest)
			vm->guest_shutdown = true;
		set_qmp_status(vm, "shutdown");
	}
}

static void on_qmp_closed(Qmp *qmp, int error, void *userdata)
{
	Vm *vm = userdata;
	(void)qmp;
	/* QEMU is ending, most likely: its pidfd says so soon. */
	vm_log(vm, LOG_DEBUG, error, "VM %s: QMP connection closed", vm->name);
	vm->qmp = qmp_free(vm->qmp);
	vm->qmp_status = mfree(vm->qmp_status);
}

/* ---- Stop, Kill, Pause, Resume ---- */

static int add_stop_waiter(Vm *vm, VmCallback callback, void *userdata)
{
	if (ARRAY_RESERVE(vm->stop_waiters, vm->allocated_stop_waiters, vm->n_stop_waiters + 1) < 0)
		return -ENOMEM;
	vm->stop_waiters[vm->n_stop_waiters++] = (Waiter){ callback, userdata };
	return 0;
}

/* For commands whose answer changes nothing: what follows comes as events or QEMU's exit. */
static void ignore_reply(Qmp *qmp, json_object *result, const char *error_class,
			 const char *description, void *userdata)
{
	Vm *vm = userdata;
	(void)qmp;
	(void)result;
	if (error_class && strcmp(error_class, "Disconnected") != 0)
		vm_log(vm, LOG_WARNING, 0, "VM %s: QEMU refused a command: %s", vm->name,
		       description ? description : error_class);
}

static void kill_qemu(Vm *vm)
{
	if (vm->pidfd >= 0 && pidfd_send_signal(vm->pidfd, SIGKILL, NULL, 0) < 0 &&
	    errno != ESRCH)
		vm_log(vm, LOG_ERR, -errno, "VM %s: cannot kill QEMU (pid %d)", vm->name,
		       (int)vm->pid);
}

static int on_kill_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
	Vm *vm = userdata;
	(void)source;
	(void)usec;
	vm_log(vm, LOG_WARNING, 0, "VM %s: QEMU did not quit; killing it", vm->name);
	kill_qemu(vm);
	return 0;
}

static void arm_timer(Vm *vm, uint64_t usec, sd_event_time_handler_t handler)
{
	vm->timer = sd_event_source_disable_unref(vm->timer);
	if (sd_event_add_time_relative(vm->manager->event, &vm->timer, CLOCK_MONOTONIC, usec, 0,
				       handler, vm) < 0)
		kill_qemu(vm); /* no way to wait: the sure way */
}

static void quit_qemu(Vm *vm)
{
	if (!vm->qmp || qmp_execute(vm->qmp, "quit", NULL, ignore_reply, vm) < 0) {
		kill_qemu(vm);
		return;
	}
	arm_timer(vm, QUIT_GRACE_USEC, on_kill_timer);
}

static int on_powerdown_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
	Vm *vm = userdata;
	(void)source;
	(void)usec;
	vm_log(vm, LOG_NOTICE, 0, "VM %s: the guest did not power down in time; quitting QEMU",
	       vm->name);
	quit_qemu(vm);
	return 0;
}

void vm_manager_stop(VmManager *m, const char *name, bool force, uint64_t timeout_usec,
		     VmCallback callback, void *userdata)
{
	Vm *vm = vm_lookup(m, name, callback, userdata);
	if (!vm)
		return;
	if (!vm_is_active(vm) || vm->pid <= 0 || vm->releasing) {
		wrong_state(vm, callback, userdata,
			    vm_is_active(vm) ? "wait until QEMU runs" : "it does not run");
		return;
	}
	if (add_stop_waiter(vm, callback, userdata) < 0) {
		fail_now(callback, userdata, VM_FAIL_INTERNAL, "The daemon ran out of memory.");
		return;
	}
	bool already = vm->stop_requested && vm->state == VM_STATE_STOPPING;
	vm->stop_requested = true;
	if (vm->start_pending) { /* a start under way ends here */
		start_failedf(vm, VM_FAIL_START, "%s was stopped while it started.", vm->name);
		return;
	}
	set_state(vm, VM_STATE_STOPPING);
	if (force)
		quit_qemu(vm);
	else if (!already) {
		if (!vm->qmp || qmp_execute(vm->qmp, "system_powerdown", NULL, ignore_reply, vm) < 0) {
			quit_qemu(vm);
			return;
		}
		arm_timer(vm, timeout_usec == UINT64_MAX ? m->config->stop_timeout_usec : timeout_usec,
			  on_powerdown_timer);
	}
}

void vm_manager_kill(VmManager *m, const char *name, VmCallback callback, void *userdata)
{
	Vm *vm = vm_lookup(m, name, callback, userdata);
	if (!vm)
		return;
	if (!vm_is_active(vm) || vm->pid <= 0 || vm->releasing) {
		wrong_state(vm, callback, userdata,
			    vm_is_active(vm) ? "wait until QEMU runs" : "it does not run");
		return;
	}
	if (add_stop_waiter(vm, callback, userdata) < 0) {
		fail_now(callback, userdata, VM_FAIL_INTERNAL, "The daemon ran out of memory.");
		return;
	}
	vm->stop_requested = true;
	if (vm->start_pending) {
		start_failedf(vm, VM_FAIL_START, "%s was killed while it started.", vm->name);
		return;
	}
	set_state(vm, VM_STATE_STOPPING);
	kill_qemu(vm);
}

typedef struct PauseCall {
	Vm *vm;
	Waiter waiter;
	bool pause;
} PauseCall;

static void on_pause_reply(Qmp *qmp, json_object *result, const char *error_class,
			   const char *description, void *userdata)
{
	PauseCall *call = userdata;
	Vm *vm = call->vm;
	(void)qmp;
	(void)result;
	if (error_class) {
		char text[512];
		snprintf(text, sizeof(text), "QEMU refused to %s %s: %s.",
			 call->pause ? "pause" : "resume", vm->name, description ? description : error_class);
		call_back(&call->waiter, vm, VM_FAIL_WRONG_STATE, text, NULL);
	} else {
		/* The STOP/RESUME event may come after the reply: the state is set now. */
		if (vm->state == (call->pause ? VM_STATE_RUNNING : VM_STATE_PAUSED)) {
			set_qmp_status(vm, call->pause ? "paused" : "running");
			set_state(vm, call->pause ? VM_STATE_PAUSED : VM_STATE_RUNNING);
		}
		call_back(&call->waiter, vm, VM_OK, NULL, NULL);
	}
	free(call);
}

static void pause_or_resume(VmManager *m, const char *name, bool pause, VmCallback callback,
			    void *userdata)
{
	Vm *vm = vm_lookup(m, name, callback, userdata);
	if (!vm)
		return;
	VmState from = pause ? VM_STATE_RUNNING : VM_STATE_PAUSED;
	if (vm->state != from || !vm->qmp) {
		wrong_state(vm, callback, userdata,
			    pause ? "only a running VM can be paused"
				  : "only a paused VM can be resumed");
		return;
	}
	PauseCall *call = malloc(sizeof(*call));
	if (!call) {
		fail_now(callback, userdata, VM_FAIL_INTERNAL, "The daemon ran out of memory.");
		return;
	}
	*call = (PauseCall){ vm, { callback, userdata }, pause };
	if (qmp_execute(vm->qmp, pause ? "stop" : "cont", NULL, on_pause_reply, call) < 0) {
		free(call);
		fail_now(callback, userdata, VM_FAIL_INTERNAL, "Cannot reach QEMU over QMP.");
	}
}

void vm_manager_pause(VmManager *m, const char *name, VmCallback callback, void *userdata)
{
	pause_or_resume(m, name, true, callback, userdata);
}

void vm_manager_resume(VmManager *m, const char *name, VmCallback callback, void *userdata)
{
	pause_or_resume(m, name, false, callback, userdata);
}

int vm_manager_watch(VmManager *m, int (*callback)(const VmInfo *vm, void *userdata),
		     void (*drop)(void *userdata), void *userdata)
{
	if (ARRAY_RESERVE(m->watchers, m->allocated_watchers, m->n_watchers + 1) < 0)
		return -ENOMEM;
	m->watchers[m->n_watchers++] = (Watcher){ callback, drop, userdata };
	return 0;
}

/* ---- Adoption after a daemon restart, autostart ---- */

static void on_status(Qmp *qmp, json_object *result, const char *error_class,
		      const char *description, void *userdata)
{
	Vm *vm = userdata;
	(void)qmp;
	(void)description;
	const char *status = error_class ? NULL : json_get_string(result, "status");
	if (!status)
		return;
	set_qmp_status(vm, status);
	if (strcmp(status, "paused") == 0 && vm->state == VM_STATE_RUNNING)
		set_state(vm, VM_STATE_PAUSED);
}

static void on_adopted_qmp_ready(Vm *vm)
{
	(void)qmp_execute(vm->qmp, "query-status", NULL, on_status, vm);
}

static int adopt_one(VmManager *m, VmRuntime *runtime)
{
	uint64_t start_time = 0;
	Vm *vm = vm_find(m, runtime->name);
	int r;

	if (!vm && (r = vm_add(m, runtime->name, &vm)) < 0)
		return r;
	VmDefinition definition;
	_cleanup_free_ char *error = NULL;
	if (vm_store_load(m->config->vm_dir, vm->name, &definition, &error) >= 0) {
		(void)vm_take_summary(vm, &definition);
		vm_definition_done(&definition);
	}
	vm->partitions = TAKE_PTR(runtime->partitions);
	vm->device_nodes = TAKE_PTR(runtime->device_nodes);
	vm->started_at_usec = runtime->started_at_usec;

	bool alive = process_start_time("/proc", runtime->pid, &start_time) >= 0 &&
		     start_time == runtime->start_time;
	int pidfd = alive ? pidfd_open(runtime->pid, 0) : -1;
	/* A pidfd that reads as ended already: a zombie nobody reaped yet. */
	struct pollfd poll_fd = { .fd = pidfd, .events = POLLIN };
	if (pidfd >= 0 && poll(&poll_fd, 1, 0) > 0)
		pidfd = safe_close(pidfd);
	if (pidfd < 0) {
		vm_log(vm, LOG_NOTICE, 0,
		       "VM %s ended while libvfiod was not running; releasing what it held",
		       vm->name);
		set_problem(vm, "QEMU ended while libvfiod was not running");
		vm->state = VM_STATE_STOPPING;
		vm->releasing = true;
		vm->end_state = VM_STATE_CRASHED;
		release_next(vm);
		return 0;
	}
	vm->pid = runtime->pid;
	vm->pidfd = pidfd;
	vm->start_time = start_time;
	vm->own_child = false;
	vm->state = VM_STATE_RUNNING;
	r = sd_event_add_io(m->event, &vm->exit_source, pidfd, EPOLLIN, on_qemu_exit, vm);
	if (r < 0)
		return r;
	vm->connect_deadline = now_usec(CLOCK_MONOTONIC) + CONNECT_TIMEOUT_USEC;
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s/qmp.sock", m->records_dir, vm->name);
	r = qmp_connect(m->event, path, &qmp_callbacks, vm, &vm->qmp);
	if (r < 0)
		vm_log(vm, LOG_WARNING, r, "VM %s: cannot reconnect to QMP at %s", vm->name, path);
	else
		on_adopted_qmp_ready(vm);
	vm_log(vm, LOG_INFO, 0, "VM %s re-adopted (pid %d)", vm->name, (int)vm->pid);
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

	/* The runtime directory is a tmpfs: no marker means the first start since boot. */
	snprintf(marker, sizeof(marker), "%s/" MARKER_AUTOSTARTED, m->records_dir);
	if (access(marker, F_OK) == 0)
		return;
	if (write_file_atomic(m->records_dir, MARKER_AUTOSTARTED, "", 0, 0600) < 0)
		return;
	if (vm_store_list(m->config->vm_dir, &names) < 0)
		return;
	for (char **name = names; name && *name; name++) {
		Vm *vm;
		if (vm_refresh(m, *name, &vm) < 0 || !vm || !vm->autostart || vm_is_active(vm))
			continue;
		log_info("Autostarting VM %s", *name);
		vm_manager_start(m, *name, NULL, NULL);
	}
}

int vm_manager_adopt(VmManager *m)
{
	VmRuntime *records = NULL;
	size_t n = 0;
	_cleanup_strv_ char **problems = NULL;

	/* QEMU's user passes through it to its own directory (0700) below. */
	int r = mkdir_p(m->records_dir, 0711);
	if (r >= 0 && chmod(m->records_dir, 0711) < 0)
		r = negative_errno();
	if (r < 0)
		return log_error_errno(r, "Cannot create %s", m->records_dir);
	r = vm_runtime_load_all(m->records_dir, &records, &n, &problems);
	for (char **p = problems; p && *p; p++)
		log_warning("VM records: %s", *p);
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = adopt_one(m, &records[i]);
	for (size_t i = 0; i < n; i++)
		vm_runtime_done(&records[i]);
	free(records);
	if (r < 0)
		return log_error_errno(r, "Cannot re-adopt the running VMs");
	release_orphans(m);
	autostart(m);
	return 0;
}

int vm_manager_new(sd_event *event, PartitionEngine *engine, HostService *host,
		   const DaemonConfig *config, VmManager **ret)
{
	VmManager *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->event = sd_event_ref(event);
	m->engine = engine;
	m->host = host;
	m->config = config;
	if (asprintf(&m->records_dir, "%s/vms", config->runtime_dir) < 0) {
		sd_event_unref(m->event);
		free(m);
		return -ENOMEM;
	}
	*ret = m;
	return 0;
}

VmManager *vm_manager_free(VmManager *m)
{
	if (!m)
		return NULL;
	for (size_t i = 0; i < m->n_watchers; i++)
		m->watchers[i].drop(m->watchers[i].userdata);
	free(m->watchers);
	for (size_t i = 0; i < m->n_vms; i++)
		vm_free(m->vms[i]);
	free(m->vms);
	free(m->records_dir);
	sd_event_unref(m->event);
	free(m);
	return NULL;
}
