#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What libvfiod says of the host against what the kernel says, in the lab guest.

    compare-host.py VFIOCTL SOCKET

Prints one line per comparison, "PASS what" or "FAIL what: detail"
(tests/lab/scenarios/discovery.sh turns them into checks):
- `vfioctl --json gpu ADDRESS` of every GPU: driver, IOMMU group and its members,
  SR-IOV counts, the card's functions, as sysfs has them; the text form names the
  same group;
- `vfioctl --json topology`: the kernel's NUMA nodes with their CPUs, each GPU under
  its node (under the only node when the platform says -1), and the text form lists
  each GPU once;
- mdev parents: every member of /sys/class/mdev_bus, PCI or not, with its types and
  their available_instances;
- `vfioctl --json check`: the IOMMU and interrupt remapping are seen on, and the
  daemon can give QEMU the locked memory VFIO pins (the guest's root may).
"""
import json
import os
import subprocess
import sys

VFIOCTL, SOCKET = sys.argv[1], sys.argv[2]
SYS = '/sys/bus/pci/devices'
failures = 0


def result(ok, what, detail=''):
    global failures
    failures += not ok
    print(f'PASS {what}' if ok else f'FAIL {what}: {detail}')


def vfioctl(*args, json_out=True):
    cmd = [VFIOCTL, '--socket', SOCKET] + (['--json'] if json_out else []) + list(args)
    out = subprocess.run(cmd, capture_output=True, text=True)
    if json_out:
        return json.loads(out.stdout) if out.stdout.strip() else {}
    return out.stdout


def attr(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def link_name(path):
    return os.path.basename(os.path.realpath(path)) if os.path.islink(path) else None


def cpulist(text):
    cpus = set()
    for part in (text or '').split(','):
        if '-' in part:
            a, b = part.split('-')
            cpus.update(range(int(a), int(b) + 1))
        elif part:
            cpus.add(int(part))
    return cpus


def compare_gpus(gpus):
    for gpu in gpus:
        address = gpu['address']
        if gpu.get('sysfsPath'):
            continue  # an mdev parent outside PCI: below
        d = os.path.join(SYS, address)
        one = vfioctl('gpu', address).get('gpu', {})
        kernel = {
            'driver': link_name(f'{d}/driver'),
            'iommuGroup': int(link_name(f'{d}/iommu_group')),
            'members': sorted(os.listdir(f'/sys/kernel/iommu_groups/{link_name(d + "/iommu_group")}/devices')),
            'functions': sorted(a for a in os.listdir(SYS) if a.rsplit('.', 1)[0] == address.rsplit('.', 1)[0]),
        }
        ours = {
            'driver': one.get('driver'),
            'iommuGroup': one.get('iommuGroup'),
            'members': sorted(one.get('iommuGroupMembers') or []),
            'functions': sorted(f['address'] for f in one.get('functions') or []),
        }
        if os.path.exists(f'{d}/sriov_totalvfs'):
            kernel['sriov'] = (int(attr(f'{d}/sriov_totalvfs')), int(attr(f'{d}/sriov_numvfs')))
            s = one.get('sriov') or {}
            ours['sriov'] = (s.get('totalVFs'), s.get('numVFs'))
        result(ours == kernel, f'vfioctl gpu {address} is the kernel\'s', f'kernel {kernel}, libvfiod {ours}')
        text = vfioctl('gpu', address, json_out=False)
        result(f'IOMMU group {kernel["iommuGroup"]}' in text, f'vfioctl gpu {address} (text) names IOMMU group {kernel["iommuGroup"]}', text[:300])


def compare_topology(gpus):
    topo = vfioctl('topology')
    nodes = {n['id']: n for n in topo.get('nodes', [])}
    base = '/sys/devices/system/node'
    kernel = {int(n[4:]): cpulist(attr(f'{base}/{n}/cpulist'))
              for n in os.listdir(base) if n.startswith('node') and n[4:].isdigit()}
    ours = {i: cpulist(n['cpus']) for i, n in nodes.items()}
    result(ours == kernel, f'topology: {len(kernel)} NUMA node(s) with the kernel\'s CPUs', f'kernel {kernel}, libvfiod {ours}')
    for gpu in gpus:
        if gpu.get('sysfsPath'):
            continue
        node = int(attr(os.path.join(SYS, gpu['address'], 'numa_node')))
        if node < 0 and len(kernel) == 1:
            node = next(iter(kernel))  # no affinity on a one-node machine: that node
        where = [i for i, n in nodes.items() if gpu['address'] in n.get('gpus', [])]
        result(where == ([node] if node >= 0 else []), f'topology: {gpu["address"]} under node {node}', f'listed under {where}')
    text = vfioctl('topology', json_out=False)
    lines = [line.split() for line in text.splitlines()]
    for gpu in gpus:
        if gpu.get('sysfsPath'):
            continue
        n = sum(1 for line in lines if line and line[0] == gpu['address'])
        result(n == 1, f'topology (text) lists {gpu["address"]} once', f'{n} times:\n{text}')


def compare_mdev(gpus):
    by_address = {g['address']: g for g in gpus}
    parents = sorted(os.listdir('/sys/class/mdev_bus'))
    result(bool(parents), 'the kernel has mdev parents (the sample drivers are loaded)', 'none')
    for parent in parents:
        types_dir = f'/sys/class/mdev_bus/{parent}/mdev_supported_types'
        kernel = {t: int(attr(f'{types_dir}/{t}/available_instances')) for t in os.listdir(types_dir)}
        g = by_address.get(parent)
        ours = {t['id']: t['availableInstances'] for t in (g or {}).get('mdevTypes', [])}
        result(ours == kernel, f'mdev parent {parent}: its types and free instances', f'kernel {kernel}, libvfiod {ours}')


def compare_check():
    checks = {c['id']: c for c in vfioctl('check').get('checks', [])}
    for name in ('iommu', 'interrupt-remapping', 'memlock', 'module-vfio', 'module-mdev'):
        c = checks.get(name, {})
        result(c.get('status') == 'pass', f'check {name} passes on the real kernel', c)


def main():
    gpus = vfioctl('gpus').get('gpus', [])
    result(bool(gpus), 'vfioctl --json gpus lists GPUs', 'none')
    compare_gpus(gpus)
    compare_topology(gpus)
    compare_mdev(gpus)
    compare_check()
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()
