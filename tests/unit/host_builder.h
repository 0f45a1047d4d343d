/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host models built by hand, for the tests of the pure functions over them
 * (partition modes, readiness): no sysfs, no host_discover(). Everything is
 * allocated as host_discover() would, and host_model_free() frees it in the
 * teardown. Failures here are test failures (cmocka assertions), so callers
 * need no checks.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "host/host.h"
#include "host/sysfs_plan.h"

#define VENDOR_INTEL 0x8086
#define VENDOR_NVIDIA 0x10de
#define VENDOR_AMD 0x1002

#define CLASS_VGA 0x030000
#define CLASS_3D 0x030200
#define CLASS_AUDIO 0x040300
#define CLASS_ETHERNET 0x020000
#define CLASS_PCI_BRIDGE 0x060400

/*
 * An empty model: no devices, no groups, and facts that know nothing (the
 * "-1"s unknown). It belongs to the builder until models_teardown().
 */
HostModel *model_new(void);

/*
 * Frees every model made since the last call: the teardown of each test that
 * builds models, so that they are freed when an assertion ends a test early.
 */
int models_teardown(void **state);

/*
 * Adds a readable function at `address` ("0000:01:00.0") bound to `driver`
 * (NULL: unbound), with no IOMMU group, SR-IOV or mdev types. The pointer is
 * good until the next function is added.
 */
PciFunction *model_add_function(HostModel *model, const char *address, uint16_t vendor_id,
				uint32_t class_code, const char *driver);

/* Adds a virtual function of the function at `pf_address` and lists it there. */
PciFunction *model_add_vf(HostModel *model, const char *pf_address, const char *address,
			  uint16_t vendor_id, uint32_t class_code, const char *driver);

/* Sets the pci.ids device name. */
void function_set_device_name(PciFunction *function, const char *name);

/*
 * Adds a vfio-pci mdev type named like its id, with `available` free
 * instances and `n_instances` existing ones. The pointer is good until the
 * next type is added to the function.
 */
MdevType *function_add_mdev_type(PciFunction *function, const char *id, int64_t available,
				 size_t n_instances);

/* Sets what the type's name and description files say (NULL: no such file). */
void mdev_type_set_text(MdevType *type, const char *name, const char *description);

/* Sets the type's device_api ("vfio-pci", "vfio-ccw"; NULL: unreadable). */
void mdev_type_set_device_api(MdevType *type, const char *device_api);

/*
 * Makes a VF one of NVIDIA's vGPU host driver (nvidia_vgpu.h): its current
 * type id and its creatable_vgpu_types text ("1155 : NVIDIA L4-8Q\n...").
 */
void function_set_nvidia_vgpu(PciFunction *vf, uint32_t current, const char *creatable);

/* Makes a physical function SR-IOV capable with `num_vfs` of `total_vfs` enabled. */
void function_set_sriov(PciFunction *function, int total_vfs, int num_vfs);

/*
 * Adds IOMMU group `id` with the members given as addresses, NULL last; the
 * functions of the model among them get the group.
 */
void model_add_group(HostModel *model, int id, ...) __attribute__((sentinel));

/* Adds a system-wide hugepage pool. */
void model_add_hugepages(HostModel *model, uint64_t size_kib, uint64_t total, uint64_t free);

/* Sorts functions by address and groups by id, as host_discover() leaves them. */
void model_finish(HostModel *model);

/* The function at `address` of a finished model; fails the test when absent. */
const PciFunction *model_function(const HostModel *model, const char *address);

/* Asserts the plan is exactly these (path, value) pairs, NULL-terminated. */
void expect_plan(const SysfsPlan *plan, ...) __attribute__((sentinel));
