#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Copies what libvfiod reads of a live host into a JSON manifest.

Runs inside the lab guest, on a real kernel (tests/lab/scenarios/capture.sh):

    capture-sysfs.py OUT.json

The manifest maps each path, relative to /, to ["d"] (a directory), ["l", TARGET]
(a symbolic link, TARGET as the kernel wrote it), ["f", TEXT, MODE] or
["b", BASE64, MODE] (a file). It holds every PCI function with the attributes the
daemon and the simulator use, IOMMU groups, PCI drivers, mdev parents (PCI or
virtual) with their types and devices, /dev/vfio, NUMA nodes, hugepage pools, the
modules and firmware tables the readiness checks look at, and a few proc files.
tests/fixtures/lab_capture.py lays a manifest out again as a fixture tree.

Only what is listed is read: a sysfs attribute can have side effects or block (a
device's `reset`, `rom`, `resourceN`), so nothing is walked blindly.
"""
import base64
import json
import os
import stat
import sys

PCI_FILES = ('vendor', 'device', 'subsystem_vendor', 'subsystem_device', 'class', 'revision',
             'irq', 'numa_node', 'local_cpulist', 'enable', 'driver_override', 'boot_vga',
             'resource', 'sriov_totalvfs', 'sriov_numvfs', 'sriov_drivers_autoprobe',
             'sriov_offset', 'sriov_stride', 'sriov_vf_device', 'sriov_vf_total_msix')
PCI_LINKS = ('driver', 'iommu_group', 'physfn')
MDEV_TYPE_FILES = ('name', 'description', 'available_instances', 'device_api', 'create')
MDEV_FILES = ('remove',)
MDEV_LINKS = ('mdev_type', 'iommu_group', 'driver')
MODULES = ('vfio', 'vfio_pci', 'vfio_iommu_type1', 'mdev', 'kvm', 'kvm_intel', 'kvm_amd',
           'i915', 'kvmgt', 'nvidia', 'nvidia_vgpu_vfio', 'amdgpu', 'gim', 'nvme', 'mbochs',
           'mdpy', 'mtty', 'bochs', 'virtio_gpu')
PROC_FILES = ('proc/cmdline', 'proc/sys/kernel/osrelease', 'proc/interrupts', 'proc/meminfo',
              'proc/self/status', 'proc/self/limits')
CONFIG_BYTES = 256  # the standard header and capabilities; the extended space is not read


class Manifest:
    def __init__(self):
        self.entries = {}

    def _parents(self, rel):
        parent = os.path.dirname(rel)
        while parent and parent not in self.entries:
            self.entries[parent] = ['d']
            parent = os.path.dirname(parent)

    def dir(self, rel):
        if os.path.isdir('/' + rel) and not os.path.islink('/' + rel):
            self._parents(rel)
            self.entries.setdefault(rel, ['d'])

    def link(self, rel):
        path = '/' + rel
        if os.path.islink(path):
            self._parents(rel)
            self.entries[rel] = ['l', os.readlink(path)]

    def file(self, rel, limit=1 << 20):
        path = '/' + rel
        try:
            st = os.lstat(path)
        except OSError:
            return
        if not stat.S_ISREG(st.st_mode):
            return
        mode = stat.S_IMODE(st.st_mode)
        data = b''
        if mode & 0o444:
            try:
                with open(path, 'rb') as f:
                    data = f.read(limit)
            except OSError:
                data = b''  # readable by mode, refused by the driver: kept empty
        self._parents(rel)
        try:
            self.entries[rel] = ['f', data.decode('utf-8'), mode]
        except UnicodeDecodeError:
            self.entries[rel] = ['b', base64.b64encode(data).decode('ascii'), mode]


def listdir(rel):
    try:
        return sorted(os.listdir('/' + rel))
    except OSError:
        return []


def device_dir(rel_link):
    """The device directory a /sys/bus/... link points at, relative to /."""
    return os.path.relpath(os.path.realpath('/' + rel_link), '/')


def capture_mdev_parent(m, d):
    types = f'{d}/mdev_supported_types'
    m.dir(types)
    for t in listdir(types):
        m.dir(f'{types}/{t}')
        for name in MDEV_TYPE_FILES:
            m.file(f'{types}/{t}/{name}')
        m.dir(f'{types}/{t}/devices')
        for uuid in listdir(f'{types}/{t}/devices'):
            m.link(f'{types}/{t}/devices/{uuid}')
            capture_mdev(m, device_dir(f'{types}/{t}/devices/{uuid}'))


def capture_mdev(m, md):
    m.dir(md)
    for name in MDEV_FILES:
        m.file(f'{md}/{name}')
    for name in MDEV_LINKS:
        m.link(f'{md}/{name}')


def capture_pci(m):
    m.dir('sys/bus/pci/devices')
    for addr in listdir('sys/bus/pci/devices'):
        m.link(f'sys/bus/pci/devices/{addr}')
        d = device_dir(f'sys/bus/pci/devices/{addr}')
        m.dir(d)
        for name in PCI_FILES:
            m.file(f'{d}/{name}')
        m.file(f'{d}/config', CONFIG_BYTES)
        for name in PCI_LINKS:
            m.link(f'{d}/{name}')
        for name in listdir(d):
            if name.startswith('virtfn') and name[6:].isdigit():
                m.link(f'{d}/{name}')
    m.dir('sys/bus/pci/drivers')
    for drv in listdir('sys/bus/pci/drivers'):
        m.dir(f'sys/bus/pci/drivers/{drv}')
        for name in listdir(f'sys/bus/pci/drivers/{drv}'):
            if ':' in name:
                m.link(f'sys/bus/pci/drivers/{drv}/{name}')


def capture_iommu(m):
    m.dir('sys/kernel/iommu_groups')
    for g in listdir('sys/kernel/iommu_groups'):
        gd = f'sys/kernel/iommu_groups/{g}'
        m.file(f'{gd}/type')
        m.file(f'{gd}/reserved_regions')
        m.dir(f'{gd}/devices')
        for name in listdir(f'{gd}/devices'):
            m.link(f'{gd}/devices/{name}')
    m.dir('sys/class/iommu')
    for unit in listdir('sys/class/iommu'):
        m.link(f'sys/class/iommu/{unit}')
        m.dir(device_dir(f'sys/class/iommu/{unit}'))
    for table in ('DMAR', 'IVRS'):
        if os.path.exists(f'/sys/firmware/acpi/tables/{table}'):
            m.entries[f'sys/firmware/acpi/tables/{table}'] = ['f', '', 0o400]
            m._parents(f'sys/firmware/acpi/tables/{table}')


def capture_mdev_bus(m):
    m.dir('sys/class/mdev_bus')
    for parent in listdir('sys/class/mdev_bus'):
        m.link(f'sys/class/mdev_bus/{parent}')
        d = device_dir(f'sys/class/mdev_bus/{parent}')
        m.dir(d)
        capture_mdev_parent(m, d)
    m.dir('sys/bus/mdev/devices')
    for uuid in listdir('sys/bus/mdev/devices'):
        m.link(f'sys/bus/mdev/devices/{uuid}')
    for drv in listdir('sys/bus/mdev/drivers'):
        m.dir(f'sys/bus/mdev/drivers/{drv}')
        for name in listdir(f'sys/bus/mdev/drivers/{drv}'):
            if os.path.islink(f'/sys/bus/mdev/drivers/{drv}/{name}') and name != 'module':
                m.link(f'sys/bus/mdev/drivers/{drv}/{name}')


def capture_system(m):
    nodes = 'sys/devices/system/node'
    m.dir(nodes)
    for name in ('online', 'possible', 'has_normal_memory'):
        m.file(f'{nodes}/{name}')
    for node in listdir(nodes):
        if node.startswith('node') and node[4:].isdigit():
            m.file(f'{nodes}/{node}/cpulist')
            m.file(f'{nodes}/{node}/meminfo')
            m.file(f'{nodes}/{node}/distance')
            for size in listdir(f'{nodes}/{node}/hugepages'):
                for name in ('nr_hugepages', 'free_hugepages', 'surplus_hugepages'):
                    m.file(f'{nodes}/{node}/hugepages/{size}/{name}')
    for size in listdir('sys/kernel/mm/hugepages'):
        for name in ('nr_hugepages', 'free_hugepages', 'resv_hugepages', 'surplus_hugepages'):
            m.file(f'sys/kernel/mm/hugepages/{size}/{name}')
    for module in MODULES:
        m.dir(f'sys/module/{module}')
    for rel in PROC_FILES:
        m.file(rel)
    m.dir('dev/vfio')
    for name in listdir('dev/vfio'):
        m.entries[f'dev/vfio/{name}'] = ['f', '', 0o600]


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: capture-sysfs.py OUT.json')
    m = Manifest()
    capture_pci(m)
    capture_iommu(m)
    capture_mdev_bus(m)
    capture_system(m)
    with open(sys.argv[1], 'w') as f:
        json.dump({'kernel': os.uname().release, 'entries': m.entries}, f, indent=0,
                  sort_keys=True)
        f.write('\n')


if __name__ == '__main__':
    main()
