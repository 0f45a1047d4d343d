/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host model: every PCI function with what libvfio needs to know of it
 * (IDs and names, driver, IOMMU group, NUMA node, SR-IOV, mdev types), the
 * IOMMU groups, the NUMA nodes and the system facts the readiness checks
 * use. Built by host_discover() from files below the sysfs root; the readers
 * for each concern live in pci.c, sriov.c, mdev.c, iommu.c, numa.c and
 * host_facts.c. A damaged file becomes a warning on the device it belongs
 * to, never a failure of the whole discovery.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/sysfs.h"
#include "pci_address.h"

/*
 * PCI class codes (the upper 16 bits of the 24-bit class). Base class 03 is
 * "display controller" in the PCI Code and ID Assignment Specification
 * (rev. 1.15, section 1.4) and in the kernel's include/linux/pci_ids.h:
 * PCI_CLASS_DISPLAY_VGA 0x0300 (desktop cards, iGPUs), PCI_CLASS_DISPLAY_XGA
 * 0x0301, PCI_CLASS_DISPLAY_3D 0x0302 (NVIDIA's data-centre GPUs: Tesla T4,
 * L4, A100) and PCI_CLASS_DISPLAY_OTHER 0x0380 (AMD Instinct MI25 and later).
 * Every sub-class of base class 03 is a GPU.
 */
#define PCI_CLASS_DISPLAY 0x03
#define PCI_CLASS_VGA 0x0300
#define PCI_CLASS_BRIDGE_PCI 0x0604

typedef struct MdevType {
	char *id; /* directory name: "i915-GVTg_V5_4" */
	char *name;
	char *description;
	char *device_api;
	int64_t available_instances; /* -1 when unreadable */
	char **instances; /* UUIDs of existing mdevs (strv) */
} MdevType;

/* The standard BARs of a PCI function (BAR 0 to 5). */
#define PCI_STD_BARS 6

/* A BAR of the Resizable BAR capability (rebar.h). */
typedef struct PciRebar {
	uint8_t bar; /* 0 to 5 */
	uint64_t sizes; /* bit k set: it can take 2^(k+20) bytes */
	uint64_t current; /* bytes now; 0 when unknown */
} PciRebar;

typedef struct PciFunction {
	PciAddress address;
	char address_text[PCI_ADDRESS_TEXT_SIZE];
	uint16_t vendor_id;
	uint16_t device_id;
	uint32_t class_code; /* 24 bits: 0x030000 */
	char *vendor_name; /* from pci.ids, NULL when unknown */
	char *device_name;
	char *driver; /* NULL when unbound */
	int iommu_group;
	int numa_node; /* -1 when the platform does not say */
	int boot_vga; /* -1 when the device has no boot_vga attribute */
	/*
	 * A GPU's reset_method (Linux 5.15+, sysfs-bus-pci): the resets the kernel
	 * tries, in order, space-separated ("flr bus"); "" when it has none; NULL
	 * when the kernel has no such attribute.
	 */
	char *reset_method;
	/* a GPU's resizable BARs (Linux 6.1+, rebar.h) */
	PciRebar rebars[PCI_STD_BARS];
	uint8_t n_rebars;
	bool readable; /* IDs and class were read; otherwise only the address is known */

	/* SR-IOV, on physical functions that have the capability */
	int sriov_total_vfs; /* -1 when not SR-IOV capable */
	int sriov_num_vfs;
	int sriov_autoprobe; /* -1 unknown */
	PciAddress *vfs;
	size_t n_vfs;

	/* on a virtual function */
	bool is_vf;
	PciAddress physfn;
	/* its entry in the PF's xe sriov_admin (xe_sriov.h): vfN, 0 when none */
	unsigned xe_vf_index;
	/*
	 * its profile, by XeProfileAttribute (exec_quantum_ms, preempt_timeout_us,
	 * vram_quota): each value only where known, its file there and read
	 */
	bool xe_profile_known[3];
	uint64_t xe_profile[3];

	/*
	 * A VF of NVIDIA's vGPU host driver without mdev (nvidia_vgpu.h): the
	 * type it has (0: none; UINT32_MAX: unreadable) and the types it can take
	 * now, in MdevType's shape.
	 */
	bool nvidia_vgpu;
	uint32_t nvidia_vgpu_current;
	MdevType *nvidia_vgpu_types;
	size_t n_nvidia_vgpu_types;
	/* a member of sys/class/mdev_bus: the mdev types it offers */
	bool mdev_parent;
	MdevType *mdev_types;
	size_t n_mdev_types;

	/* not of class 03, but a GPU by the configuration (gpus.partitionable), or its VF */
	bool configured_gpu;

	char **warnings; /* strv: what could not be read, one sentence each */
} PciFunction;

/*
 * An mdev parent that is not a PCI function: a member of sys/class/mdev_bus
 * whose device lives elsewhere (the kernel's sample drivers mbochs, mdpy and
 * mtty register theirs under sys/devices/virtual). Named by its device name.
 */
typedef struct MdevParent {
	char *name; /* "mbochs": the entry in sys/class/mdev_bus */
	char *path; /* where the device is, below sys/: "devices/virtual/mbochs/mbochs" */
	MdevType *mdev_types;
	size_t n_mdev_types;
	char **warnings;
} MdevParent;

typedef struct IommuGroup {
	int id;
	PciAddress *members;
	size_t n_members;
} IommuGroup;

typedef struct HugepagePool {
	uint64_t size_kib;
	uint64_t total;
	uint64_t free;
} HugepagePool;

typedef struct NumaNode {
	int id;
	char *cpus; /* cpulist: "0-7,16-23" */
	uint64_t memory_total_kib;
	uint64_t memory_free_kib;
	HugepagePool *hugepages;
	size_t n_hugepages;
} NumaNode;

/* What the readiness checks need beyond the PCI devices. */
typedef struct HostFacts {
	char *kernel_release;
	char *cmdline;
	char *cpu_vendor; /* "GenuineIntel", "AuthenticAMD", NULL */
	bool dmar; /* ACPI DMAR table: Intel VT-d */
	bool ivrs; /* ACPI IVRS table: AMD-Vi */
	bool iommu_class; /* sys/class/iommu has an entry: the kernel enabled an IOMMU */
	int irq_remapping; /* 1 on, 0 off, -1 unknown */
	bool unsafe_interrupts_allowed; /* vfio_iommu_type1.allow_unsafe_interrupts=1 */
	bool kvm_present;
	bool kvm_usable; /* could be opened read-write */
	char **modules_loaded; /* of those we ask about */
	char **modules_loadable; /* listed in modules.dep or modules.builtin */
	int i915_enable_gvt; /* 1 Y, 0 N, -1 no such parameter */
	char **ovmf_files; /* firmware found */
	char **ovmf_vars_files; /* UEFI variables templates found */
	/*
	 * The most locked memory the daemon can give QEMU (VFIO pins all guest
	 * RAM against it): UINT64_MAX when unlimited. From proc/self (the daemon's
	 * capabilities and RLIMIT_MEMLOCK); memlock_known false when unreadable.
	 */
	uint64_t memlock_grantable;
	bool memlock_known;
	/*
	 * UEFI Secure Boot, from the SecureBoot EFI variable: 1 on, 0 off, -1
	 * unknown (booted by UEFI, but the variable is missing or damaged).
	 * efi_boot false: no sys/firmware/efi, a legacy BIOS boot, no Secure Boot.
	 */
	int secure_boot;
	bool efi_boot;
	HugepagePool *hugepages; /* system-wide pools */
	size_t n_hugepages;
	char **warnings;
} HostFacts;

typedef struct HostModel {
	PciFunction *functions; /* sorted by address */
	size_t n_functions;
	/* each function's address as one number, in the same order, for lookups
	 * (host_model_index()) */
	uint64_t *function_keys;
	IommuGroup *groups; /* sorted by id */
	size_t n_groups;
	NumaNode *nodes;
	size_t n_nodes;
	MdevParent *mdev_parents; /* outside PCI, sorted by name */
	size_t n_mdev_parents;
	HostFacts facts;
	char **warnings; /* about the host as a whole */
} HostModel;

typedef struct PciNames PciNames;

/* pci.ids lookups through libpci, loaded once and kept (loading takes milliseconds). */
int pci_names_new(PciNames **ret);
PciNames *pci_names_free(PciNames *names);

/*
 * What the daemon's configuration adds to discovery: PCI functions to treat
 * as GPUs although their class is not 03, each a PCI address
 * ("0000:01:00.0") or vendor:device ids ("1b36:0010"). NULL: none.
 */
typedef struct HostOptions {
	char **extra_gpus;
} HostOptions;

/*
 * Builds the whole model from below `root` (`options` may be NULL). Returns 0
 * or -ENOMEM; damage becomes warnings.
 */
int host_discover(const SysfsRoot *root, PciNames *names, const HostOptions *options,
		  HostModel **ret);
HostModel *host_model_free(HostModel *model);

/* Lookups in a model. NULL when absent. */
const PciFunction *host_find_function(const HostModel *model, const PciAddress *address);
const IommuGroup *host_find_group(const HostModel *model, int id);
const MdevParent *host_find_mdev_parent(const HostModel *model, const char *name);
/*
 * The functions of `address`'s slot (its domain, bus and device): *ret_n of
 * them from the one returned, in address order; NULL (and 0) when none.
 */
const PciFunction *host_find_slot(const HostModel *model, const PciAddress *address, size_t *ret_n);

/*
 * What libvfio partitions ("a GPU" in its interfaces): PCI class 03 (VGA, 3D
 * and other display controllers), any other PCI function that is an mdev
 * parent, and a function the configuration names (and its VFs).
 */
bool pci_function_is_gpu(const PciFunction *function);
bool pci_function_is_bridge(const PciFunction *function);
