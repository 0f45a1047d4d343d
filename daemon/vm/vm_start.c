/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VM's start (VmStart, vm_start.h): the partitions one GPU entry at a time,
 * the spawn (vm_spawn.c), then, once QMP greets, the vCPU pinning and the
 * guest's first cont. Its failure is given to the release (vm_control.c),
 * which tells it through its hooks when all is given back.
 */
#include "vm/vm_start.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>

#include "base/log.h"
#include "base/loop_watch.h"
#include "error_message.h"
#include "json_util.h"
#include "strv.h"
#include "vm/vm_display.h"
#include "vm/vm_firmware.h"
#include "vm/vm_hugepages.h"
#include "vm/vm_machine.h"
#include "vm/vm_spawn.h"
#include "vm/vm_store.h"

static const VmStartHooks start_hooks;

/* ---- The start object ---- */

static VmStart *vm_start_free(VmStart *s)
{
	if (!s)
		return NULL;
	sd_event_source_disable_unref(s->timer);
	sd_event_source_disable_unref(s->next);
	exec_watch_free(s->exec_watch);
	for (size_t i = 0; i < _VM_HELPER_MAX; i++)
		exec_watch_free(s->helper_exec[i]);
	host_cache_wait_cancel(s->vm->manager->host, s->host_wait);
	worker_cancel(s->firmware_copy);
	scope_job_free(s->scope);
	spawn_hold_done(&s->hold);
	if (s->has_definition)
		vm_definition_done(&s->definition);
	free(s->vcpu_cpus);
	free(s->failure_message);
	free((char *)s->failed_partition.message);
	free((char *)s->auto_failure.message);
	free(s);
	return NULL;
}

/* Makes VM's start; `definition` (may be NULL) is taken. */
static VmStart *vm_start_new(Vm *vm, VmDefinition *definition, VmCallback callback, void *userdata)
{
	VmStart *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->vm = vm;
	s->waiter = (Waiter){ callback, userdata };
	s->hold = (SpawnHold){ .release_fd = -1, .report_fd = -1 };
	if (definition) {
		s->definition = *definition;
		s->has_definition = true;
	}
	vm->start = s;
	vm->start_hooks = &start_hooks;
	return s;
}

/* The start is over: the VM no longer points to it. */
static VmStart *vm_start_end(Vm *vm)
{
	VmStart *s = vm->start;
	vm->hugepages_claim_pages = 0; /* QEMU has its pages by now, or never will */
	vm->start = NULL;
	vm->start_hooks = NULL;
	return s;
}

/* A Start phase reached: a non-final callback to the starter. */
static void progress(VmStart *s, const char *phase)
{
	VmInfo info;
	if (!s->waiter.callback)
		return;
	vm_info(s->vm, &info);
	VmOutcome outcome = { .vm = &info, .phase = phase };
	s->waiter.callback(&outcome, s->waiter.userdata);
}

void vm_start_failed(Vm *vm, VmFailure failure, const char *message,
		     const PartitionOutcome *partition)
{
	VmStart *s = vm->start;

	/* Only the first reason counts; the rest follow from it (a QMP reply cut off...). */
	if (!s || vm->releasing || s->failure != VM_OK)
		return;
	vm_log(vm, LOG_WARNING, 0, "VM %s did not start: %s", vm->name, message);
	vm_set_problem(vm, message);
	s->failure = failure;
	free(s->failure_message);
	s->failure_message = strdup(message);
	if (partition) {
		s->failed_partition = *partition;
		s->failed_partition.record = NULL;
		s->failed_partition.message =
			partition->message ? strdup(partition->message) : NULL;
	}
	/* A QEMU held before exec goes no further; nor does one not spawned yet. */
	s->host_wait = host_cache_wait_cancel(vm->manager->host, s->host_wait);
	s->next = sd_event_source_disable_unref(s->next);
	s->firmware_copy = worker_cancel(s->firmware_copy);
	vm_hugepages_cancel(vm);
	s->scope = scope_job_free(s->scope);
	s->exec_watch = exec_watch_free(s->exec_watch);
	for (size_t i = 0; i < _VM_HELPER_MAX; i++)
		s->helper_exec[i] = exec_watch_free(s->helper_exec[i]);
	spawn_hold_done(&s->hold);
	if (vm->pid > 0 && vm->pidfd >= 0) {
		/* QEMU was spawned: its end is awaited, and the release follows it. */
		vm->stop_requested = true;
		(void)pidfd_send_signal(vm->pidfd, SIGKILL, NULL, 0);
		/*
		 * Its whole process group too (the spawn made it a session leader): what a
		 * wrapper or a stuck QEMU started must not outlive the start. Our child is
		 * not reaped yet, so its pid, the group's id, cannot have been reused.
		 */
		if (vm->own_child)
			(void)kill(-vm->pid, SIGKILL);
		return;
	}
	vm_release_all(vm, VM_STATE_FAILED);
}

_printf_(3, 4) void vm_start_failedf(Vm *vm, VmFailure failure, const char *format, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, format);
	(void)vsnprintf(text, sizeof(text), format, ap);
	va_end(ap);
	vm_start_failed(vm, failure, text, NULL);
}

/* Writes the runtime record; a record that cannot be written fails the start, saying why. */
static bool save_runtime(Vm *vm)
{
	int r = vm_save_runtime(vm);
	if (r >= 0)
		return true;
	_cleanup_free_ char *message = NULL;
	(void)vm_save_runtime_error(vm, r, &message);
	vm_start_failed(vm, message ? VM_FAIL_START : VM_FAIL_INTERNAL,
			message ? message : "The daemon ran out of memory.", NULL);
	return false;
}

/* ---- Hooks: what the code below tells the start ---- */

static void on_qemu_ended(Vm *vm, const char *how)
{
	VmStart *s = vm->start;
	if (s->failure != VM_OK)
		return; /* vm_start_failed() killed it: the start's problem stands */
	s->failure = VM_FAIL_START;
	s->failure_message = strdup(how);
	vm_set_problem(vm, how);
	vm_log(vm, LOG_WARNING, 0, "VM %s: %s", vm->name, how);
}

static void on_released(Vm *vm)
{
	VmStart *s = vm_start_end(vm);

	if (s->cancelled)
		vm_set_problem(vm, NULL);
	vm_set_state(vm, s->cancelled ? VM_STATE_STOPPED : VM_STATE_FAILED);
	vm_call_back(&s->waiter, vm, s->failure,
		     s->failure_message ? s->failure_message : "QEMU ended before the guest ran.",
		     s->failure == VM_FAIL_PARTITION ? &s->failed_partition : NULL);
	vm_start_free(s);
}

static void on_qmp_ready(Vm *vm);

static const VmStartHooks start_hooks = {
	.qmp_ready = on_qmp_ready,
	.qemu_ended = on_qemu_ended,
	.released = on_released,
};

void vm_start_cancel(Vm *vm, const char *how)
{
	VmStart *s = vm->start;
	if (!s)
		return;
	if (s->failure == VM_OK) /* not when it had failed already: it stays failed */
		s->cancelled = true;
	vm_start_failedf(vm, VM_FAIL_START, "%s was %s while it started.", vm->name, how);
}

void vm_start_cut_short(Vm *vm, const char *message)
{
	if (!vm_start_new(vm, NULL, NULL, NULL)) {
		/* No memory for the start: QEMU is killed all the same, as a stop. */
		vm_set_problem(vm, message);
		vm->stop_requested = true;
		(void)pidfd_send_signal(vm->pidfd, SIGKILL, NULL, 0);
		return;
	}
	vm_set_state(vm, VM_STATE_STOPPING);
	vm_start_failed(vm, VM_FAIL_START, message, NULL);
}

void vm_start_abandon(Vm *vm, const char *message)
{
	VmStart *s = vm_start_end(vm);
	if (!s)
		return;
	vm_call_back(&s->waiter, vm, VM_FAIL_INTERNAL, message, NULL);
	vm_start_free(s);
}

/* ---- Partitions ---- */

static void allocate_next(VmStart *s);
static void reserve_hugepages(VmStart *s);
static void start_on_host(VmStart *s);
static void on_first_model(const HostModel *model, int result, void *userdata);
static void spawn_qemu(VmStart *s);

static const PartitionModeKind auto_order[] = {
	PARTITION_MDEV,
	PARTITION_SRIOV,
	PARTITION_PASSTHROUGH,
};

static bool worth_next_mode(AllocError error)
{
	return error == ALLOC_MODE_UNSUPPORTED || error == ALLOC_NONE_FREE ||
	       error == ALLOC_UNKNOWN_TYPE || error == ALLOC_NO_SUCH_TYPE || error == ALLOC_HELD;
}

/*
 * The modes `mode: auto` tries: an entry that names a type (of an mdev, or
 * of NVIDIA's vGPU on a VF) or its size never gets a whole GPU instead.
 */
static size_t auto_modes(const VmGpu *gpu)
{
	bool typed = gpu->type || gpu->min_framebuffer || gpu->max_instances;
	return typed ? 2 : ELEMENTSOF(auto_order);
}

/* Keeps a copy of `outcome` as the reason to give if the next modes only say "not offered". */
static void remember_auto_failure(VmStart *s, const PartitionOutcome *outcome)
{
	if (outcome->error == ALLOC_MODE_UNSUPPORTED || outcome->error == ALLOC_NO_MATCHING_GPU)
		return;
	free((char *)s->auto_failure.message);
	s->auto_failure = *outcome;
	s->auto_failure.record = NULL;
	s->auto_failure.parent = NULL;
	s->auto_failure.message = outcome->message ? strdup(outcome->message) : NULL;
}

static void forget_auto_failure(VmStart *s)
{
	free((char *)s->auto_failure.message);
	s->auto_failure = (PartitionOutcome){ 0 };
}

/* What the partition record says QEMU gets: the mdev, the VF, or the GPU and its group. */
static void assign(VmStart *s, const VmGpu *gpu, const PartitionRecord *record)
{
	QemuGpuAssignment *a = &s->assignments[s->n_assignments];
	PciAddress *devices = s->devices[s->n_assignments];
	size_t n = 0;

	*a = (QemuGpuAssignment){ .gpu = gpu, .mode = record->mode, .devices = devices };
	if (record->mode == PARTITION_PASSTHROUGH)
		devices[n++] = record->gpu;
	for (size_t i = 0; i < record->n_steps; i++) {
		const RecordStep *step = &record->steps[i];
		if (step->kind == STEP_MDEV_CREATE && step->uuid)
			snprintf(a->mdev_uuid, sizeof(a->mdev_uuid), "%s", step->uuid);
		bool vfio = step->kind == STEP_BIND_VFIO || step->kind == STEP_NVIDIA_VGPU;
		if (vfio && n < MAX_DEVICES_PER_GPU &&
		    (record->mode != PARTITION_PASSTHROUGH ||
		     pci_address_compare(&step->device, &record->gpu) != 0))
			devices[n++] = step->device;
	}
	if (record->mode == PARTITION_MDEV && !record->parent)
		devices[n++] = record->gpu; /* for its NUMA node */
	else if (record->mode == PARTITION_MDEV)
		a->devices = NULL; /* a parent outside PCI: no node to be near */
	a->n_devices = record->mode == PARTITION_MDEV ? 0 : n;
	s->n_assignments++;
}

static int on_next(sd_event_source *source, void *userdata)
{
	loop_watch_enter(source);
	(void)sd_event_source_set_enabled(source, SD_EVENT_OFF);
	allocate_next(userdata);
	return 0;
}

static void on_partition_created(const PartitionOutcome *outcome, void *userdata)
{
	VmStart *s = userdata;
	const VmGpu *gpu = &s->definition.gpus[s->next_gpu];

	if (outcome->result < 0) {
		if (gpu->mode == VM_GPU_AUTO && worth_next_mode(outcome->error) &&
		    (size_t)s->auto_mode + 1 < auto_modes(gpu)) {
			remember_auto_failure(s, outcome);
			s->auto_mode++;
			allocate_next(s);
			return;
		}
		if (s->auto_failure.message && (outcome->error == ALLOC_MODE_UNSUPPORTED ||
						outcome->error == ALLOC_NO_MATCHING_GPU))
			outcome = &s->auto_failure;
		vm_start_failed(s->vm, VM_FAIL_PARTITION,
				outcome->message ? outcome->message
						 : "No partition fits the GPU entry.",
				outcome);
		return;
	}
	forget_auto_failure(s);
	if (strv_append(&s->vm->partitions, outcome->record->id) < 0) {
		vm_start_failed(s->vm, VM_FAIL_INTERNAL, "The daemon ran out of memory.", NULL);
		return;
	}
	assign(s, gpu, outcome->record);
	s->next_gpu++;
	s->auto_mode = 0;
	/*
	 * The rest (the next entry, or hugepages and QEMU's spawn) in a dispatch of
	 * its own: this one already ended the partition's last step.
	 */
	int r = s->next ? sd_event_source_set_enabled(s->next, SD_EVENT_ONESHOT)
			: sd_event_add_defer(s->vm->manager->event, &s->next, on_next, s);
	if (r >= 0)
		(void)sd_event_source_set_description(s->next, "VM start, next phase");
	else
		allocate_next(s);
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

static void allocate_next(VmStart *s)
{
	const VmDefinition *d = &s->definition;
	Vm *vm = s->vm;
	char holder[VM_NAME_MAX + 4];

	while (s->next_gpu < d->n_gpus && d->gpus[s->next_gpu].mode == VM_GPU_NONE)
		s->next_gpu++;
	if (s->next_gpu >= d->n_gpus) {
		reserve_hugepages(s);
		return;
	}
	const VmGpu *gpu = &d->gpus[s->next_gpu];
	PartitionRequest request = {
		.mode = gpu_mode(gpu, s->auto_mode),
		.has_address = gpu->has_address,
		.parent = gpu->parent,
		.address = gpu->address,
		.vendor_id = gpu->vendor_id,
		.device_id = gpu->device_id,
		.type = gpu->type,
		.min_framebuffer_mib = gpu->min_framebuffer >> 20,
		.max_instances = gpu->max_instances,
		.preferred_node = d->numa >= 0 ? d->numa : -1,
	};
	/* xe's share of GPU time and VRAM: for a VF only (auto's other modes have none). */
	if (request.mode == PARTITION_SRIOV) {
		request.profile.set[XE_PROFILE_EXEC_QUANTUM_MS] = gpu->has_exec_quantum;
		request.profile.value[XE_PROFILE_EXEC_QUANTUM_MS] = gpu->exec_quantum_ms;
		request.profile.set[XE_PROFILE_PREEMPT_TIMEOUT_US] = gpu->has_preempt_timeout;
		request.profile.value[XE_PROFILE_PREEMPT_TIMEOUT_US] = gpu->preempt_timeout_us;
		request.profile.set[XE_PROFILE_VRAM_QUOTA] = gpu->has_vram_quota;
		request.profile.value[XE_PROFILE_VRAM_QUOTA] = gpu->vram_quota;
	}
	snprintf(holder, sizeof(holder), "vm:%s", vm->name);
	int r = partition_engine_create(vm->manager->engine, &request, holder, on_partition_created,
					s);
	if (r < 0)
		vm_start_failedf(vm, VM_FAIL_INTERNAL, "Cannot ask for a partition: %s.",
				 strerror(-r));
}

/*
 * QEMU with a VFIO device pins all guest RAM against its RLIMIT_MEMLOCK, which
 * the spawn raises; a daemon that cannot raise it that far refuses the start
 * before it takes anything, saying how to fix it.
 */
static int memlock_check(VmStart *s, char **ret_message)
{
	const VmDefinition *d = &s->definition;
	const HostModel *model;
	size_t n_devices = 0;

	for (size_t i = 0; i < d->n_gpus; i++)
		n_devices += d->gpus[i].mode != VM_GPU_NONE;
	uint64_t needed = qemu_memlock_limit(d, n_devices);
	if (needed == 0)
		return 0;
	int r = host_cache_model(s->vm->manager->host, false, &model);
	if (r < 0)
		return error_message(ret_message, r, "Cannot read the host: %s.", strerror(-r));
	if (!model->facts.memlock_known || needed <= model->facts.memlock_grantable)
		return 0;
	return error_message(ret_message, -EPERM,
			     "QEMU needs %" PRIu64 " MiB of locked memory for VFIO (guest RAM + "
			     "1 GiB), but the daemon can give it only %" PRIu64 " MiB: run "
			     "libvfiod with CAP_SYS_RESOURCE (the shipped unit does) or "
			     "LimitMEMLOCK=infinity.",
			     needed >> 20, model->facts.memlock_grantable >> 20);
}

void vm_start(Vm *vm, VmCallback callback, void *userdata)
{
	VmManager *m = vm->manager;
	VmDefinition definition;
	_cleanup_free_ char *error = NULL;

	int r = vm_store_load(m->config->vm_dir, vm->name, &definition, &error);
	if (r < 0) {
		if (r == -ENOENT)
			vm_fail_now(callback, userdata, VM_FAIL_NO_SUCH_VM,
				    "%s has no definition any more; define it again.", vm->name);
		else if (r == -EINVAL)
			vm_fail_now(callback, userdata, VM_FAIL_INVALID_DEFINITION, "%s", error);
		else
			vm_fail_now(callback, userdata, VM_FAIL_INTERNAL, "Cannot read %s: %s.",
				    vm->name, strerror(-r));
		return;
	}
	if (vm_take_summary(vm, &definition) < 0) {
		vm_definition_done(&definition);
		vm_fail_now(callback, userdata, VM_FAIL_INTERNAL, "The daemon ran out of memory.");
		return;
	}
	VmStart *s = vm_start_new(vm, &definition, callback, userdata);
	if (!s) {
		vm_definition_done(&definition);
		vm_fail_now(callback, userdata, VM_FAIL_INTERNAL, "The daemon ran out of memory.");
		return;
	}
	vm_set_problem(vm, NULL);
	vm_set_state(vm, VM_STATE_STARTING);
	/* Just after the daemon started, its first reading of the host may still be under way. */
	if (!host_cache_ready(m->host)) {
		vm_log(vm, LOG_DEBUG, 0, "VM %s waits for the daemon's first reading of the host",
		       vm->name);
		r = host_cache_first_model(m->host, on_first_model, s, &s->host_wait);
		if (r < 0)
			vm_start_failed(vm, VM_FAIL_INTERNAL, "The daemon ran out of memory.",
					NULL);
		return;
	}
	start_on_host(s);
}

/* The host is known: checks it can take the VM, then asks for its partitions. */
static void start_on_host(VmStart *s)
{
	Vm *vm = s->vm;
	_cleanup_free_ char *error = NULL;

	int r = memlock_check(s, &error);
	if (r < 0) {
		vm_start_failed(vm, r == -ENOMEM ? VM_FAIL_INTERNAL : VM_FAIL_START,
				error ? error : "The daemon ran out of memory.", NULL);
		return;
	}
	/*
	 * Written down (pid 0) before the first partition is asked for: a daemon
	 * that dies while they are made leaves the next one a start to fail, not
	 * a VM that looks never started.
	 */
	if (!save_runtime(vm))
		return;
	progress(s, "allocating");
	allocate_next(s);
}

static void on_first_model(const HostModel *model, int result, void *userdata)
{
	VmStart *s = userdata;

	s->host_wait = NULL;
	if (result < 0)
		vm_start_failedf(s->vm, VM_FAIL_INTERNAL, "Cannot read the host: %s.",
				 strerror(-result));
	else
		start_on_host(s);
}

/* ---- Hugepages: the pool on the VM's node grown when short ---- */

static void on_hugepages_reserved(Vm *vm, int result, const char *message)
{
	VmStart *s = vm->start;
	if (!s)
		return;
	if (result < 0) {
		vm_start_failed(vm,
				result == -ENOMEM && !message ? VM_FAIL_INTERNAL : VM_FAIL_START,
				message ? message : "The daemon ran out of memory.", NULL);
		return;
	}
	spawn_qemu(s);
}

static void reserve_hugepages(VmStart *s)
{
	Vm *vm = s->vm;
	_cleanup_free_ char *message = NULL;
	int node;

	/* Every phase is said, one with nothing to do too: the client counts them. */
	progress(s, "hugepages");
	if (s->definition.hugepages == VM_HUGEPAGES_OFF) {
		spawn_qemu(s);
		return;
	}
	int r = vm_spawn_node(s, &node, &message);
	if (r >= 0) {
		r = vm_hugepages_reserve(vm, &s->definition, node, on_hugepages_reserved, &message);
	}
	if (r < 0) {
		vm_start_failed(vm, r == -ENOMEM && !message ? VM_FAIL_INTERNAL : VM_FAIL_START,
				message ? message : "The daemon ran out of memory.", NULL);
		return;
	}
	if (r == 0)
		spawn_qemu(s);
}

/* ---- Spawning ---- */

static int on_start_timeout(sd_event_source *source, uint64_t usec, void *userdata)
{
	loop_watch_enter(source);
	VmStart *s = userdata;
	(void)usec;
	s->timer = sd_event_source_disable_unref(s->timer);
	vm_start_failedf(
		s->vm, VM_FAIL_START,
		"QEMU did not get the guest running within %llu s; it was killed. "
		"Its log says why (or raise vms.start-timeout).",
		(unsigned long long)(s->vm->manager->config->start_timeout_usec / USEC_PER_SEC));
	return 0;
}

/* QEMU has exec'd (or failed to: r, stage). */
static void on_exec_result(VmStart *s, int r, const char *stage)
{
	Vm *vm = s->vm;

	if (r < 0) {
		vm_start_failedf(vm, VM_FAIL_START, "Cannot start QEMU (%s failed: %s).", stage,
				 strerror(-r));
		return;
	}
	/*
	 * Only now, QEMU exec'd, does the record name it: a QEMU still held dies
	 * with a daemon that dies, and the next daemon, finding pid 0, fails a
	 * start cut short rather than mourning a QEMU that never ran.
	 */
	if (!save_runtime(vm))
		return;
	vm_machine_register(vm, &s->definition);
	progress(s, "connecting");
}

static void on_qemu_exec(ExecWatch *watch, int result, const char *stage, void *userdata)
{
	VmStart *s = userdata;
	s->exec_watch = NULL;
	on_exec_result(s, result, stage);
}

/* QEMU may exec once it has its scope and its helpers have exec'd (they serve it). */
static void let_qemu_go(VmStart *s)
{
	if (!s->scope_made || s->exec_watch || s->hold.report_fd < 0)
		return;
	for (size_t i = 0; i < _VM_HELPER_MAX; i++)
		if (s->helper_exec[i])
			return;
	int r = exec_watch_start(s->vm->manager->event, &s->hold, "QEMU exec", on_qemu_exec, s,
				 &s->exec_watch);
	if (r < 0)
		vm_start_failedf(s->vm, VM_FAIL_INTERNAL, "Cannot watch QEMU's start: %s.",
				 strerror(-r));
}

static const char *const helper_exec_failure[_VM_HELPER_MAX] = {
	[VM_HELPER_TPM] = "tpm: cannot start swtpm",
	[VM_HELPER_AUDIO] = "audio: cannot start the relay",
};

static void on_helper_exec(ExecWatch *watch, int result, const char *stage, void *userdata)
{
	VmStart *s = userdata;
	size_t kind = 0;

	while (kind < _VM_HELPER_MAX && s->helper_exec[kind] != watch)
		kind++;
	if (kind == _VM_HELPER_MAX)
		return; /* not one of ours: cannot be */
	s->helper_exec[kind] = NULL;
	if (result < 0) {
		/* It exits by itself; its watch (vm_helpers.h) reaps it. */
		vm_start_failedf(s->vm, VM_FAIL_START, "%s (%s failed: %s).",
				 helper_exec_failure[kind], stage, strerror(-result));
		return;
	}
	let_qemu_go(s);
}

int vm_start_watch_helper_exec(VmStart *s, VmHelperKind kind, SpawnHold *hold)
{
	char description[64];
	snprintf(description, sizeof(description), "%s, exec", vm_helper_name(kind));
	return exec_watch_start(s->vm->manager->event, hold, description, on_helper_exec, s,
				&s->helper_exec[kind]);
}

/* QEMU has its scope (or there is none to have): it may exec, once its helpers have. */
static void on_scope(VmStart *s, bool ok, const char *message)
{
	if (!ok) {
		vm_start_failed(s->vm, VM_FAIL_START, message, NULL);
		return;
	}
	s->scope_made = true;
	let_qemu_go(s);
}

static void spawn_qemu_now(VmStart *s);

typedef struct FirmwareCopy {
	char *template, *path;
} FirmwareCopy;

static int copy_firmware(void *data)
{
	FirmwareCopy *copy = data;
	return ovmf_vars_copy(copy->template, copy->path);
}

static void firmware_copy_free(void *data)
{
	FirmwareCopy *copy = data;
	free(copy->template);
	free(copy->path);
	free(copy);
}

static void on_firmware_copied(int result, void *userdata)
{
	VmStart *s = userdata;

	s->firmware_copy = NULL; /* done: the job is gone */
	if (result < 0) {
		vm_start_failedf(s->vm, VM_FAIL_START, "Cannot copy the UEFI variables: %s.",
				 strerror(-result));
		return;
	}
	spawn_qemu_now(s);
}

/*
 * First the VM's own UEFI variables, at its first UEFI start: a copy of
 * OVMF's template and its fsync, on a worker thread (tens of milliseconds on
 * a busy disk, which the loop must not wait for); then the spawn.
 */
static void spawn_qemu(VmStart *s)
{
	Vm *vm = s->vm;
	char *message = NULL, *template = NULL, *path = NULL;

	progress(s, "spawning");
	int r = vm_spawn_firmware_to_copy(s, &template, &path, &message);
	if (r <= 0) {
		if (r < 0) {
			vm_start_failed(vm,
					r == -ENOMEM && !message ? VM_FAIL_INTERNAL : VM_FAIL_START,
					message ? message : "The daemon ran out of memory.", NULL);
			free(message);
			return;
		}
		spawn_qemu_now(s);
		return;
	}
	FirmwareCopy *copy = malloc(sizeof(*copy));
	if (!copy) {
		free(template);
		free(path);
		vm_start_failed(vm, VM_FAIL_INTERNAL, "The daemon ran out of memory.", NULL);
		return;
	}
	*copy = (FirmwareCopy){ template, path };
	r = worker_start(vm->manager->event, "UEFI variables copy", copy_firmware, copy,
			 firmware_copy_free, on_firmware_copied, s, &s->firmware_copy);
	if (r < 0)
		vm_start_failedf(vm, VM_FAIL_INTERNAL, "Cannot copy the UEFI variables: %s.",
				 strerror(-r));
}

static void spawn_qemu_now(VmStart *s)
{
	Vm *vm = s->vm;
	char *message = NULL;

	int r = vm_spawn(s, &message);
	if (r < 0) {
		vm_start_failed(vm, r == -ENOMEM && !message ? VM_FAIL_INTERNAL : VM_FAIL_START,
				message ? message : "The daemon ran out of memory.", NULL);
		free(message);
		return;
	}
	/*
	 * A QEMU that never answers (stuck opening a device, a binary that is not
	 * QEMU), or a scope systemd never makes, must not keep the start, and what
	 * it holds, forever.
	 */
	s->timer = sd_event_source_disable_unref(s->timer);
	r = sd_event_add_time_relative(vm->manager->event, &s->timer, CLOCK_MONOTONIC,
				       vm->manager->config->start_timeout_usec, USEC_PER_MSEC,
				       on_start_timeout, s);
	if (r < 0) {
		vm_start_failedf(vm, VM_FAIL_INTERNAL, "Cannot time the start: %s.", strerror(-r));
		return;
	}
	(void)sd_event_source_set_description(s->timer, "VM start, timeout");
	r = vm_scope_start(s, on_scope);
	if (r < 0)
		vm_start_failedf(vm, VM_FAIL_INTERNAL, "Cannot ask systemd for QEMU's scope: %s.",
				 strerror(-r));
}

/* ---- QMP: pin, cont ---- */

static void on_cont(Qmp *qmp, json_object *result, const char *error_class, const char *description,
		    void *userdata)
{
	Vm *vm = userdata;
	(void)qmp;
	(void)result;
	VmStart *s = vm->start;
	if (!s)
		return;
	if (error_class) {
		vm_start_failedf(vm, VM_FAIL_START, "QEMU refused to run the guest: %s.",
				 description ? description : error_class);
		return;
	}
	vm_set_qmp_status(vm, "running");
	s = vm_start_end(vm);
	vm_set_state(vm, VM_STATE_RUNNING);
	vm_display_open(vm);
	vm_log_event(vm, LOG_INFO, MESSAGE_ID_VM_STARTED, "VM %s started (pid %d)", vm->name,
		     (int)vm->pid);
	VmInfo info;
	vm_info(vm, &info);
	VmOutcome outcome = { .vm = &info, .phase = "running", .final = true };
	if (s->waiter.callback)
		s->waiter.callback(&outcome, s->waiter.userdata);
	vm_start_free(s);
}

static void run_guest(Vm *vm)
{
	progress(vm->start, "running");
	int r = qmp_execute(vm->qmp, "cont", NULL, on_cont, vm);
	if (r < 0)
		vm_start_failedf(vm, VM_FAIL_INTERNAL, "Cannot send cont: %s.", strerror(-r));
}

static void on_cpus(Qmp *qmp, json_object *result, const char *error_class, const char *description,
		    void *userdata)
{
	Vm *vm = userdata;
	(void)qmp;
	VmStart *s = vm->start;
	if (!s)
		return;
	if (error_class) {
		vm_start_failedf(vm, VM_FAIL_START, "QEMU did not list its vCPUs: %s.",
				 description ? description : error_class);
		return;
	}
	unsigned n = vm_definition_cpus(&s->definition);
	for (size_t i = 0; i < json_array_size(result); i++) {
		json_object *cpu = json_object_array_get_idx(result, i);
		int64_t index = -1, thread = 0;
		if (json_get_int(cpu, "cpu-index", &index) < 0 ||
		    json_get_int(cpu, "thread-id", &thread) < 0 || index < 0 ||
		    (uint64_t)index >= n || thread <= 0)
			continue;
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(s->vcpu_cpus[index], &set);
		if (sched_setaffinity((pid_t)thread, sizeof(set), &set) < 0)
			vm_log(vm, LOG_WARNING, -errno, "VM %s: cannot pin vCPU %lld to CPU %d",
			       vm->name, (long long)index, s->vcpu_cpus[index]);
	}
	run_guest(vm);
}

static void on_qmp_ready(Vm *vm)
{
	VmStart *s = vm->start;
	vm_set_qmp_status(vm, "prelaunch");
	progress(s, "pinning"); /* said without pinning too: the client counts the phases */
	if (!s->pin) {
		run_guest(vm);
		return;
	}
	int r = qmp_execute(vm->qmp, "query-cpus-fast", NULL, on_cpus, vm);
	if (r < 0)
		vm_start_failedf(vm, VM_FAIL_INTERNAL, "Cannot ask QEMU for its vCPUs: %s.",
				 strerror(-r));
}
