/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The readers host_discover() puts together, one per concern. Each reads
 * below the sysfs root and records damage as warnings; only -ENOMEM fails.
 */
#pragma once

#include "host/host.h"

/*
 * Reads more of a readable function from its sysfs directory (`dir`, see
 * sysfs_open_dir()). Called from several threads at once, each time for a
 * different function: it may touch only that function. It sets is_vf and
 * physfn for the virtual functions it reads (pci.c then gives them their
 * PF's NUMA node instead of reading theirs).
 */
typedef int (*PciFunctionReader)(PciFunction *function, int dir, void *userdata);

/*
 * pci.c: every function below sys/bus/pci/devices, sorted by address, each
 * readable one handed to `each` with its directory open. Only -ENOMEM, or a
 * failure of `each`, fails.
 */
int pci_read_functions(const SysfsRoot *root, PciNames *names, PciFunctionReader each,
		       void *userdata, PciFunction **ret, size_t *ret_n, char ***host_warnings);
void pci_functions_free(PciFunction *functions, size_t n);

/*
 * host.c: (re)builds the model's index of function addresses (function_keys),
 * once the functions are read and sorted. Lookups work without it, slower.
 * -ENOMEM, or 0.
 */
int host_model_index(HostModel *model);

/* sriov.c: SR-IOV state of a physical function, or the physical function of a VF. */
int sriov_read(int dir, PciFunction *function);

/*
 * mdev.c: every member of sys/class/mdev_bus with the types it offers: a PCI
 * function gets them in its PciFunction (whatever its class), any other
 * device becomes an MdevParent of the model.
 */
int mdev_read_parents(const SysfsRoot *root, HostModel *model);
void mdev_types_free(MdevType *types, size_t n);
void mdev_parents_free(MdevParent *parents, size_t n);

/* iommu.c: the groups in sys/kernel/iommu_groups. */
int iommu_read_groups(const SysfsRoot *root, HostModel *model);

/* numa.c: NUMA nodes with their CPUs, memory and hugepages. */
int numa_read_nodes(const SysfsRoot *root, HostModel *model);
int hugepages_read_pools(const SysfsRoot *root, const char *directory, HugepagePool **ret,
			 size_t *ret_n);

/* host_facts.c: IOMMU, interrupt remapping, KVM, modules, firmware, kernel command line. */
int host_facts_read(const SysfsRoot *root, HostFacts *facts);
void host_facts_done(HostFacts *facts);
/*
 * The SecureBoot variable's content (efivarfs: 4 bytes of attributes, then
 * the value, one byte): 1 on, 0 off, -1 when it is not that shape.
 */
int secure_boot_from_efivar(const uint8_t *data, size_t size);
