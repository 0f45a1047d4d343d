/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NVIDIA vGPU on an SR-IOV VF without mdev: the "vendor-specific VFIO
 * framework" of NVIDIA's vGPU software from release 17 on Linux 6.8 and later
 * (NVIDIA Virtual GPU Software User Guide 17.0, "Creating an NVIDIA vGPU on a
 * Linux with KVM Hypervisor that Uses a Vendor-Specific VFIO Framework").
 *
 *   PF                       stays on the nvidia driver
 *   VF                       made by /usr/lib/nvidia/sriov-manage -e PF, and
 *                            stays on nvidia too: nvidia.ko is its VFIO
 *                            driver (a vfio-dev/vfioN and /dev/vfio/GROUP);
 *                            vfio-pci refuses to probe it (kubevirt#17642)
 *   VF/nvidia/creatable_vgpu_types   lines "ID : NAME" ("1155 : NVIDIA L40S-4Q"),
 *                            what this VF can take now; the list shrinks as
 *                            the GPU fills, and drivers that want every vGPU
 *                            on one GPU of one type list only that type
 *   VF/nvidia/current_vgpu_type      the type the VF has: write an ID to make
 *                            the vGPU, 0 to release it; 0 again after the
 *                            device is enumerated anew (a reboot)
 *
 * QEMU then takes the VF like any VFIO PCI device. Sources besides the
 * guide: NVIDIA/vgpu-device-manager (its vfio backend parses the lines by
 * their first field, a number), OpenNebula/one#6841 (libvirt hostdev with
 * managed='no': the VF is never rebound), kubevirt/kubevirt#17642.
 */
#pragma once

#include <stdint.h>

#include "host/host.h"
#include "host/sysfs_plan.h"

/*
 * The types in a creatable_vgpu_types text, in MdevType's shape: id the
 * number ("1155"), name the rest of the line, available_instances 1 (each
 * VF holds one vGPU). Lines that are not "NUMBER : NAME" (a heading) are
 * skipped; a control character in a name ends the name. 0 or -ENOMEM.
 */
int nvidia_vgpu_parse_types(const char *text, MdevType **ret, size_t *ret_n);

/*
 * Reads VF `f` (its directory `dir`): whether it has NVIDIA's vGPU files, its
 * current type and the types it can take. Damage becomes a warning. 0 or
 * -ENOMEM.
 */
int nvidia_vgpu_read_vf(int dir, PciFunction *f);

/* Of the types VF `vf` can take now, the one of this id; NULL when none. */
const MdevType *nvidia_vgpu_find_type(const PciFunction *vf, const char *id);

/* The write that gives VF `vf` the type `id` (0: releases its vGPU). */
int nvidia_vgpu_write_plan(const PciFunction *vf, uint32_t id, SysfsPlan *plan);
