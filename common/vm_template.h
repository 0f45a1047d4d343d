/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The definition `vfioctl create` writes: a pure function from the user's
 * choices (an OS, the installer ISO, the disk image, sizes, a GPU) to the
 * YAML text of a VM definition with sound defaults for that OS. No I/O: the
 * caller checks the files and makes the disk.
 *
 * Windows 11: UEFI, secure boot, a TPM, Hyper-V enlightenments; the disk on
 * SATA and an e1000e NIC, which its installer drives without extra drivers,
 * unless the virtio-win drivers ISO is given: then virtio for both, and the
 * ISO attached. Windows 10: the same without the TPM. Linux: UEFI, virtio.
 */
#pragma once

#include <stdint.h>

#include "string_table.h"

typedef enum VmTemplateOs {
	VM_TEMPLATE_WINDOWS11,
	VM_TEMPLATE_WINDOWS10,
	VM_TEMPLATE_LINUX,
	_VM_TEMPLATE_OS_MAX,
} VmTemplateOs;

DECLARE_STRING_TABLE_LOOKUP(vm_template_os, VmTemplateOs);

/* What the OS gets unless the user says otherwise. */
typedef struct VmTemplateDefaults {
	uint64_t memory; /* bytes */
	unsigned cpus;
	uint64_t disk_size; /* bytes */
} VmTemplateDefaults;

/* The defaults of `os` (Windows 11: 8 GiB, 4 vCPUs, 64 GiB of disk, its minimum). */
VmTemplateDefaults vm_template_defaults(VmTemplateOs os);

/* The choices; strings are borrowed. */
typedef struct VmTemplate {
	const char *name;
	VmTemplateOs os;
	const char *iso; /* absolute path of the installer ISO */
	const char *drivers_iso; /* absolute path of the virtio-win ISO, or NULL */
	const char *disk; /* absolute path of the qcow2 image */
	uint64_t memory; /* bytes, whole MiB; 0: the OS's default */
	unsigned cpus; /* 0: the OS's default */
	const char *gpu; /* a PCI address, or NULL for none */
	const char *owner; /* the user who may control the VM, or NULL */
} VmTemplate;

/*
 * The definition's YAML text (NUL-terminated, free() it) in *ret. Every
 * string is written as a double-quoted YAML scalar, so no path can add a key.
 * Returns 0 or -ENOMEM; it does not check the choices (the caller validates
 * the text, as for any definition).
 */
int vm_template_text(const VmTemplate *template, char **ret);
