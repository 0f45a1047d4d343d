/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The spawn of a start's QEMU (vm_spawn.h): each thing QEMU is given is made,
 * opened or lent here, in the order the argv needs them, and then QEMU.
 */
#include "vm/vm_spawn.h"

#include "host/qemu_probe.h"

#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "array.h"
#include "base/log.h"
#include "error_message.h"
#include "process/process_spawn.h"
#include "process/process_stat.h"
#include "strv.h"
#include "time_util.h"
#include "vm/audio_relay.h"
#include "vm/vm_console.h"
#include "vm/vm_dirs.h"
#include "vm/vm_display.h"
#include "vm/vm_files.h"
#include "vm/vm_firmware.h"
#include "vm/vm_lent.h"
#include "vm/vm_looking_glass.h"
#include "vm/vm_network.h"
#include "vm/vm_placement.h"
#include "vm/vm_qemu_log.h"
#include "vm/vm_qemu_user.h"
#include "vm/vm_socket.h"
#include "vm/vm_tpm.h"

/* vms.accel: "kvm" or "tcg" as said; anything else (auto) KVM where it is usable. */
static QemuAccel accel_choice(const VmManager *m, const HostFacts *facts)
{
	int named = qemu_accel_from_string(m->config->accel);
	if (named >= 0)
		return (QemuAccel)named;
	return facts->kvm_usable ? QEMU_ACCEL_KVM : QEMU_ACCEL_TCG;
}

/*
 * Lends the device node at `path` to uid:gid with `mode`: written down in the
 * runtime record first, so that whatever happens next (a crash of the daemon
 * included) it is given back. One that QEMU's user owns already is left alone.
 */
static int lend(Vm *vm, const char *path, uid_t uid, gid_t gid, mode_t mode, char **ret_message)
{
	VmLent lent;

	for (size_t i = 0; i < vm->n_lent; i++)
		if (strcmp(vm->lent[i].path, path) == 0)
			return 0;
	int r = device_node_open(path, &lent, ret_message);
	if (r < 0)
		return r;
	if (lent.uid == uid || ARRAY_RESERVE(vm->lent, vm->allocated_lent, vm->n_lent + 1) < 0) {
		r = lent.uid == uid ? 0 : -ENOMEM;
		free(lent.path);
		close(lent.fd);
		return r;
	}
	vm->lent[vm->n_lent++] = lent;
	r = vm_save_runtime(vm);
	if (r < 0)
		return vm_save_runtime_error(vm, r, ret_message);
	return vm_lent_give(&lent, uid, gid, mode, ret_message);
}

/* The /dev/vfio node of every assigned device. */
static int lend_devices(VmStart *s, const QemuUser *user, char **ret_message)
{
	Vm *vm = s->vm;
	const SysfsRoot *root = host_cache_root(vm->manager->host);

	for (size_t i = 0; i < s->n_assignments; i++) {
		const QemuGpuAssignment *a = &s->assignments[i];
		size_t n = a->mode == PARTITION_MDEV ? 1 : a->n_devices;
		for (size_t k = 0; k < n; k++) {
			_cleanup_free_ char *node = NULL;
			int r = vfio_group_node(root,
						a->mode == PARTITION_MDEV ? NULL : &a->devices[k],
						a->mode == PARTITION_MDEV ? a->mdev_uuid : NULL,
						&node, ret_message);
			if (r >= 0)
				r = lend(vm, node, user->uid, user->gid, 0600, ret_message);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* Descriptors QEMU inherits, from SPAWN_FIRST_PASSED_FD on; closed here once it has them. */
typedef struct Passed {
	int fds[64];
	size_t n;
} Passed;

static void passed_done(Passed *p)
{
	for (size_t i = 0; i < p->n; i++)
		close(p->fds[i]);
	p->n = 0;
}

/* Takes `fd` (closes it on failure); returns the fd number QEMU sees it at. */
static int pass_fd(Passed *p, int fd)
{
	if (fd < 0)
		return fd;
	if (p->n >= ELEMENTSOF(p->fds)) {
		close(fd);
		return -EMFILE;
	}
	p->fds[p->n++] = fd;
	return SPAWN_FIRST_PASSED_FD + (int)(p->n - 1);
}

/*
 * An open file for QEMU to inherit (`fd`, taken): when it is read-write, the
 * same file read-only too, as QEMU opens a writable image read-only first
 * (reopened through /proc: the same inode, whatever its path names by now).
 */
static int pass_file(Passed *passed, int fd, bool writable, QemuFile *ret, char **ret_message)
{
	char proc[64];

	if (fd < 0)
		return fd;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	int read_only = writable ? open(proc, O_RDONLY | O_CLOEXEC | O_NOCTTY) : -1;
	if (writable && read_only < 0) {
		int r = error_message(ret_message, negative_errno(), "Cannot reopen %s: %s.", proc,
				      strerror(errno));
		close(fd);
		return r;
	}
	ret->fd = pass_fd(passed, fd);
	if (ret->fd < 0) {
		if (read_only >= 0)
			close(read_only);
		return ret->fd;
	}
	if (writable && (ret->read_only_fd = pass_fd(passed, read_only)) < 0)
		return ret->read_only_fd;
	return 0;
}

/*
 * The files the definition names, opened here and inherited by QEMU: no file
 * changes owner, and none is opened through a link someone else planted.
 */
static int open_files(VmStart *s, QemuHostFacts *facts, Passed *passed, char **ret_message)
{
	const VmDefinition *d = &s->definition;

	for (size_t i = 0; i < s->n_assignments; i++) {
		QemuGpuAssignment *a = &s->assignments[i];
		a->rom_fd = 0;
		if (a->gpu && a->gpu->rom) {
			int fd = pass_fd(passed, rom_copy(a->gpu->rom, ret_message));
			if (fd < 0)
				return fd;
			a->rom_fd = fd;
		}
	}
	for (size_t i = 0; i < d->n_disks; i++) {
		bool writable = !d->disks[i].readonly;
		int r = pass_file(passed,
				  vm_file_open(d->disks[i].path, writable,
					       &facts->disks[i].block_device, ret_message),
				  writable, &facts->disks[i], ret_message);
		if (r < 0)
			return r;
	}
	/* The definition allows VM_MAX_CDROMS; facts->cdroms holds as many. */
	for (size_t i = 0; d->cdroms && d->cdroms[i] && i < ELEMENTSOF(facts->cdroms); i++) {
		int r = pass_file(passed,
				  vm_file_open(d->cdroms[i], false, &facts->cdroms[i].block_device,
					       ret_message),
				  false, &facts->cdroms[i], ret_message);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Where the VM runs (vm_placement.h), decided once per start and kept in it. */
static int placement(VmStart *s, const HostModel *model, char **ret_message)
{
	PciAddress devices[VM_MAX_GPUS * MAX_DEVICES_PER_GPU];
	size_t n = 0;

	if (s->placed)
		return 0;
	cpu_set_t host_cpus, node_cpus;
	bool has_node_cpus = false;

	for (size_t i = 0; i < s->n_assignments; i++) {
		const QemuGpuAssignment *a = &s->assignments[i];
		if (a->mode == PARTITION_MDEV && a->devices)
			devices[n++] = a->devices[0];
		for (size_t k = 0; k < a->n_devices; k++)
			devices[n++] = a->devices[k];
	}
	int node = vm_placement_node(&s->definition, model, devices, n);
	if (sched_getaffinity(0, sizeof(host_cpus), &host_cpus) < 0)
		CPU_ZERO(&host_cpus);
	for (size_t i = 0; node >= 0 && i < model->n_nodes; i++)
		if (model->nodes[i].id == node && model->nodes[i].cpus &&
		    cpulist_parse(model->nodes[i].cpus, &node_cpus) >= 0) {
			CPU_AND(&node_cpus, &node_cpus, &host_cpus);
			has_node_cpus = CPU_COUNT(&node_cpus) > 0;
		}
	if (node >= 0 && !has_node_cpus && s->definition.numa >= 0)
		return error_message(
			ret_message, -EINVAL,
			"numa: node %d has no CPUs this daemon may use; choose another "
			"node or 'numa: auto'.",
			node);
	if (!has_node_cpus)
		node = s->definition.numa >= 0 ? node : -1;

	unsigned n_vcpus = vm_definition_cpus(&s->definition);
	s->vcpu_cpus = calloc(n_vcpus, sizeof(int));
	if (!s->vcpu_cpus)
		return -ENOMEM;
	int r = vm_placement_vcpus(&s->definition, has_node_cpus ? &node_cpus : NULL, &host_cpus,
				   s->vcpu_cpus);
	if (r < 0)
		return error_message(
			ret_message, -EINVAL,
			"cpu-pinning: a listed host CPU is not one this daemon may use; "
			"'vfioctl topology' lists them.");
	s->pin = r > 0;
	s->node = node;
	s->has_affinity = has_node_cpus;
	if (has_node_cpus)
		s->affinity = node_cpus;
	s->placed = true;
	return 0;
}

int vm_spawn_node(VmStart *s, int *ret_node, char **ret_message)
{
	const HostModel *model;
	int r = host_cache_model(s->vm->manager->host, false, &model);
	if (r < 0)
		return error_message(ret_message, r, "Cannot read the host: %s.", strerror(-r));
	r = placement(s, model, ret_message);
	if (r < 0)
		return r;
	*ret_node = s->node;
	return 0;
}

static char *find_qemu(const char *configured)
{
	char *binary = configured[0] == '/'
			       ? strdup(configured)
			       : qemu_find_in_path(configured, getenv("PATH") ? getenv("PATH")
									      : "/usr/bin:/bin");
	if (binary && access(binary, X_OK) < 0)
		binary = mfree(binary);
	return binary;
}

/* The Looking Glass shared memory: the kvmfr device when loaded, else a file in /dev/shm. */
static char *looking_glass_path(const VmManager *m, const char *name, bool *ret_kvmfr)
{
	char kvmfr[4096], shm[4200];
	if (sysfs_path(host_cache_root(m->host), "dev/kvmfr0", kvmfr, sizeof(kvmfr)) >= 0 &&
	    access(kvmfr, F_OK) == 0) {
		*ret_kvmfr = true;
		return strdup(kvmfr);
	}
	*ret_kvmfr = false;
	looking_glass_shm_path(name, shm, sizeof(shm));
	return strdup(shm);
}

/*
 * A helper spawned and held before exec: its end watched, then let go, its
 * exec told to the start (which lets QEMU go only after it).
 */
static int watch_helper(VmStart *s, VmHelperKind kind, pid_t pid, int pidfd, SpawnHold *hold,
			char **ret_message)
{
	Vm *vm = s->vm;
	int r = vm_helper_watch(vm->helpers, kind, vm->manager->event, vm->name, pid, pidfd);
	if (r >= 0)
		r = vm_start_watch_helper_exec(s, kind, hold);
	spawn_hold_done(hold); /* not let go: it exits */
	if (r < 0)
		return error_message(ret_message, r, "Cannot watch %s: %s.", vm_helper_name(kind),
				     strerror(-r));
	return 0;
}

/* swtpm for the VM: its state in STATE/vms/NAME/tpm, its socket next to VNC's. */
static int start_tpm(VmStart *s, const QemuUser *user, const char *state_dir, const char *socket,
		     int output, char **ret_message)
{
	Vm *vm = s->vm;
	char tpm_state[4200];
	SpawnHold hold;
	pid_t pid;
	int pidfd;

	snprintf(tpm_state, sizeof(tpm_state), "%s/tpm", state_dir);
	int r = vm_tpm_start(vm->name, tpm_state, socket, user, output, &pid, &pidfd, &hold,
			     ret_message);
	if (r >= 0)
		r = watch_helper(s, VM_HELPER_TPM, pid, pidfd, &hold, ret_message);
	if (r < 0)
		return r;
	vm_log(vm, LOG_INFO, 0, "VM %s: swtpm started as pid %d", vm->name, (int)pid);
	return 0;
}

/* The owner's sound server, through a relay running as the owner (audio_relay.h). */
static int start_audio_relay(VmStart *s, const QemuUser *user, const char *socket,
			     char **ret_message)
{
	Vm *vm = s->vm;
	SpawnHold hold;
	pid_t pid;
	int pidfd;

	int r = audio_relay_start(vm->name, vm->manager->config->user_runtime_dir,
				  s->definition.owner, socket, user, &pid, &pidfd, &hold,
				  ret_message);
	if (r >= 0)
		r = watch_helper(s, VM_HELPER_AUDIO, pid, pidfd, &hold, ret_message);
	if (r < 0)
		return r;
	vm_log(vm, LOG_INFO, 0, "VM %s: audio relay to %s's sound server as pid %d", vm->name,
	       s->definition.owner, (int)pid);
	return 0;
}

int vm_spawn_firmware_to_copy(VmStart *s, char **ret_template, char **ret_path, char **ret_message)
{
	VmManager *m = s->vm->manager;
	const HostModel *model;
	const char *code;
	char state_dir[4096];
	_cleanup_free_ char *template = NULL, *path = NULL;
	struct stat st;

	if (s->definition.firmware != VM_FIRMWARE_UEFI)
		return 0;
	int r = host_cache_model(m->host, false, &model);
	if (r < 0)
		return error_message(ret_message, r, "Cannot read the host: %s.", strerror(-r));
	r = ovmf_choose(&model->facts, s->definition.secure_boot, &code, &template, ret_message);
	if (r < 0)
		return r;
	snprintf(state_dir, sizeof(state_dir), "%s/vms/%s", m->config->state_dir, s->vm->name);
	if (asprintf(&path, "%s/OVMF_VARS.fd", state_dir) < 0)
		return -ENOMEM;
	if (lstat(path, &st) == 0 || errno != ENOENT)
		return 0; /* there (or something is): vm_spawn() opens it, or says why not */
	r = vm_dir(state_dir, 0, 0, 0711, ret_message);
	if (r < 0)
		return r;
	*ret_template = TAKE_PTR(template);
	*ret_path = TAKE_PTR(path);
	return 1;
}

int vm_spawn(VmStart *s, char **ret_message)
{
	Vm *vm = s->vm;
	VmManager *m = vm->manager;
	const VmDefinition *d = &s->definition;
	const HostModel *model;
	QemuUser user;
	char dir[4096], state_dir[4096], qmp[4200], display[4300], console[4300], tpm[4200],
		audio[4200], vars[4200];
	char identifier[96];
	_cleanup_free_ char *binary = NULL, *vars_template = NULL, *looking_glass = NULL;
	_cleanup_strv_ char **argv = NULL;
	_cleanup_(passed_done) Passed passed = { .n = 0 };
	bool to_file = false;

	/* As fresh as it needs to be: the partition engine read sysfs after its last write. */
	int r = host_cache_model(m->host, false, &model);
	if (r < 0)
		return error_message(ret_message, r, "Cannot read the host: %s.", strerror(-r));
	binary = find_qemu(m->config->qemu_binary);
	if (!binary)
		return error_message(
			ret_message, -ENOENT,
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
	vm_qmp_path(vm, qmp, sizeof(qmp));
	vm_display_path(vm, display, sizeof(display));
	vm_console_path(vm, console, sizeof(console));
	snprintf(tpm, sizeof(tpm), "%s/swtpm.sock", dir);
	snprintf(audio, sizeof(audio), "%s/audio.sock", dir);
	snprintf(vars, sizeof(vars), "%s/OVMF_VARS.fd", state_dir);
	if (strlen(console) >= 108 || strlen(display) >= 108 || strlen(qmp) >= 108) /* sun_path */
		return error_message(ret_message, -ENAMETOOLONG,
				     "The socket path %s is too long for a socket; use a shorter "
				     "runtime-dir.",
				     console);
	/*
	 * Root's, both: QEMU's user writes in neither (only in swtpm's state
	 * directory below the second), so it cannot plant an entry the daemon
	 * later opens. Its screen is a socket the daemon listens on (vm_display.h).
	 */
	r = vm_dir(dir, 0, 0, 0711, ret_message);
	if (r >= 0)
		r = vm_dir(state_dir, 0, 0, 0711, ret_message);
	if (r < 0)
		return r;

	snprintf(identifier, sizeof(identifier), "qemu-%s", vm->name);
	char log_file[4200];
	vm_manager_log_file(m, vm->name, log_file, sizeof(log_file));
	free(vm->log_path);
	vm->log_path = strdup(log_file);
	if (!vm->log_path)
		return -ENOMEM;
	_cleanup_close_ int output = qemu_output_fd(identifier, vm->log_path, &to_file);
	if (!to_file)
		vm->log_path = mfree(vm->log_path);
	else
		vm->log_offset = lseek(output, 0, SEEK_END);
	if (output < 0)
		return error_message(ret_message, output, "Cannot open QEMU's log %s: %s.",
				     vm->log_path, strerror(-output));

	QemuHostFacts facts = {
		.vnc = true,
		.tap_fd = -1,
		.numa_node = -1,
	};
	/*
	 * QMP's socket is made here, in the daemon's own directory, and QEMU
	 * inherits it listening: the daemon connects at once (the greeting comes
	 * when QEMU is ready), and QEMU cannot swap the socket for another.
	 */
	int qmp_listening = unix_listen_at(qmp, 0, 0);
	if (qmp_listening < 0)
		return error_message(ret_message, qmp_listening, "Cannot listen on %s: %s.", qmp,
				     strerror(-qmp_listening));
	facts.qmp_fd = pass_fd(&passed, qmp_listening); /* the first: fd 3 */
	/* The serial console, the owner's, listening before QEMU runs (vm_console.h). */
	facts.console_fd = pass_fd(&passed, vm_console_listen(vm, d->owner, ret_message));
	if (facts.console_fd < 0)
		return facts.console_fd;
	facts.accel = accel_choice(m, &model->facts);
	if (d->firmware == VM_FIRMWARE_UEFI) {
		r = ovmf_choose(&model->facts, d->secure_boot, &facts.ovmf_code, &vars_template,
				ret_message);
		if (r < 0)
			return r;
		r = pass_file(&passed, ovmf_vars_open(vars_template, vars, ret_message), true,
			      &facts.ovmf_vars_file, ret_message);
		if (r < 0)
			return r;
		facts.ovmf_vars = vars;
	}
	if (d->looking_glass) {
		looking_glass = looking_glass_path(m, vm->name, &facts.looking_glass_kvmfr);
		if (!looking_glass)
			return -ENOMEM;
		gid_t group;
		r = looking_glass_group(&user, d->owner, &group, ret_message);
		if (r >= 0)
			r = facts.looking_glass_kvmfr
				    ? lend(vm, looking_glass, user.uid, group, 0660, ret_message)
				    : looking_glass_file(looking_glass, user.uid, group,
							 ret_message);
		if (r < 0)
			return r;
		facts.looking_glass_path = looking_glass;
	}
	if (d->network == VM_NETWORK_BRIDGE) {
		char tap_name[IFNAMSIZ];
		facts.tap_fd = pass_fd(&passed, vm_tap_on_bridge(d->bridge, tap_name, ret_message));
		if (facts.tap_fd < 0)
			return facts.tap_fd;
		vm_log(vm, LOG_INFO, 0, "VM %s: %s on bridge %s", vm->name, tap_name, d->bridge);
	}
	if (d->audio != VM_AUDIO_NONE) {
		r = start_audio_relay(s, &user, audio, ret_message);
		if (r < 0)
			return r;
		facts.audio_server = audio;
	}
	if (d->tpm) {
		r = start_tpm(s, &user, state_dir, tpm, output, ret_message);
		if (r < 0)
			return r;
		facts.tpm_socket = tpm;
	}
	r = placement(s, model, ret_message);
	if (r < 0)
		return r;
	facts.numa_node = s->node;
	r = lend_devices(s, &user, ret_message);
	if (r >= 0)
		r = open_files(s, &facts, &passed, ret_message);
	if (r < 0)
		return r;
	r = qemu_cmdline_build(binary, d, s->assignments, s->n_assignments, &facts, &argv,
			       ret_message);
	if (r < 0)
		return r;

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
		.pass_fds = passed.fds,
		.n_pass_fds = passed.n,
		.drop_privileges = !user.is_root,
		.uid = user.uid,
		.gid = user.gid,
		.affinity = s->has_affinity ? &s->affinity : NULL,
		.memlock_limit = qemu_memlock_limit(d, s->n_assignments),
	};
	const char *stage;
	uint64_t started_at = now_usec(CLOCK_REALTIME);
	/* Held before exec until its scope is made (vm_machine.h). */
	r = process_spawn_held(&request, &vm->pid, &vm->pidfd, &s->hold, &stage);
	if (r < 0) {
		vm->pid = 0;
		return error_message(ret_message, r, "Cannot start QEMU (%s failed: %s).", stage,
				     strerror(-r));
	}
	vm->own_child = true;
	vm->started_at_usec = started_at;
	(void)process_start_time(vm->pid, &vm->start_time);
	vm_log(vm, LOG_INFO, 0, "VM %s: QEMU started as pid %d (%s)", vm->name, (int)vm->pid,
	       qemu_accel_to_string(facts.accel));

	char description[96];
	snprintf(description, sizeof(description), "QEMU of VM %s", vm->name);
	r = child_watch(m->event, &vm->exit_source, vm->pidfd, true, description, vm_on_qemu_exit,
			vm);
	if (r < 0)
		return error_message(ret_message, r, "Cannot watch QEMU: %s.", strerror(-r));
	/*
	 * Connected while the daemon still holds the listening socket too: the
	 * connection waits in its backlog even if QEMU has died already, and
	 * QEMU's end (its status, its last line) tells why the start failed, not
	 * a refused connection.
	 */
	r = vm_connect_qmp(vm);
	if (r < 0)
		return error_message(ret_message, r, "Cannot connect to QEMU's QMP socket %s: %s.",
				     qmp, strerror(-r));
	return 0;
}
