#!/usr/bin/python3
"""Tests of the sysfs simulator itself: every kernel behaviour it plays and
every errno it refuses with, through plain open()/write() on the mount, and
its control channel (fault injection, holds, snapshots, cleanup).

Run: /usr/bin/python3 tests/simulator/test_simulator.py [-v] [Class.test]
(root, /dev/fuse, python3-fusepy; the whole file is reported skipped, as TAP,
when those are missing).
"""

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'integration'))
import unittest_tap  # noqa: E402
from simulator import (Simulator, SimulatorError, is_mounted, prerequisites,  # noqa: E402
                       snapshot_tree, fixture_host)

PF_AMD = '0000:03:00.0'           # amd-sriov: S7150, 4/16 VFs at 03:02.0-3, driver gim
VF0, VF1, VF2, VF3 = (f'0000:03:02.{i}' for i in range(4))   # vfio-pci, amdgpu, -, -
PF_FLEX = '0000:86:00.0'          # two-socket-server: Flex 170 on i915, 0/31 VFs, offset 1, node 1
PF_MI25 = '0000:87:00.0'          # two-socket-server: MI25, 0/16, amdgpu
GVT = '0000:00:02.0'              # intel-gvt-laptop
GVT_TYPES = f'sys/bus/pci/devices/{GVT}/mdev_supported_types'
FIXTURE_MDEV = '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001'   # intel-gvt-laptop, V5_4, group 12
UUID_A = '11111111-2222-3333-4444-555555555555'
UUID_B = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee'
UUID_C = '0f0f0f0f-0000-4000-8000-0123456789ab'
DEV = 'sys/bus/pci/devices'
DRV = 'sys/bus/pci/drivers'


def dev(addr, attr=''):
    return f'{DEV}/{addr}/{attr}' if attr else f'{DEV}/{addr}'


class SimTest(unittest.TestCase):
    host = 'amd-sriov'
    config = None

    def setUp(self):
        self.sim = Simulator(self.host, config=self.config)
        self.sim.start()
        self.addCleanup(self.sim.close)
        self.before = self.sim.snapshot()

    # -- shell-level helpers: one open + one write(2), like echo > FILE ------

    def write(self, rel, value):
        return self.sim.write(rel, value)

    def write_errno(self, rel, value):
        try:
            self.sim.write(rel, value)
            return 0
        except OSError as e:
            return e.errno

    def assertRefused(self, rel, value, err):
        got = self.write_errno(rel, value)
        self.assertEqual(errno.errorcode.get(got, got), errno.errorcode[err],
                         f'write {value!r} to {rel}')

    def read(self, rel):
        return self.sim.read(rel)

    def exists(self, rel):
        return os.path.lexists(self.sim.path(rel))

    def link(self, rel):
        try:
            return os.path.basename(os.readlink(self.sim.path(rel)))
        except OSError:
            return None

    def driver(self, addr):
        return self.link(dev(addr, 'driver'))

    def group(self, addr):
        return self.link(dev(addr, 'iommu_group'))

    def assertHostUnchanged(self, before=None):
        diff = Simulator.diff(before or self.before, self.sim.snapshot())
        self.assertEqual(diff, [], 'host changed:\n  ' + '\n  '.join(diff))


# ---------------------------------------------------------------------------
# Mount, pass-through, speed
# ---------------------------------------------------------------------------

class TestMount(SimTest):

    def test_reads_pass_through(self):
        b = self.sim.backing
        for rel in (dev(PF_AMD, 'vendor'), dev(PF_AMD, 'config'), 'proc/cpuinfo',
                    'sys/kernel/iommu_groups/11/type'):
            with open(os.path.join(b, rel), 'rb') as f:
                want = f.read()
            with open(self.sim.path(rel), 'rb') as f:
                self.assertEqual(f.read(), want, rel)
        self.assertEqual(self.sim.readlink(dev(PF_AMD, 'driver')),
                         os.readlink(os.path.join(b, dev(PF_AMD, 'driver'))))
        self.assertEqual(sorted(os.listdir(self.sim.path(DEV))), sorted(os.listdir(os.path.join(b, DEV))))
        st = os.stat(self.sim.path(dev(PF_AMD, 'vendor')))
        self.assertTrue(stat.S_ISREG(st.st_mode))
        self.assertEqual(st.st_size, 7)

    def test_mount_and_walk_are_fast(self):
        self.assertLess(self.sim.mount_seconds, 3.0)
        t0 = time.monotonic()
        n = 0
        for dirpath, _, files in os.walk(self.sim.root):
            for name in files:
                p = os.path.join(dirpath, name)
                if stat.S_ISREG(os.lstat(p).st_mode) and os.lstat(p).st_mode & 0o444:
                    with open(p, 'rb') as f:
                        f.read()
                n += 1
        walk = time.monotonic() - t0
        sys.stderr.write(f'[mount {self.sim.mount_seconds:.3f}s, walk of {n} files {walk:.3f}s] ')
        self.assertGreater(n, 300)
        self.assertLess(walk, 5.0)

    def test_read_only_attribute_cannot_be_opened_for_writing(self):
        # kernfs: an attribute without a store method gives EACCES at open, even to root
        for rel in (dev(PF_AMD, 'vendor'), dev(PF_AMD, 'sriov_totalvfs'), dev(VF0, 'enable'),
                    'sys/kernel/iommu_groups/11/type', 'proc/cmdline'):
            self.assertRefused(rel, '1\n', errno.EACCES)
        self.assertEqual(self.sim.writes(), [])

    def test_write_only_attribute_cannot_be_read(self):
        for rel in (f'{DRV}/gim/bind', f'{DRV}/gim/unbind', 'sys/bus/pci/drivers_probe'):
            with self.assertRaises(PermissionError):
                open(self.sim.path(rel)).read()
            self.assertEqual(stat.S_IMODE(os.stat(self.sim.path(rel)).st_mode), 0o200)

    def test_kernel_files_the_fixture_lacks_are_added(self):
        for drv in os.listdir(self.sim.path(DRV)):
            self.assertTrue(self.exists(f'{DRV}/{drv}/bind'), drv)
            self.assertTrue(self.exists(f'{DRV}/{drv}/unbind'), drv)
        self.assertTrue(self.exists('sys/bus/pci/drivers_probe'))

    def test_o_trunc_is_ignored_like_sysfs(self):
        with open(self.sim.path(dev(VF2, 'driver_override')), 'w') as f:   # O_TRUNC
            f.write('vfio-pci\n')
        self.assertEqual(self.read(dev(VF2, 'driver_override')), 'vfio-pci\n')

    def test_zero_byte_write_does_nothing(self):
        fd = os.open(self.sim.path(dev(VF0, 'driver_override')), os.O_WRONLY)
        try:
            self.assertEqual(os.write(fd, b''), 0)
        finally:
            os.close(fd)
        self.assertEqual(self.sim.writes(), [])
        self.assertHostUnchanged()

    def test_files_cannot_be_created_or_removed(self):
        with self.assertRaises(OSError):
            open(self.sim.path('sys/bus/pci/new-file'), 'w')
        with self.assertRaises(OSError):
            os.unlink(self.sim.path(dev(PF_AMD, 'vendor')))
        with self.assertRaises(OSError):
            os.mkdir(self.sim.path('sys/newdir'))
        self.assertHostUnchanged()

    def test_every_small_host_mounts(self):
        for host in ('intel-gvt-laptop', 'nvidia-vgpu-desktop', 'two-socket-server',
                     'iommu-off', 'shared-group', 'damaged'):
            with Simulator(host) as sim:
                snap = sim.snapshot()
                self.assertTrue(snap['pci'], host)
                self.assertEqual(snap, snapshot_tree(sim.backing))

    def test_damaged_host_is_served_as_it_is(self):
        with Simulator('damaged') as sim:
            fifo = sim.path(f'{DEV}/{GVT}/mdev_supported_types/i915-GVTg_V5_4/available_instances')
            self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode))
            fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
            self.assertEqual(os.read(fd, 10), b'')
            os.close(fd)
            with self.assertRaises(OSError) as cm:
                os.stat(sim.path(f'{DEV}/0000:00:1f.0'))
            self.assertEqual(cm.exception.errno, errno.ELOOP)
            self.assertEqual(stat.S_IMODE(os.lstat(sim.path(
                f'{DEV}/0000:01:00.0/sriov_numvfs')).st_mode), 0)
            # sriov_totalvfs reads -5: every count is out of range, nothing is touched
            before = sim.snapshot()
            with self.assertRaises(OSError) as cm:
                sim.write(f'{DEV}/0000:01:00.0/sriov_numvfs', '0\n')
            self.assertEqual(cm.exception.errno, errno.ERANGE)
            self.assertEqual(Simulator.diff(before, sim.snapshot()), [])
            self.assertTrue(os.path.isdir('/etc'))


# ---------------------------------------------------------------------------
# driver_override, bind, unbind, drivers_probe
# ---------------------------------------------------------------------------

class TestBinding(SimTest):

    def test_driver_override_values(self):
        o = dev(VF2, 'driver_override')
        self.assertEqual(self.read(o), '(null)\n')
        self.write(o, 'vfio-pci')
        self.assertEqual(self.read(o), 'vfio-pci\n')
        self.write(o, '\n')                         # "\n" clears it
        self.assertEqual(self.read(o), '(null)\n')
        self.write(o, 'vfio-pci\ntrailing')         # the value ends at the first newline
        self.assertEqual(self.read(o), 'vfio-pci\n')
        self.write(o, b'amdgpu\0junk')              # ... or at a NUL
        self.assertEqual(self.read(o), 'amdgpu\n')
        self.write(o, b'\0')                        # empty string: cleared
        self.assertEqual(self.read(o), '(null)\n')
        self.write(o, 'no-such-driver')             # any name is accepted
        self.assertEqual(self.read(o), 'no-such-driver\n')
        self.assertRefused(o, 'x' * 4095, errno.EINVAL)   # len >= PAGE_SIZE - 1
        self.assertEqual(self.read(o), 'no-such-driver\n')
        self.write(o, 'x' * 4094)
        self.assertEqual(self.read(o), 'x' * 4094 + '\n')

    def test_unbind(self):
        self.write(f'{DRV}/amdgpu/unbind', VF1 + '\n')
        self.assertIsNone(self.driver(VF1))
        self.assertFalse(self.exists(f'{DRV}/amdgpu/{VF1}'))
        self.assertEqual(self.read(dev(VF1, 'enable')), '0\n')
        self.assertRefused(f'{DRV}/amdgpu/unbind', VF1, errno.ENODEV)       # not bound
        self.assertRefused(f'{DRV}/gim/unbind', VF0, errno.ENODEV)          # other driver
        self.assertRefused(f'{DRV}/gim/unbind', '0000:ff:1f.7', errno.ENODEV)
        self.assertRefused(f'{DRV}/gim/unbind', PF_AMD[5:], errno.ENODEV)   # short address
        self.assertRefused(f'{DRV}/gim/unbind', PF_AMD + '\n\n', errno.ENODEV)

    def test_unbind_through_the_device_driver_link(self):
        # the lab's vfio_unbind writes DEV/driver/unbind: the link leads to the driver
        self.write(dev(VF1, 'driver/unbind'), VF1)
        self.assertIsNone(self.driver(VF1))
        w = self.sim.writes()[-1]
        self.assertEqual(w['path'], f'{DRV}/amdgpu/unbind')

    def test_drivers_probe_restores_the_natural_driver(self):
        self.write(f'{DRV}/amdgpu/unbind', VF1)
        self.write('sys/bus/pci/drivers_probe', VF1 + '\n')
        self.assertEqual(self.driver(VF1), 'amdgpu')
        self.assertEqual(self.read(dev(VF1, 'enable')), '1\n')
        self.assertHostUnchanged()
        self.write('sys/bus/pci/drivers_probe', VF1)        # already bound: no change
        self.write('sys/bus/pci/drivers_probe', VF2)        # no driver of its own: stays unbound
        self.assertIsNone(self.driver(VF2))
        self.assertHostUnchanged()
        self.assertRefused('sys/bus/pci/drivers_probe', '0000:ff:1f.7', errno.ENODEV)
        self.assertRefused('sys/bus/pci/drivers_probe', VF1[5:], errno.ENODEV)

    def test_vfio_pci_round_trip(self):
        """What the SR-IOV backend does: override, unbind, probe; then back."""
        g = self.group(VF1)
        self.assertEqual(g, '14')
        self.assertRefused(f'{DRV}/vfio-pci/bind', VF1, errno.ENODEV)   # no override: no match
        self.write(dev(VF1, 'driver_override'), 'vfio-pci\n')
        self.assertRefused(f'{DRV}/vfio-pci/bind', VF1, errno.EBUSY)    # still bound to amdgpu
        self.assertRefused(f'{DRV}/amdgpu/bind', VF1, errno.ENODEV)     # override names another
        self.write(f'{DRV}/amdgpu/unbind', VF1)
        self.assertRefused(f'{DRV}/amdgpu/bind', VF1, errno.ENODEV)
        self.assertFalse(self.exists(f'dev/vfio/{g}'))
        self.write('sys/bus/pci/drivers_probe', VF1)
        self.assertEqual(self.driver(VF1), 'vfio-pci')
        self.assertTrue(self.exists(f'{DRV}/vfio-pci/{VF1}'))
        self.assertTrue(os.path.isfile(self.sim.path(f'dev/vfio/{g}')))
        # release: unbind, clear the override with "\n", reprobe
        self.write(f'{DRV}/vfio-pci/unbind', VF1)
        self.assertFalse(self.exists(f'dev/vfio/{g}'))
        self.write(dev(VF1, 'driver_override'), '\n')
        self.write('sys/bus/pci/drivers_probe', VF1)
        self.assertEqual(self.driver(VF1), 'amdgpu')
        self.assertHostUnchanged()

    def test_explicit_bind(self):
        self.write(f'{DRV}/amdgpu/unbind', VF1)
        self.write(f'{DRV}/amdgpu/bind', VF1)
        self.assertEqual(self.driver(VF1), 'amdgpu')
        self.assertRefused(f'{DRV}/amdgpu/bind', VF1, errno.EBUSY)
        self.assertRefused(f'{DRV}/amdgpu/bind', VF2, errno.ENODEV)     # not its driver
        self.assertRefused(f'{DRV}/amdgpu/bind', '0000:ff:1f.7', errno.ENODEV)
        self.write(dev(VF2, 'driver_override'), 'vfio-pci')
        self.write(f'{DRV}/vfio-pci/bind', VF2)
        self.assertEqual(self.driver(VF2), 'vfio-pci')
        self.assertTrue(self.exists('dev/vfio/15'))

    def test_override_naming_a_missing_driver_leaves_the_device_unbound(self):
        self.write(f'{DRV}/amdgpu/unbind', VF1)
        self.write(dev(VF1, 'driver_override'), 'no-such-driver')
        self.write('sys/bus/pci/drivers_probe', VF1)          # succeeds, binds nothing
        self.assertIsNone(self.driver(VF1))
        w = self.sim.writes()[-1]
        self.assertEqual((w['errno'], w['applied']), (0, True))

    def test_vfio_pci_refuses_bridges(self):
        bridge = '0000:00:03.1'
        self.write(f'{DRV}/pcieport/unbind', bridge)
        self.write(dev(bridge, 'driver_override'), 'vfio-pci')
        self.assertRefused(f'{DRV}/vfio-pci/bind', bridge, errno.EINVAL)   # probe fails
        self.write('sys/bus/pci/drivers_probe', bridge)                   # failure not reported
        self.assertIsNone(self.driver(bridge))

    def test_vfio_pci_needs_an_iommu_group(self):
        rc = '0000:00:00.0'                 # AMD root complex: no group
        self.write(dev(rc, 'driver_override'), 'vfio-pci')
        self.assertRefused(f'{DRV}/vfio-pci/bind', rc, errno.EINVAL)


class TestSharedGroup(SimTest):
    host = 'shared-group'

    def test_dev_vfio_lives_while_any_member_is_on_vfio_pci(self):
        gpu, audio = '0000:0b:00.0', '0000:0b:00.1'
        self.assertEqual(self.group(gpu), '14')
        for addr, drv in ((gpu, 'amdgpu'), (audio, 'snd_hda_intel')):
            self.write(dev(addr, 'driver_override'), 'vfio-pci')
            self.write(f'{DRV}/{drv}/unbind', addr)
            self.write('sys/bus/pci/drivers_probe', addr)
            self.assertEqual(self.driver(addr), 'vfio-pci')
            self.assertTrue(self.exists('dev/vfio/14'))
        self.write(f'{DRV}/vfio-pci/unbind', gpu)
        self.assertTrue(self.exists('dev/vfio/14'))           # audio still holds the group
        self.write(f'{DRV}/vfio-pci/unbind', audio)
        self.assertFalse(self.exists('dev/vfio/14'))
        for addr in (gpu, audio):
            self.write(dev(addr, 'driver_override'), '\n')
            self.write('sys/bus/pci/drivers_probe', addr)
        self.assertHostUnchanged()


# ---------------------------------------------------------------------------
# SR-IOV
# ---------------------------------------------------------------------------

class TestSriov(SimTest):
    host = 'two-socket-server'

    def numvfs(self, pf, n):
        self.write(dev(pf, 'sriov_numvfs'), f'{n}\n')

    def test_drivers_autoprobe(self):
        a = dev(PF_FLEX, 'sriov_drivers_autoprobe')
        self.assertEqual(self.read(a), '1\n')
        for value, want in (('0\n', '0\n'), ('y', '1\n'), ('off\n', '0\n'), ('on', '1\n'),
                            ('N', '0\n'), ('1', '1\n')):
            self.write(a, value)
            self.assertEqual(self.read(a), want, value)
        for value in ('2\n', 'maybe', 'o\n', '\n'):
            self.assertRefused(a, value, errno.EINVAL)

    def test_enable_without_autoprobe(self):
        self.write(dev(PF_FLEX, 'sriov_drivers_autoprobe'), '0')
        self.numvfs(PF_FLEX, 4)
        self.assertEqual(self.read(dev(PF_FLEX, 'sriov_numvfs')), '4\n')
        pf_dir = os.path.realpath(self.sim.path(dev(PF_FLEX)))
        groups = set()
        for i in range(4):
            vf = f'0000:86:00.{1 + i}'                     # offset 1, stride 1
            self.assertEqual(self.link(dev(PF_FLEX, f'virtfn{i}')), vf)
            self.assertEqual(self.sim.readlink(dev(PF_FLEX, f'virtfn{i}')), f'../{vf}')
            self.assertEqual(self.link(dev(vf, 'physfn')), PF_FLEX)
            self.assertEqual(os.path.dirname(os.path.realpath(self.sim.path(dev(vf)))),
                             os.path.dirname(pf_dir))      # a sibling of its PF
            self.assertIsNone(self.driver(vf))
            self.assertEqual(self.read(dev(vf, 'vendor')), '0x8086\n')
            self.assertEqual(self.read(dev(vf, 'device')), '0x56c0\n')
            self.assertEqual(self.read(dev(vf, 'class')), self.read(dev(PF_FLEX, 'class')))
            self.assertEqual(self.read(dev(vf, 'numa_node')), '1\n')
            self.assertEqual(self.read(dev(vf, 'local_cpulist')), self.read(dev(PF_FLEX, 'local_cpulist')))
            self.assertEqual(self.read(dev(vf, 'driver_override')), '(null)\n')
            with open(self.sim.path(dev(vf, 'config')), 'rb') as f:
                config = f.read()
            self.assertEqual(config[:4], bytes([0x86, 0x80, 0xc0, 0x56]))
            g = self.group(vf)
            groups.add(g)
            self.assertEqual(os.listdir(self.sim.path(f'sys/kernel/iommu_groups/{g}/devices')), [vf])
            self.assertEqual(self.read(f'sys/kernel/iommu_groups/{g}/type'), 'DMA\n')
            self.assertFalse(self.exists(f'dev/vfio/{g}'))
        self.assertEqual(groups, {'17', '18', '19', '20'})   # new groups, lowest free ids
        self.assertEqual(self.write_errno(dev(PF_FLEX, 'sriov_numvfs'), '4\n'), 0)  # same count
        self.assertRefused(dev(PF_FLEX, 'sriov_numvfs'), '2\n', errno.EBUSY)      # through 0
        self.assertRefused(dev(PF_FLEX, 'sriov_numvfs'), '5\n', errno.EBUSY)
        self.numvfs(PF_FLEX, 0)
        for i in range(4):
            self.assertFalse(self.exists(dev(f'0000:86:00.{1 + i}')))
        self.write(dev(PF_FLEX, 'sriov_drivers_autoprobe'), '1')
        self.assertHostUnchanged()

    def test_enable_with_autoprobe_binds_the_vf_driver(self):
        self.numvfs(PF_FLEX, 2)
        self.assertEqual([self.driver(f'0000:86:00.{i}') for i in (1, 2)], ['i915', 'i915'])
        self.assertTrue(self.exists(f'{DRV}/i915/0000:86:00.1'))
        self.numvfs(PF_FLEX, 0)
        self.assertFalse(self.exists(f'{DRV}/i915/0000:86:00.1'))
        self.assertHostUnchanged()

    def test_numvfs_refusals(self):
        n = dev(PF_FLEX, 'sriov_numvfs')
        for value in ('abc\n', '-1\n', '70000\n', '\n', '1 2\n'):
            self.assertRefused(n, value, errno.EINVAL)
        self.assertRefused(n, '33\n', errno.ERANGE)          # > sriov_totalvfs
        self.write(n, '0x2')                                   # kstrtou16 base 0
        self.assertEqual(self.read(n), '2\n')
        self.write(n, '0')
        self.assertHostUnchanged()

    def test_numvfs_needs_a_pf_driver(self):
        n = dev(PF_FLEX, 'sriov_numvfs')
        self.write(f'{DRV}/i915/unbind', PF_FLEX)
        self.assertRefused(n, '2\n', errno.ENOENT)
        self.assertEqual(self.write_errno(n, '0\n'), 0)       # equal to the count: fine
        self.assertRefused(n, '33\n', errno.ERANGE)           # checked before the driver
        self.write('sys/bus/pci/drivers_probe', PF_FLEX)
        self.assertEqual(self.driver(PF_FLEX), 'i915')
        self.numvfs(PF_FLEX, 1)

    def test_pf_driver_without_sriov_configure(self):
        self.sim.configure(no_sriov_configure=['amdgpu'])
        self.assertRefused(dev(PF_MI25, 'sriov_numvfs'), '1\n', errno.ENOENT)
        self.numvfs(PF_FLEX, 1)

    def test_disable_removes_a_vf_bound_to_vfio_pci(self):
        # the lab: sriov_numvfs=0 with a VF still on vfio-pci removes everything
        self.write(dev(PF_FLEX, 'sriov_drivers_autoprobe'), '0')
        self.numvfs(PF_FLEX, 2)
        vf = '0000:86:00.1'
        g = self.group(vf)
        self.write(dev(vf, 'driver_override'), 'vfio-pci')
        self.write('sys/bus/pci/drivers_probe', vf)
        self.assertTrue(self.exists(f'dev/vfio/{g}'))
        self.numvfs(PF_FLEX, 0)
        self.assertFalse(self.exists(f'dev/vfio/{g}'))
        self.assertFalse(self.exists(f'sys/kernel/iommu_groups/{g}'))
        self.assertFalse(self.exists(f'{DRV}/vfio-pci/{vf}'))
        self.write(dev(PF_FLEX, 'sriov_drivers_autoprobe'), '1')
        self.assertHostUnchanged()

    def test_configured_vf_driver(self):
        self.sim.configure(vf_driver={PF_MI25: 'vfio-pci'})
        # vfio-pci matches only by override or id: configured as the VFs' own driver here
        self.numvfs(PF_MI25, 1)
        self.assertEqual(self.driver('0000:87:02.0'), 'vfio-pci')   # offset 16: 87:02.0
        self.assertTrue(self.exists(f'dev/vfio/{self.group("0000:87:02.0")}'))


class TestHugepages(SimTest):
    """nr_hugepages as the kernel plays it: a pool grows as far as free memory
    allows (the `hugepage_memory_kib` knob, else the fixture's MemFree), shrinks
    by free pages only, and refuses what is not a number."""
    host = 'two-socket-server'
    config = {'hugepage_memory_kib': {'0': 100 * 2048}}
    NODE = 'sys/devices/system/node/node{}/hugepages/hugepages-{}kB/{}'
    SYSTEM = 'sys/kernel/mm/hugepages/hugepages-{}kB/{}'

    def pool(self, node, name, size=2048):
        rel = self.NODE.format(node, size, name) if node is not None else \
            self.SYSTEM.format(size, name)
        return int(self.read(rel))

    def test_a_node_pool_grows_and_shrinks_back(self):
        nr = self.NODE.format(1, 2048, 'nr_hugepages')
        self.write(nr, '1024\n')
        self.assertEqual((self.pool(1, 'nr_hugepages'), self.pool(1, 'free_hugepages')),
                         (1024, 768))
        self.assertEqual(self.pool(None, 'nr_hugepages'), 1536)       # the system's follows
        self.assertEqual(self.pool(0, 'nr_hugepages'), 512)          # the other node does not
        self.assertIn('Node 1 HugePages_Total:  1024', self.read('sys/devices/system/node/node1/meminfo'))
        self.write(nr, '512')
        self.assertHostUnchanged()

    def test_growth_stops_where_memory_ends(self):
        self.write(self.NODE.format(0, 2048, 'nr_hugepages'), '1000')  # room for 100
        self.assertEqual(self.pool(0, 'nr_hugepages'), 612)
        self.write(self.NODE.format(0, 2048, 'nr_hugepages'), '512')
        self.assertHostUnchanged()

    def test_shrinking_takes_free_pages_only(self):
        # node 1's 1G pool: 8 pages, 6 free (2 in use)
        self.write(self.NODE.format(1, 1048576, 'nr_hugepages'), '0')
        self.assertEqual((self.pool(1, 'nr_hugepages', 1048576),
                          self.pool(1, 'free_hugepages', 1048576)), (2, 0))
        self.write(self.NODE.format(1, 1048576, 'nr_hugepages'), '8')
        self.assertHostUnchanged()

    def test_the_system_pool_spreads_over_the_nodes(self):
        self.write(self.SYSTEM.format(2048, 'nr_hugepages'), '1224')   # +200
        self.assertEqual(self.pool(None, 'nr_hugepages'), 1224)
        self.assertEqual(self.pool(0, 'nr_hugepages') + self.pool(1, 'nr_hugepages'), 1224)
        self.assertEqual(self.pool(0, 'nr_hugepages'), 612)            # 100 each
        self.write(self.SYSTEM.format(2048, 'nr_hugepages'), '1024')
        self.assertHostUnchanged()

    def test_refusals(self):
        nr = self.NODE.format(0, 2048, 'nr_hugepages')
        for value in ('abc\n', '-1\n', '\n', '1 2\n', '0x10\n'):
            self.assertRefused(nr, value, errno.EINVAL)
        self.assertRefused(nr, '99999999999999999999999\n', errno.ERANGE)
        self.assertHostUnchanged()


class TestXeSriovAdmin(SimTest):
    """xe's sriov_admin (xe_sriov_pf_sysfs.c, 6.19): each VF's profile takes a u32, a VF's
    sched_priority cannot be written, and vfN/device follows the VFs."""
    host = 'intel-xe-sriov'

    def test_profiles_and_device_links(self):
        pf = '0000:00:02.0'
        vf1 = dev(pf, 'sriov_admin/vf1')
        self.assertFalse(os.path.lexists(self.sim.path(f'{vf1}/device')))
        self.write(dev(pf, 'sriov_numvfs'), '2\n')
        self.assertEqual(self.link(f'{vf1}/device'), '0000:00:02.1')
        self.assertEqual(self.link(dev(pf, 'sriov_admin/vf2/device')), '0000:00:02.2')
        self.assertFalse(os.path.lexists(self.sim.path(dev(pf, 'sriov_admin/vf3/device'))))
        quantum = f'{vf1}/profile/exec_quantum_ms'
        self.assertEqual(self.read(quantum), '0\n')
        for value, want in (('10\n', '10\n'), ('0x20', '32\n'), ('010', '8\n'),
                            ('4294967295', '4294967295\n')):
            self.write(quantum, value)
            self.assertEqual(self.read(quantum), want, value)
        for value in ('-1', 'ten', '10ms', '\n'):
            self.assertRefused(quantum, value, errno.EINVAL)
        self.assertRefused(quantum, '4294967296', errno.ERANGE)
        self.assertRefused(f'{vf1}/profile/sched_priority', 'low', errno.EOPNOTSUPP)
        self.write(dev(pf, 'sriov_admin/pf/profile/sched_priority'), 'high\n')
        self.assertEqual(self.read(dev(pf, 'sriov_admin/pf/profile/sched_priority')),
                         'low normal [high]\n')
        self.write(dev(pf, 'sriov_numvfs'), '0\n')
        self.assertFalse(os.path.lexists(self.sim.path(f'{vf1}/device')))


class TestSriovFixtureVfs(SimTest):
    host = 'amd-sriov'

    def test_disable_and_reenable_the_fixture_vfs(self):
        n = dev(PF_AMD, 'sriov_numvfs')
        self.assertRefused(n, '2\n', errno.EBUSY)
        self.write(n, '0\n')
        snap = self.sim.snapshot()
        for vf in (VF0, VF1, VF2, VF3):
            self.assertNotIn(vf, snap['pci'])
        self.assertEqual(snap['dev_vfio'], ['vfio'])             # VF0's group 13 went with it
        self.assertEqual(snap['pci_drivers']['vfio-pci'], [])
        self.assertEqual(snap['pci_drivers']['amdgpu'], [])
        self.assertEqual(sorted(snap['iommu_groups'], key=int)[-1], '12')
        self.write(n, '2\n')
        # new VFs at the same addresses, the lowest free groups, the VF driver
        # the fixture's VFs had (amdgpu), autoprobe being on
        self.assertEqual([self.group(v) for v in (VF0, VF1)], ['13', '14'])
        self.assertEqual([self.driver(v) for v in (VF0, VF1)], ['amdgpu', 'amdgpu'])


# ---------------------------------------------------------------------------
# mdev
# ---------------------------------------------------------------------------

class TestMdev(SimTest):
    host = 'intel-gvt-laptop'

    def create(self, t, uuid):
        self.write(f'{GVT_TYPES}/{t}/create', uuid + '\n')

    def avail(self, t):
        return int(self.read(f'{GVT_TYPES}/{t}/available_instances'))

    def test_create_and_remove(self):
        t = 'i915-GVTg_V5_8'
        self.assertEqual(self.avail(t), 4)
        self.create(t, UUID_A)
        m = f'sys/bus/mdev/devices/{UUID_A}'
        self.assertTrue(os.path.isdir(self.sim.path(m)))
        self.assertEqual(os.path.realpath(self.sim.path(m)),
                         os.path.realpath(self.sim.path(f'{DEV}/{GVT}/{UUID_A}')))
        self.assertEqual(self.sim.readlink(f'{m}/mdev_type'), '../mdev_supported_types/' + t)
        self.assertEqual(self.link(f'{m}/driver'), 'intel_vgpu_mdev')
        self.assertTrue(self.exists(f'sys/bus/mdev/drivers/intel_vgpu_mdev/{UUID_A}'))
        self.assertEqual(self.link(f'{GVT_TYPES}/{t}/devices/{UUID_A}'), UUID_A)
        self.assertEqual(stat.S_IMODE(os.stat(self.sim.path(f'{m}/remove')).st_mode), 0o200)
        g = self.link(f'{m}/iommu_group')
        self.assertEqual(g, '13')                          # 0..12 taken: the lowest free
        self.assertEqual(os.listdir(self.sim.path(f'sys/kernel/iommu_groups/{g}/devices')), [UUID_A])
        self.assertEqual(os.path.realpath(self.sim.path(f'sys/kernel/iommu_groups/{g}/devices/{UUID_A}')),
                         os.path.realpath(self.sim.path(m)))
        self.assertEqual(self.read(f'sys/kernel/iommu_groups/{g}/type'), 'unknown\n')
        self.assertTrue(self.exists(f'dev/vfio/{g}'))
        self.assertEqual(self.avail(t), 3)
        # the types share the aperture: a V5_8 (1/8 of it) leaves 3/8 free, one V5_4's worth
        self.assertEqual(self.avail('i915-GVTg_V5_4'), 1)
        self.write(f'{m}/remove', '1\n')
        self.assertFalse(self.exists(m))
        self.assertFalse(self.exists(f'{DEV}/{GVT}/{UUID_A}'))
        self.assertFalse(self.exists(f'dev/vfio/{g}'))
        self.assertFalse(self.exists(f'sys/kernel/iommu_groups/{g}'))
        self.assertEqual(self.avail(t), 4)
        self.assertHostUnchanged()

    def test_create_refusals(self):
        c = f'{GVT_TYPES}/i915-GVTg_V5_8/create'
        self.assertRefused(c, 'not-a-uuid\n', errno.EINVAL)
        self.assertRefused(c, 'zzzzzzzz-509f-382f-3c1e-e6bfe0fa1001\n', errno.EINVAL)
        self.assertRefused(c, UUID_A + 'xx', errno.EINVAL)        # 38 bytes
        self.assertRefused(c, UUID_A[:-1] + '\n', errno.EINVAL)   # 36 bytes, not a UUID
        self.assertRefused(c, FIXTURE_MDEV + '\n', errno.EEXIST)  # the fixture's instance
        self.create('i915-GVTg_V5_8', UUID_A)
        self.assertRefused(c, UUID_A + '\n', errno.EEXIST)
        self.assertRefused(f'{GVT_TYPES}/i915-GVTg_V5_4/create', UUID_A, errno.EEXIST)
        self.assertEqual(self.avail('i915-GVTg_V5_8'), 3)

    def test_uuid_case_and_37th_byte(self):
        # create_store: 36 or 37 bytes, any case; the device is named in lower case
        self.write(f'{GVT_TYPES}/i915-GVTg_V5_8/create', UUID_B.upper() + 'x')
        self.assertTrue(self.exists(f'sys/bus/mdev/devices/{UUID_B}'))
        self.write(f'{GVT_TYPES}/i915-GVTg_V5_8/create', UUID_C)        # no newline
        self.assertTrue(self.exists(f'sys/bus/mdev/devices/{UUID_C}'))

    def test_no_instance_left(self):
        t = 'i915-GVTg_V5_4'
        self.assertEqual(self.avail(t), 2)
        self.create(t, UUID_A)
        self.create(t, UUID_B)
        self.assertEqual(self.avail(t), 0)
        self.assertRefused(f'{GVT_TYPES}/{t}/create', UUID_C, errno.ENOSPC)
        self.sim.configure(mdev_full_errno={'*': 'EUSERS'})     # 6.1's mdev core for the others
        self.assertRefused(f'{GVT_TYPES}/{t}/create', UUID_C, errno.EUSERS)
        self.write(f'sys/bus/mdev/devices/{UUID_A}/remove', '1')
        self.create(t, UUID_C)

    def test_remove_values(self):
        r = f'sys/bus/mdev/devices/{FIXTURE_MDEV}/remove'
        self.write(r, '0\n')                                   # 0: nothing happens
        self.assertTrue(self.exists(f'sys/bus/mdev/devices/{FIXTURE_MDEV}'))
        self.assertRefused(r, 'abc\n', errno.EINVAL)
        self.assertRefused(r, '\n', errno.EINVAL)
        self.assertHostUnchanged()
        self.write(f'{DEV}/{GVT}/{FIXTURE_MDEV}/remove', '0x1')  # the device directory's file
        self.assertFalse(self.exists(f'sys/bus/mdev/devices/{FIXTURE_MDEV}'))
        self.assertFalse(self.exists('dev/vfio/12'))
        self.assertEqual(self.avail('i915-GVTg_V5_4'), 3)
        self.assertEqual(self.avail('i915-GVTg_V5_8'), 6)  # the V5_4's share is free again

    def test_group_ids_are_reused(self):
        t = 'i915-GVTg_V5_8'
        self.create(t, UUID_A)
        self.create(t, UUID_B)
        ga = self.link(f'sys/bus/mdev/devices/{UUID_A}/iommu_group')
        self.write(f'sys/bus/mdev/devices/{UUID_A}/remove', '1')
        self.create(t, UUID_C)
        self.assertEqual(self.link(f'sys/bus/mdev/devices/{UUID_C}/iommu_group'), ga)


class TestMdevNvidia(SimTest):
    host = 'nvidia-vgpu-desktop'

    def test_mdev_bus_and_vendor_driver(self):
        self.assertTrue(os.path.isdir(self.sim.path('sys/bus/mdev/drivers/nvidia-vgpu-vfio')))
        t = f'{DEV}/0000:01:00.0/mdev_supported_types/nvidia-233'
        self.write(f'{t}/create', UUID_A)
        self.assertEqual(self.link(f'sys/bus/mdev/devices/{UUID_A}/driver'), 'nvidia-vgpu-vfio')
        self.write(f'{t}/create', UUID_B)
        self.assertRefused(f'{t}/create', UUID_C, errno.ENOSPC)
        for u in (UUID_A, UUID_B):
            self.write(f'sys/bus/mdev/devices/{u}/remove', '1')
        self.assertHostUnchanged()


class TestMdevVirtualParent(SimTest):
    """The sample drivers' parents are no PCI devices (sys/devices/virtual)."""
    host = 'lab-kernel'

    def test_create_and_remove_through_the_class_link(self):
        parent = 'sys/devices/virtual/mbochs/mbochs'
        t = 'sys/class/mdev_bus/mbochs/mdev_supported_types/mbochs-small'
        self.assertTrue(os.path.isdir(self.sim.path('sys/bus/mdev/drivers/mbochs')))
        self.write(f'{t}/create', UUID_A)
        m = f'sys/bus/mdev/devices/{UUID_A}'
        self.assertEqual(os.path.realpath(self.sim.path(m)),
                         os.path.realpath(self.sim.path(f'{parent}/{UUID_A}')))
        self.assertEqual(self.link(f'{m}/driver'), 'mbochs')
        self.assertEqual(self.read(f'{t}/available_instances'), '63\n')
        g = self.link(f'{m}/iommu_group')
        self.assertTrue(self.exists(f'dev/vfio/{g}'))
        # the write names the device's own directory, and the class link as an alias
        entry = self.sim.writes()[-1]
        self.assertEqual(entry['path'], f'{parent}/mdev_supported_types/mbochs-small/create')
        self.assertIn(f'{t}/create', entry['aliases'])
        self.write(f'{m}/remove', '1')
        self.assertFalse(self.exists(f'{parent}/{UUID_A}'))
        self.assertEqual(self.read(f'{t}/available_instances'), '64\n')
        self.assertHostUnchanged()

    def test_full_parent_refuses(self):
        t = 'sys/class/mdev_bus/mdpy/mdev_supported_types/mdpy-hd'
        uuids = [UUID_A, UUID_B, UUID_C, '66666666-2222-3333-4444-555555555555']
        for u in uuids:
            self.write(f'{t}/create', u)
        self.assertRefused(f'{t}/create', '77777777-2222-3333-4444-555555555555', errno.ENOSPC)
        for u in uuids:
            self.write(f'sys/bus/mdev/devices/{u}/remove', '1')
        self.assertHostUnchanged()


# ---------------------------------------------------------------------------
# Holds: a VM using a device
# ---------------------------------------------------------------------------

class Background:
    """A write in a thread, to watch it block."""

    def __init__(self, test, rel, value):
        self.result = None
        self.t = threading.Thread(target=self.run, args=(test, rel, value), daemon=True)
        self.t.start()

    def run(self, test, rel, value):
        self.result = test.write_errno(rel, value)

    def done(self, timeout):
        self.t.join(timeout)
        return not self.t.is_alive()


class TestHolds(SimTest):
    host = 'intel-gvt-laptop'

    def test_mdev_remove_blocks_until_released(self):
        r = f'sys/bus/mdev/devices/{FIXTURE_MDEV}/remove'
        self.sim.hold(FIXTURE_MDEV)
        bg = Background(self, r, '1')
        self.assertFalse(bg.done(0.4))                       # 6.1: blocked, not refused
        self.assertTrue(self.exists(r))
        self.sim.release(FIXTURE_MDEV)
        self.assertTrue(bg.done(5))
        self.assertEqual(bg.result, 0)
        self.assertFalse(self.exists(f'sys/bus/mdev/devices/{FIXTURE_MDEV}'))

    def test_mdev_remove_ebusy_mode(self):
        r = f'sys/bus/mdev/devices/{FIXTURE_MDEV}/remove'
        self.sim.hold(FIXTURE_MDEV, mode='ebusy')
        self.assertRefused(r, '1', errno.EBUSY)
        self.sim.release()
        self.sim.hold('12', mode='ebusy')                     # by its group
        self.assertRefused(r, '1', errno.EBUSY)
        self.assertHostUnchanged()
        self.sim.release('12')
        self.write(r, '1')

    def test_other_writes_go_on_while_one_is_blocked(self):
        self.sim.hold(FIXTURE_MDEV)
        bg = Background(self, f'sys/bus/mdev/devices/{FIXTURE_MDEV}/remove', '1')
        time.sleep(0.2)
        t0 = time.monotonic()
        self.write(f'{GVT_TYPES}/i915-GVTg_V5_8/create', UUID_A)
        self.read(f'{GVT_TYPES}/i915-GVTg_V5_8/available_instances')
        self.assertLess(time.monotonic() - t0, 3.0)
        self.assertFalse(bg.done(0))
        self.sim.release()
        self.assertTrue(bg.done(5))


class TestHoldsPci(SimTest):
    host = 'amd-sriov'

    def test_unbind_from_vfio_pci_of_a_held_group(self):
        self.sim.hold('13', mode='ebusy')                      # VF0's group
        self.assertRefused(f'{DRV}/vfio-pci/unbind', VF0, errno.EBUSY)
        self.assertRefused(dev(PF_AMD, 'sriov_numvfs'), '0', errno.EBUSY)
        self.assertHostUnchanged()
        self.sim.release('13')
        self.sim.hold(VF0)                                     # by address, blocking
        bg = Background(self, f'{DRV}/vfio-pci/unbind', VF0)
        self.assertFalse(bg.done(0.3))
        self.sim.release(VF0)
        self.assertTrue(bg.done(5))
        self.assertEqual(bg.result, 0)
        self.assertIsNone(self.driver(VF0))

    def test_numvfs_zero_blocks_while_a_vf_is_held(self):
        self.sim.hold('13')
        bg = Background(self, dev(PF_AMD, 'sriov_numvfs'), '0\n')
        self.assertFalse(bg.done(0.3))
        self.assertTrue(self.exists(dev(VF0)))
        self.sim.release('13')
        self.assertTrue(bg.done(5))
        self.assertEqual(bg.result, 0)
        self.assertFalse(self.exists(dev(VF0)))

    def test_writer_killed_while_blocked(self):
        # the simulator gives the write up (the real kernel would keep the
        # writer until the device is released, then apply it)
        self.sim.hold('13')
        p = subprocess.Popen([sys.executable, '-c', WRITER, self.sim.root,
                              f'{DRV}/vfio-pci/unbind', VF0], stdout=subprocess.DEVNULL)
        self.assertTrue(wait_until(lambda: self.sim.write_count() == 1, 5))
        time.sleep(0.1)
        p.kill()
        self.assertEqual(p.wait(timeout=5), -signal.SIGKILL)
        self.assertTrue(wait_until(lambda: self.sim.writes(), 5))
        w = self.sim.writes()[0]
        self.assertEqual((w['error'], w['applied']), ('EINTR', False))
        self.assertEqual(self.driver(VF0), 'vfio-pci')
        self.sim.release()
        self.assertHostUnchanged()

    def test_other_signals_leave_the_write_blocked(self):
        self.sim.hold('13')
        code = WRITER.replace('import os, sys, time',
                              'import os, signal, sys, time\n'
                              'signal.signal(signal.SIGUSR2, lambda *a: None)')
        p = subprocess.Popen([sys.executable, '-c', code, self.sim.root,
                              f'{DRV}/vfio-pci/unbind', VF0], stdout=subprocess.PIPE, text=True)
        self.addCleanup(p.kill)
        self.assertTrue(wait_until(lambda: self.sim.write_count() == 1, 5))
        time.sleep(0.2)
        p.send_signal(signal.SIGUSR2)
        time.sleep(0.5)
        self.assertIsNone(p.poll())
        self.assertEqual(self.sim.writes(), [])             # still blocked
        self.sim.release('13')
        out, _ = p.communicate(timeout=5)
        self.assertIn('done', out)
        self.assertIsNone(self.driver(VF0))

    def test_hold_on_a_group_not_on_vfio_does_not_block(self):
        self.sim.hold('14', mode='ebusy')                      # VF1 is on amdgpu
        self.write(f'{DRV}/amdgpu/unbind', VF1)


# ---------------------------------------------------------------------------
# Fault injection and the write log
# ---------------------------------------------------------------------------

WRITER = r'''
import os, sys, time
args = sys.argv[1:]
if args[0] == '--go':           # wait until the test has armed its rules
    args = args[1:]
    sys.stdin.readline()
root = args[0]
for rel, value in zip(args[1::2], args[2::2]):
    fd = os.open(os.path.join(root, rel), os.O_WRONLY)
    try:
        os.write(fd, value.encode())
        print('done', rel, flush=True)
    except OSError as e:
        print('error', rel, e.errno, flush=True)
    os.close(fd)
'''


class TestFaults(SimTest):
    host = 'amd-sriov'

    # the three writes that move VF1 to vfio-pci
    STEPS = [(dev(VF1, 'driver_override'), 'vfio-pci\n'),
             (f'{DRV}/amdgpu/unbind', VF1 + '\n'),
             ('sys/bus/pci/drivers_probe', VF1 + '\n')]

    def run_writer(self, steps):
        """A process that makes `steps` once go() is called on it."""
        args = [sys.executable, '-c', WRITER, '--go', self.sim.root]
        for rel, value in steps:
            args += [rel, value]
        p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.addCleanup(p.kill)

        def go():
            p.stdin.write('\n')
            p.stdin.close()
            out = p.stdout.read()
            p.stdout.close()
            return p.wait(timeout=30), out
        p.go = go
        return p

    def test_write_log(self):
        self.write(dev(VF1, 'driver_override'), 'vfio-pci\n')
        self.assertRefused(f'{DRV}/vfio-pci/unbind', VF1, errno.ENODEV)
        w = self.sim.writes()
        self.assertEqual(len(w), 2)
        self.assertEqual(w[0]['n'], 1)
        self.assertEqual(w[0]['path'], 'sys/devices/pci0000:00/0000:00:03.1/0000:03:02.1/driver_override')
        self.assertIn(dev(VF1, 'driver_override'), w[0]['aliases'])
        self.assertEqual((w[0]['value'], w[0]['errno'], w[0]['applied']), ('vfio-pci\n', 0, True))
        self.assertEqual(w[0]['pid'], os.getpid())
        self.assertEqual((w[1]['errno'], w[1]['error'], w[1]['applied']), (errno.ENODEV, 'ENODEV', False))
        self.assertEqual(self.sim.writes(since=1), w[1:])
        self.assertEqual(self.sim.write_count(), 2)
        with open(self.sim.log_path) as f:                    # one JSON object a line
            self.assertEqual([json.loads(line)['n'] for line in f], [1, 2])

    def test_fail(self):
        self.sim.fail(f'{DRV}/amdgpu/unbind', 'EIO', times=1)
        self.assertRefused(f'{DRV}/amdgpu/unbind', VF1, errno.EIO)
        self.assertEqual(self.driver(VF1), 'amdgpu')         # not applied
        w = self.sim.writes()[-1]
        self.assertEqual((w['errno'], w['applied']), (errno.EIO, False))
        self.assertTrue(w['faults'][0].startswith('fail#'))
        self.write(f'{DRV}/amdgpu/unbind', VF1)               # times=1: used up
        self.assertIsNone(self.driver(VF1))
        self.assertEqual(self.sim.rules(), [])

    def test_fail_by_alias_pattern_and_absolute_path(self):
        self.sim.fail(dev(VF2, 'driver_override'), errno.ENOMEM)   # the bus link's name
        self.assertRefused(dev(VF2, 'driver_override'), 'x', errno.ENOMEM)
        self.sim.clear()
        self.sim.fail('*/unbind', 'EPERM')
        self.assertRefused(dev(VF1, 'driver/unbind'), VF1, errno.EPERM)
        self.sim.clear()
        self.sim.fail(self.sim.path(f'{DRV}/amdgpu/unbind'), 'EAGAIN')
        self.assertRefused(f'{DRV}/amdgpu/unbind', VF1, errno.EAGAIN)
        self.sim.clear()
        self.write(f'{DRV}/amdgpu/unbind', VF1)

    def test_hang_then_apply(self):
        self.sim.hang(f'{DRV}/amdgpu/unbind', seconds=1.5)
        t0 = time.monotonic()
        bg = Background(self, f'{DRV}/amdgpu/unbind', VF1)
        time.sleep(0.1)
        self.assertEqual(self.read(dev(PF_AMD, 'vendor')), '0x1002\n')   # reads go on
        self.write(dev(VF2, 'driver_override'), 'vfio-pci')               # so do other writes
        self.assertLess(time.monotonic() - t0, 1.2)
        self.assertFalse(bg.done(0))
        self.assertTrue(bg.done(5))
        self.assertGreaterEqual(time.monotonic() - t0, 1.5)
        self.assertEqual(bg.result, 0)
        self.assertIsNone(self.driver(VF1))

    def test_hang_until_unhang_then_fail(self):
        self.sim.hang(f'{DRV}/amdgpu/unbind', err='EIO')
        bg = Background(self, f'{DRV}/amdgpu/unbind', VF1)
        self.assertFalse(bg.done(0.5))
        self.sim.unhang()
        self.assertTrue(bg.done(5))
        self.assertEqual(bg.result, errno.EIO)
        self.assertEqual(self.driver(VF1), 'amdgpu')

    def test_kill_before_each_step(self):
        """SIGKILL the writer as step n arrives: steps < n done, n and later not."""
        for n in range(1, len(self.STEPS) + 1):
            with self.subTest(step=n):
                with Simulator(self.host) as sim:
                    self.sim = sim
                    p = self.run_writer(self.STEPS)
                    sim.kill_at(n, p.pid)
                    rc, out = p.go()
                    self.assertEqual(rc, -signal.SIGKILL)
                    self.assertEqual(out.count('done'), n - 1)
                    w = sim.writes()
                    self.assertEqual(len(w), n)
                    self.assertEqual([e['applied'] for e in w], [True] * (n - 1) + [False])
                    self.assertEqual(w[-1]['killed'], p.pid)
                    self.assertTrue(w[-1]['faults'][0].startswith('kill-before#'))
                    snap = sim.snapshot()['pci'][VF1]
                    self.assertEqual(snap['driver_override'], '(null)' if n == 1 else 'vfio-pci')
                    self.assertEqual(snap['driver'], 'amdgpu' if n <= 2 else None)

    def test_kill_after_each_step(self):
        for n in range(1, len(self.STEPS) + 1):
            with self.subTest(step=n):
                with Simulator(self.host) as sim:
                    self.sim = sim
                    p = self.run_writer(self.STEPS)
                    sim.kill_at(n, p.pid, after=True)
                    rc, out = p.go()
                    self.assertEqual(rc, -signal.SIGKILL)
                    self.assertEqual(out.count('done'), n - 1)      # never learnt step n worked
                    w = sim.writes()
                    self.assertEqual([e['applied'] for e in w], [True] * n)
                    self.assertTrue(w[-1]['faults'][0].startswith('kill-after#'))
                    snap = sim.snapshot()['pci'][VF1]
                    self.assertEqual(snap['driver'], {1: 'amdgpu', 2: None, 3: 'vfio-pci'}[n])

    def test_kill_the_writer_counting_matching_paths(self):
        p = self.run_writer(self.STEPS)
        self.sim.kill_at(1, path='sys/bus/pci/drivers_probe')   # pid None: whoever writes it
        rc, out = p.go()
        self.assertEqual(rc, -signal.SIGKILL)
        self.assertEqual(out.count('done'), 2)
        self.assertIsNone(self.driver(VF1))

    def test_kill_another_process(self):
        victim = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
        self.addCleanup(victim.kill)
        self.sim.kill_at(2, victim.pid, after=True)
        self.write(dev(VF2, 'driver_override'), 'a')
        self.assertIsNone(victim.poll())
        self.write(dev(VF2, 'driver_override'), 'b')
        self.assertEqual(victim.wait(timeout=5), -signal.SIGKILL)
        self.assertEqual(self.read(dev(VF2, 'driver_override')), 'b\n')

    def test_control_errors(self):
        with self.assertRaises(SimulatorError):
            self.sim.hold('x', mode='sometimes')
        with self.assertRaises(ValueError):
            self.sim.fail('x', 'ENOTANERRNO')
        with self.assertRaises(SimulatorError):
            self.sim.kill_at(0)
        with self.assertRaises(SimulatorError):
            self.sim.configure(colour='blue')
        self.assertEqual(self.sim.ping()['writes'], 0)


# ---------------------------------------------------------------------------
# Lifecycle: no stale mounts, ever
# ---------------------------------------------------------------------------

ORPHAN = r'''
import os, sys, time
sys.path.insert(0, sys.argv[1])
from simulator import Simulator
sim = Simulator('amd-sriov').start()
print(sim.root, sim.workdir, sim.pid, flush=True)
time.sleep(60)
'''


def wait_until(pred, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


class TestLifecycle(unittest.TestCase):

    def test_close_unmounts_and_removes_everything(self):
        sim = Simulator('amd-sriov').start()
        root, workdir, proc = sim.root, sim.workdir, sim.proc
        self.assertTrue(is_mounted(root))
        t0 = time.monotonic()
        sim.close()
        self.assertLess(time.monotonic() - t0, 2.0)
        self.assertFalse(is_mounted(root))
        self.assertFalse(os.path.exists(workdir))
        self.assertIsNotNone(proc.poll())
        sim.close()                                              # twice is fine

    def test_close_with_an_open_file_in_the_mount(self):
        sim = Simulator('amd-sriov').start()
        fd = os.open(sim.path(dev(PF_AMD, 'vendor')), os.O_RDONLY)
        t0 = time.monotonic()
        try:
            sim.close()
            self.assertLess(time.monotonic() - t0, 3.0)
            self.assertFalse(is_mounted(sim.root))
            self.assertFalse(os.path.exists(f'/proc/{sim.pid}'))
        finally:
            try:
                os.close(fd)        # ENOTCONN: its file system is gone
            except OSError:
                pass

    def test_close_while_a_write_hangs(self):
        sim = Simulator('amd-sriov').start()
        sim.hang('*')
        holder = {}

        def writer():
            try:
                sim.write(dev(VF2, 'driver_override'), 'x')
            except OSError as e:
                holder['errno'] = e.errno
        t = threading.Thread(target=writer, daemon=True)
        t.start()
        time.sleep(0.2)
        sim.close()
        t.join(10)
        self.assertFalse(t.is_alive())
        self.assertFalse(is_mounted(sim.root))

    def test_simulator_killed_leaves_no_mount(self):
        sim = Simulator('amd-sriov').start()
        os.kill(sim.pid, signal.SIGKILL)
        sim.proc.wait()
        sim.close()
        self.assertFalse(is_mounted(sim.root))

    def test_test_process_killed_leaves_no_mount(self):
        """A test that times out (SIGKILL, no cleanup) must not leave a mount:
        the simulator sees its parent's pipe close and unmounts itself."""
        p = subprocess.Popen([sys.executable, '-c', ORPHAN, os.path.dirname(os.path.abspath(__file__))],
                             stdout=subprocess.PIPE, text=True)
        root, workdir, pid = p.stdout.readline().split()
        p.stdout.close()
        self.assertTrue(is_mounted(root))
        p.kill()
        p.wait()
        self.assertTrue(wait_until(lambda: not is_mounted(root), 10), 'still mounted')
        self.assertTrue(wait_until(lambda: not os.path.exists(workdir), 10), 'workdir left')
        self.assertTrue(wait_until(lambda: not os.path.exists(f'/proc/{pid}'), 10), 'sim left')

    def test_a_directory_is_copied_unless_asked(self):
        src = fixture_host('amd-sriov')
        before = snapshot_tree(src)
        with Simulator(src) as sim:
            sim.write(dev(PF_AMD, 'sriov_numvfs'), '0')
        self.assertEqual(snapshot_tree(src), before)

    def test_copy_false_changes_the_tree_in_place(self):
        import tempfile
        from simulator import copy_tree, remove_tree
        tmp = tempfile.mkdtemp()
        self.addCleanup(remove_tree, tmp)
        tree = os.path.join(tmp, 'host')
        copy_tree(fixture_host('amd-sriov'), tree)
        with Simulator(tree, copy=False) as sim:
            self.assertEqual(sim.backing, tree)
            sim.write(dev(PF_AMD, 'sriov_numvfs'), '0')
        self.assertEqual(snapshot_tree(tree)['pci'][PF_AMD]['sriov']['numvfs'], '0')

    def test_unknown_host(self):
        with self.assertRaises(SimulatorError):
            Simulator('no-such-host').start()


if __name__ == '__main__':
    why = prerequisites()
    if why:
        unittest_tap.skip_all(f'sysfs simulator cannot run here: {why}')
    unittest_tap.main()
