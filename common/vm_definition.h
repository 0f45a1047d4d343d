/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VM definition: one YAML file per VM (/etc/libvfio/vms/NAME.yaml), read
 * strictly. An unknown key, a key given twice, a wrong type, a bad size or a
 * relative path is an error "FILE:LINE:COLUMN: KEY: what is wrong". Shared by
 * the daemon and `vfioctl validate`, so it never logs and does no I/O beyond
 * reading the file.
 *
 * This is the first part of the schema (issue 5): identity, memory, CPUs,
 * firmware and disks. The GPU, network, NUMA and the rest follow.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse_util.h"

#define VM_NAME_MAX 64
#define VM_DEFINITION_MAX_FILE_SIZE (256U << 10)
#define VM_MAX_CPUS 1024
#define VM_MAX_DISKS 32

typedef enum VmFirmware {
	VM_FIRMWARE_UEFI,
	VM_FIRMWARE_BIOS,
	_VM_FIRMWARE_MAX,
} VmFirmware;

typedef enum VmDiskBus {
	VM_DISK_VIRTIO,
	VM_DISK_SATA,
	VM_DISK_NVME,
	_VM_DISK_BUS_MAX,
} VmDiskBus;

typedef struct VmDisk {
	char *path; /* absolute */
	char *format; /* "raw" or "qcow2" */
	VmDiskBus bus;
	bool readonly;
	char *cache; /* QEMU's cache mode: "none" unless asked */
} VmDisk;

typedef struct VmDefinition {
	char *name;
	char uuid[UUID_STRING_SIZE]; /* "" when the file has none (one is made at define) */
	uint64_t memory; /* bytes */
	unsigned sockets, cores, threads; /* "cpus: 8" means 1 socket, 8 cores, 1 thread */
	VmFirmware firmware;
	bool secure_boot;
	VmDisk *disks;
	size_t n_disks;
} VmDefinition;

/* [A-Za-z0-9][A-Za-z0-9_.-]{0,63} */
bool vm_name_is_valid(const char *name);

const char *vm_firmware_to_string(VmFirmware firmware);
const char *vm_disk_bus_to_string(VmDiskBus bus);

/*
 * Reads a definition from text; `origin` names it in errors (a path, or
 * "<stdin>"). Returns 0, -EINVAL with *ret_error set (free() it), or -ENOMEM.
 */
int vm_definition_load_string(const char *text, size_t size, const char *origin, VmDefinition *ret,
			      char **ret_error);

/* The same from a file; -ENOENT and other read errors come with *ret_error too. */
int vm_definition_load_file(const char *path, VmDefinition *ret, char **ret_error);

void vm_definition_done(VmDefinition *definition);

/* The number of vCPUs: sockets × cores × threads. */
unsigned vm_definition_cpus(const VmDefinition *definition);
