/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VM definition: one YAML file per VM (/etc/libvfio/vms/NAME.yaml), read
 * strictly. An unknown key, a key given twice, a wrong type, a bad size or a
 * relative path is an error "FILE:LINE:COLUMN: KEY: what is wrong". Shared by
 * the daemon and `vfioctl validate`, so it never logs and does no I/O beyond
 * reading the file.
 *
 * This is the schema so far (issue 5): identity, memory, CPUs, firmware, TPM,
 * disks, CD-ROMs and the boot order, network, NUMA, huge pages, audio, USB, Windows tuning,
 * autostart, owner, extra QEMU arguments, the GPU list, CPU pinning and
 * Looking Glass.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse_util.h"
#include "pci_address.h"
#include "string_table.h"

#define VM_NAME_MAX 64
#define VM_DEFINITION_MAX_FILE_SIZE (256U << 10)
#define VM_MAX_CPUS 1024
#define VM_MAX_DISKS 32
/* CD-ROMs sit on the AHCI controller's six ports (with any SATA disks). */
#define VM_MAX_CDROMS 6

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

/* What the firmware tries first: the disks, or the CD-ROMs (an installer). */
typedef enum VmBoot {
	VM_BOOT_DISK,
	VM_BOOT_CDROM,
	_VM_BOOT_MAX,
} VmBoot;

typedef enum VmNetworkMode {
	VM_NETWORK_USER, /* QEMU's user-mode NAT: works anywhere, no setup */
	VM_NETWORK_BRIDGE, /* a tap on an existing host bridge */
	VM_NETWORK_NONE,
	_VM_NETWORK_MODE_MAX,
} VmNetworkMode;

typedef enum VmHugepages {
	VM_HUGEPAGES_OFF,
	VM_HUGEPAGES_2M,
	VM_HUGEPAGES_1G,
	_VM_HUGEPAGES_MAX,
} VmHugepages;

typedef enum VmAudio {
	VM_AUDIO_NONE,
	VM_AUDIO_PIPEWIRE,
	VM_AUDIO_PULSEAUDIO,
	_VM_AUDIO_MAX,
} VmAudio;

#define VM_NUMA_AUTO (-1) /* the node of the VM's GPU */
#define VM_NUMA_OFF (-2) /* no NUMA placement */
#define VM_MAX_USB 16
#define VM_MAX_HOST_CPU 8191
#define VM_MAX_QEMU_ARGS 256

typedef enum VmGpuMode {
	VM_GPU_AUTO, /* the best mode the GPU offers: mdev, then SR-IOV, then passthrough */
	VM_GPU_MDEV,
	VM_GPU_SRIOV,
	VM_GPU_PASSTHROUGH,
	VM_GPU_NONE,
	_VM_GPU_MODE_MAX,
} VmGpuMode;

#define VM_MAX_GPUS 4

typedef struct VmGpu {
	VmGpuMode mode;
	bool has_address;
	PciAddress address; /* this GPU, or */
	char *parent; /* the mdev parent outside PCI of this name ("mbochs"), or */
	uint16_t vendor_id, device_id; /* any of this vendor (and device); 0: any GPU */
	char *type; /* an mdev type id or name, or NULL */
	uint64_t min_framebuffer; /* bytes; 0: no constraint */
	unsigned max_instances; /* 0: no constraint */
	bool display; /* a display for the mdev (ramfb, display=on): the guest's screen */
	char *rom; /* absolute path of a ROM file to show the guest, or NULL */
	/* What the guest sees instead of the device's own ids; 0: the device's */
	uint16_t guest_vendor_id, guest_device_id, guest_subsystem_vendor_id, guest_subsystem_id;
	/*
	 * SR-IOV on Intel's xe: the VF's share of GPU time, and of VRAM on a
	 * discrete GPU (its profile in the PF's sriov_admin), set before the VF
	 * is handed over and put back after.
	 */
	bool has_exec_quantum, has_preempt_timeout, has_vram_quota;
	uint32_t exec_quantum_ms; /* how long it may run at a time; 0: no limit */
	uint32_t preempt_timeout_us; /* how long it has to yield; 0: no limit */
	uint64_t vram_quota; /* bytes of VRAM, never 0 (that is the kernel's "unprovisioned") */
} VmGpu;

typedef struct VmUsbDevice {
	uint16_t vendor_id, product_id;
} VmUsbDevice;

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
	bool tpm; /* an emulated TPM 2.0 (swtpm), as Windows 11 wants */
	VmGpu *gpus;
	size_t n_gpus;
	VmDisk *disks;
	size_t n_disks;
	char **cdroms; /* strv: absolute paths of ISOs, in order; NULL when none */
	VmBoot boot; /* disk: disks, then CD-ROMs; cdrom: CD-ROMs, then disks */
	VmNetworkMode network;
	char *bridge; /* for VM_NETWORK_BRIDGE */
	char *nic_model; /* "virtio-net-pci" unless asked */
	char *mac; /* "52:54:00:12:34:56", or NULL for one made from the UUID */
	int numa; /* a node, VM_NUMA_AUTO or VM_NUMA_OFF */
	bool pin_cpus; /* pin vCPU threads: to `pinned` when given, else near the GPU */
	unsigned *pinned; /* host CPU for each vCPU in order, or NULL for automatic */
	size_t n_pinned;
	uint64_t looking_glass; /* shared-memory size for Looking Glass in bytes; 0: off */
	VmHugepages hugepages;
	VmAudio audio;
	VmUsbDevice *usb;
	size_t n_usb;
	bool windows; /* the definition has a windows: section: the guest is Windows */
	bool hyperv; /* Hyper-V enlightenments for Windows guests */
	bool hide_hypervisor; /* opt-in, for anti-cheat that refuses VMs */
	bool autostart;
	char *owner; /* the local user who may control the VM, or NULL */
	char **qemu_args; /* strv: appended to QEMU's argv as they are; NULL when none */
} VmDefinition;

/* [A-Za-z0-9][A-Za-z0-9_.-]{0,63} */
bool vm_name_is_valid(const char *name);

DECLARE_STRING_TABLE_LOOKUP(vm_firmware, VmFirmware);
DECLARE_STRING_TABLE_LOOKUP(vm_disk_bus, VmDiskBus);
DECLARE_STRING_TABLE_LOOKUP(vm_boot, VmBoot);
DECLARE_STRING_TABLE_LOOKUP(vm_network_mode, VmNetworkMode);
DECLARE_STRING_TABLE_LOOKUP(vm_hugepages, VmHugepages);
DECLARE_STRING_TABLE_LOOKUP(vm_audio, VmAudio);
DECLARE_STRING_TABLE_LOOKUP(vm_gpu_mode, VmGpuMode);

/*
 * Reads a definition from text; `origin` names it in errors (a path, or
 * "<stdin>"). Returns 0, -EINVAL with *ret_message set (free() it), or -ENOMEM.
 */
int vm_definition_load_string(const char *text, size_t size, const char *origin, VmDefinition *ret,
			      char **ret_message);

/* The same from a file; -ENOENT and other read errors come with *ret_message too. */
int vm_definition_load_file(const char *path, VmDefinition *ret, char **ret_message);
/* The same from a descriptor the caller opened (yaml_doc_load_fd); `origin` names it in errors. */
int vm_definition_load_fd(int fd, const char *origin, VmDefinition *ret, char **ret_message);

void vm_definition_done(VmDefinition *definition);

/* The number of vCPUs: sockets × cores × threads. */
unsigned vm_definition_cpus(const VmDefinition *definition);
