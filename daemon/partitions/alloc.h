/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Choosing a partition for a request: which GPU, which mdev type or VF, and
 * what has to change first. A pure function of the request, the host model
 * and the partitions libvfio already holds: no I/O, so it is tested with
 * hand-made hosts, and two requests decided one after the other against the
 * same holdings can never get the same partition.
 *
 * Order: the exact address when one is asked for; among the rest, the GPUs on
 * the preferred NUMA node first, then the least-loaded, then the lowest
 * address (deterministic).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/gpu_modes.h"
#include "host/host.h"
#include "host/xe_sriov.h"
#include "string_table.h"

typedef struct PartitionRequest {
	PartitionModeKind mode;

	/*
	 * Which GPU: an exact address, an mdev parent outside PCI by name, or any
	 * of a vendor (and device); none set: any GPU or mdev parent.
	 */
	bool has_address;
	PciAddress address;
	const char *parent; /* "mbochs"; NULL: none */
	uint16_t vendor_id; /* 0: any */
	uint16_t device_id; /* 0: any (only with a vendor) */

	/* mdev: a type by id ("i915-GVTg_V5_4") or by name ("GRID T4-2Q"), or constraints. */
	const char *type;
	uint64_t min_framebuffer_mib; /* 0: no minimum */
	uint64_t max_instances; /* at most this many per GPU (bigger slices); 0: any */

	/* SR-IOV: how many VFs to enable when the GPU has none yet (0: all it supports). */
	unsigned vfs_to_enable;
	/* SR-IOV on xe: the VF's share of GPU time, set while the partition lives. */
	XeProfile profile;

	int preferred_node; /* -1: none */
	bool force; /* passthrough: take the boot display too */
} PartitionRequest;

/* A partition libvfio holds (from its records), or is creating. */
typedef struct HeldPartition {
	PartitionModeKind mode;
	PciAddress parent; /* the GPU */
	PciAddress device; /* sriov: the VF; passthrough: the GPU; mdev: the parent */
	const char
		*parent_name; /* mdev on a parent outside PCI: its name (parent, device unused) */
} HeldPartition;

typedef enum AllocError {
	ALLOC_OK,
	ALLOC_NO_SUCH_GPU, /* no PCI device at the address */
	ALLOC_NOT_A_GPU, /* a device, but not PCI class 03 */
	ALLOC_NO_MATCHING_GPU, /* no GPU of that vendor/device */
	ALLOC_MODE_UNSUPPORTED, /* no matching GPU offers the mode */
	ALLOC_UNKNOWN_TYPE, /* no mdev type of that id or name, or none meets the constraints */
	ALLOC_NO_SUCH_TYPE, /* no parent on the host offers a type of that id or name */
	ALLOC_NONE_FREE, /* the mode is offered but everything is taken */
	ALLOC_BOOT_VGA, /* passthrough of the boot display without force */
	ALLOC_NOT_ISOLATED, /* passthrough of a GPU sharing its IOMMU group */
	ALLOC_HELD, /* passthrough of a GPU libvfio already hands out */
	ALLOC_DEVICE_IN_USE, /* passthrough of a device a host program holds (the engine's) */
	_ALLOC_ERROR_MAX,
} AllocError;

typedef struct AllocationChoice {
	PartitionModeKind mode;
	PciAddress gpu;
	const MdevParent
		*parent; /* mdev on a parent outside PCI (points into the model); gpu unused */
	/* mdev */
	const MdevType *type; /* points into the model */
	/* sriov */
	unsigned enable_vfs; /* > 0: write sriov_numvfs first (the GPU has none) */
	bool vf_known; /* false when the VF appears only once VFs are enabled */
	PciAddress vf;
} AllocationChoice;

/* What a refusal is about: a GPU, or an mdev parent outside PCI (`parent` set). */
typedef struct AllocSubject {
	PciAddress gpu;
	const char *parent; /* points into the model or the request */
} AllocSubject;

/*
 * Decides. Returns ALLOC_OK and fills *ret, or the reason nothing fits. On
 * failure *ret_about names the GPU or parent the reason is about, when there
 * is one; it is left alone for a GPU or parent asked for that does not exist
 * or is not a GPU, for ALLOC_NO_MATCHING_GPU and for ALLOC_NO_SUCH_TYPE.
 */
AllocError alloc_choose(const HostModel *model, const HeldPartition *held, size_t n_held,
			const PartitionRequest *request, AllocationChoice *ret,
			AllocSubject *ret_about);

/*
 * The sentence for each reason no partition fits, naming `subject` (a PCI
 * address when `is_address`, else an mdev parent's name) and saying what to
 * do; for a type nobody offers, it lists the types of `model`. The partition
 * engine reports it with the error.
 */
void alloc_error_sentence(AllocError error, const HostModel *model, const char *subject,
			  bool is_address, char *buf, size_t size);

/*
 * The code's own name, for logs and tests ("none-free"). What a client sees
 * is api/errors.h's business: the allocator knows no wire names.
 */
DECLARE_STRING_TABLE_LOOKUP(alloc_error, AllocError);
