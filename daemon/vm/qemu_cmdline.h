/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The QEMU command line for a VM: a pure function of its definition, the
 * partitions it was given and a few facts about the host, to an argv (no
 * shell anywhere: each argument is one string, exec'd as is). No I/O: the
 * caller finds the facts (is /dev/kvm usable, where OVMF is, which fds it
 * passes) and the function only composes. Golden files under
 * tests/fixtures/golden/argv/ hold the expected argv for each kind of setup.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "host/gpu_modes.h"
#include "parse_util.h"
#include "pci_address.h"
#include "string_table.h"
#include "vm_definition.h"

typedef enum QemuAccel {
	QEMU_ACCEL_KVM,
	QEMU_ACCEL_TCG,
	_QEMU_ACCEL_MAX,
} QemuAccel;

/* What one `gpu:` entry of the definition became. */
typedef struct QemuGpuAssignment {
	const VmGpu *gpu; /* the definition's entry (rom, display, guest ids) */
	PartitionModeKind mode;
	/* mdev: the mediated device; QEMU gets sysfsdev=/sys/bus/mdev/devices/UUID */
	char mdev_uuid[UUID_STRING_SIZE];
	/*
	 * sriov: the VF; passthrough: the GPU first, then the other functions of
	 * its IOMMU group that are endpoints (its HDMI audio), each given by host=.
	 */
	const PciAddress *devices;
	size_t n_devices;
	/* > 0: the entry's ROM, a sealed copy QEMU inherits at this fd (romfile=/proc/self/fd/N) */
	int rom_fd;
} QemuGpuAssignment;

/*
 * A file of the definition that the daemon opened and QEMU inherits at `fd`
 * (> 0; 0: QEMU opens the path itself), with the same file read-only at
 * `read_only_fd` when `fd` is read-write (QEMU opens a writable image
 * read-only first). QEMU takes them from an fd set (-add-fd, /dev/fdset/N),
 * so it never needs the right to open the path.
 */
typedef struct QemuFile {
	int fd;
	int read_only_fd;
	bool block_device; /* a block device (host_device driver), not a regular file */
} QemuFile;

typedef struct QemuHostFacts {
	QemuAccel accel;
	const char *qmp_socket; /* path QEMU listens on for QMP (server, no wait), or: */
	int qmp_fd; /* >= 3: a listening socket QEMU inherits at this fd (0: none, use the path) */
	/* firmware: uefi. The code is read-only; the vars file is the VM's own copy. */
	const char *ovmf_code;
	const char *ovmf_vars;
	QemuFile ovmf_vars_file; /* the vars file, opened read-write */
	QemuFile disks[VM_MAX_DISKS]; /* the definition's disks, in order */
	QemuFile cdroms[VM_MAX_CDROMS]; /* the definition's CD-ROMs, in order */
	const char *tpm_socket; /* swtpm's control socket, when the definition asks for a TPM */
	int numa_node; /* the node memory is bound to and vCPUs run on; -1: none */
	/* Looking Glass: "/dev/kvmfr0" when the kvmfr module is loaded, else a /dev/shm file */
	const char *looking_glass_path;
	bool looking_glass_kvmfr;
	/* audio: the owner's sound server socket (PipeWire's pulse socket or PulseAudio's) */
	const char *audio_server;
	int tap_fd; /* network: bridge: an open tap fd QEMU inherits; -1 otherwise */
	bool vnc; /* the console as a VNC server with no socket: clients come over QMP */
} QemuHostFacts;

DECLARE_STRING_TABLE_LOOKUP(qemu_accel, QemuAccel);

/*
 * The RLIMIT_MEMLOCK QEMU needs for `definition` with `n_gpus` VFIO devices,
 * in bytes; 0 when it needs none beyond the default (no VFIO device). VFIO's
 * type1 IOMMU pins every page of guest RAM and of the other RAM-backed regions
 * it maps (Looking Glass's shared memory) against this limit, plus what it maps
 * besides RAM (ROMs, MMIO of other devices, vIOMMU tables): libvirt reserves
 * guest RAM + 1 GiB for that (qemuDomainGetMemLockLimitBytes), and so do we.
 */
uint64_t qemu_memlock_limit(const VmDefinition *definition, size_t n_gpus);

/*
 * Builds the argv (a strv, argv[0] = `binary`) for `definition` with `gpus`
 * (one per GPU entry whose mode is not none, in order). Returns 0, -EINVAL
 * with *ret_message saying what is missing (a UEFI VM without OVMF, a TPM without
 * its socket, ...) or -ENOMEM.
 */
int qemu_cmdline_build(const char *binary, const VmDefinition *definition,
		       const QemuGpuAssignment *gpus, size_t n_gpus, const QemuHostFacts *host,
		       char ***ret_argv, char **ret_message);
