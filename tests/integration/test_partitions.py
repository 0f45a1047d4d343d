#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""io.libvfio.Partitions against the sysfs simulator (tests/simulator): the
real daemon creates and destroys mdevs, SR-IOV VFs and whole GPUs through a
FUSE file system that plays the kernel's part, and the host must come back
exactly as it was. Fault injection: the daemon is SIGKILLed at every single
write of a creation, started again, and must leave the host as before (the
partition was unfinished) or as recorded (it was finished)."""
import json
import os
import pwd
import socket
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'simulator'))

import unittest_tap  # noqa: E402
from libvfio_test import (DaemonTestCase, Varlink, call_once,  # noqa: E402
                          vfioctl, wait_for)
from simulator import Simulator  # noqa: E402

# A python every user may run (a pyenv one under /root is not).
SYSTEM_PYTHON = '/usr/bin/python3'


class PartitionTestCase(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.sims = []

    def tearDown(self):
        super().tearDown()  # daemons first: they hold the mount busy
        for sim in self.sims:
            sim.close()

    def simulate(self, host):
        sim = Simulator(host)
        sim.start()
        self.sims.append(sim)
        return sim

    def start_daemon(self, sim, config=''):
        run = os.path.join(self.workdir, 'run')  # the same records across restarts
        return self.daemon(config=config, args=['--sysfs-root', sim.root, '--runtime-dir', run])

    def call(self, d, method, parameters=None):
        with Varlink(d.socket, timeout=60) as v:
            return v.call('io.libvfio.Partitions.' + method, parameters or {})

    def create(self, d, **parameters):
        reply = self.call(d, 'Create', parameters)
        self.assertIn('parameters', reply, reply)
        return reply['parameters']['partition']

    def assertRefused(self, reply, error, *words):
        self.assertEqual(reply.get('error'), 'io.libvfio.Partitions.' + error, reply)
        for word in words:
            self.assertIn(word, reply['parameters']['message'])


class BackendTest(PartitionTestCase):
    def test_mdev_create_list_destroy(self):
        sim = self.simulate('intel-gvt-laptop')
        d = self.start_daemon(sim)
        before = sim.snapshot()
        p = self.create(d, mode='mdev', type='i915-GVTg_V5_8')
        self.assertEqual(p['type'], 'i915-GVTg_V5_8')
        self.assertEqual(p['holder'], 'manual')
        writes = sim.writes()
        self.assertEqual(len(writes), 1)
        self.assertTrue(writes[0]['path'].endswith('i915-GVTg_V5_8/create'))
        self.assertEqual(writes[0]['value'], p['device'])

        listed = self.call(d, 'List')['parameters']['partitions']
        self.assertIn(p, listed)
        # the instance someone else made is listed too, as not ours
        others = [x for x in listed if x['id'] is None]
        self.assertEqual([x['device'] for x in others],
                         ['83b8f4f2-509f-382f-3c1e-e6bfe0fa1001'])

        self.assertEqual(self.call(d, 'Destroy', {'id': p['id']}), {'parameters': {}})
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])
        self.assertEqual(os.listdir(os.path.join(self.workdir, 'run', 'partitions')), [])

    def test_sriov_enables_vfs_binds_one_and_gives_everything_back(self):
        sim = self.simulate('two-socket-server')
        d = self.start_daemon(sim)
        before = sim.snapshot()
        p = self.create(d, mode='sriov', gpu='0000:86:00.0', vfs=4)
        self.assertEqual(p['gpu'], '0000:86:00.0')
        paths = [(w['path'].rsplit('/', 1)[-1], w['value']) for w in sim.writes()]
        self.assertEqual(paths[:2], [('sriov_drivers_autoprobe', '0'), ('sriov_numvfs', '4')])
        self.assertEqual(paths[2], ('driver_override', 'vfio-pci'))
        self.assertEqual(paths[-1], ('drivers_probe', p['device']))

        # a second partition gets another VF
        q = self.create(d, mode='sriov', gpu='0000:86:00.0')
        self.assertNotEqual(p['device'], q['device'])

        for x in (q, p):
            self.call(d, 'Destroy', {'id': x['id']})
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])

    def test_sriov_on_a_gim_pf_takes_a_vf_gim_enabled(self):
        """AMD's gim enables the VFs itself (vf_num) and has no sriov_configure: the
        generic SR-IOV path must take one of its VFs as it is, never write
        sriov_numvfs, and give the host back as it was."""
        sim = self.simulate('amd-v710-gim')
        d = self.start_daemon(sim)
        before = sim.snapshot()
        p = self.create(d, mode='sriov', gpu='0000:02:00.0')
        self.assertEqual(p['gpu'], '0000:02:00.0')
        self.assertIn(p['device'], ['0000:02:01.%d' % i for i in range(4)])
        paths = [w['path'].rsplit('/', 1)[-1] for w in sim.writes()]
        self.assertNotIn('sriov_numvfs', paths)
        self.call(d, 'Destroy', {'id': p['id']})
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])

    def test_passthrough_of_a_whole_gpu(self):
        sim = self.simulate('nvidia-vgpu-desktop')
        d = self.start_daemon(sim)
        before = sim.snapshot()
        p = self.create(d, mode='passthrough', gpu='0000:01:00.0')
        self.assertEqual(p['device'], '0000:01:00.0')
        unbinds = [w for w in sim.writes() if w['path'].endswith('/unbind')]
        self.assertEqual([w['path'] for w in unbinds], ['sys/bus/pci/drivers/nvidia/unbind'])
        # held whole: not handed out twice
        self.assertRefused(self.call(d, 'Create', {'mode': 'passthrough',
                                                   'gpu': '0000:01:00.0'}), 'Busy')
        self.call(d, 'Destroy', {'id': p['id']})
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])


class LabKernelTest(PartitionTestCase):
    """The lab's 6.1 guest (fixture lab-kernel, its real kernel's tree): mdev parents
    outside PCI, and an NVMe SR-IOV PF (0000:04:00.0) made partitionable by the
    configuration. 0000:00:05.0 is the boot display."""

    def test_mdev_on_a_parent_outside_pci(self):
        sim = self.simulate('lab-kernel')
        d = self.start_daemon(sim)
        before = sim.snapshot()
        p = self.create(d, mode='mdev', gpu='mbochs', type='mbochs-medium')
        self.assertEqual((p['gpu'], p['type'], p['mode']), ('mbochs', 'mbochs-medium', 'mdev'))
        writes = sim.writes()
        self.assertEqual([(w['path'], w['value']) for w in writes],
                         [('sys/devices/virtual/mbochs/mbochs/mdev_supported_types/mbochs-medium/'
                           'create', p['device'])])
        self.assertTrue(os.path.isdir(sim.path(f'sys/bus/mdev/devices/{p["device"]}')))
        self.assertIn(p, self.call(d, 'List')['parameters']['partitions'])
        with Varlink(d.socket) as v:
            gpu = v.call('io.libvfio.Host.GetGPU', {'address': 'mbochs'})['parameters']['gpu']
        t = next(t for t in gpu['mdevTypes'] if t['id'] == 'mbochs-medium')
        self.assertEqual((t['availableInstances'], t['instances']), (15, [p['device']]))

        self.assertEqual(self.call(d, 'Destroy', {'id': p['id']}), {'parameters': {}})
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])
        self.assertEqual(os.listdir(os.path.join(self.workdir, 'run', 'partitions')), [])

    def test_mdev_by_type_alone_finds_the_parent_outside_pci(self):
        sim = self.simulate('lab-kernel')
        d = self.start_daemon(sim)
        before = sim.snapshot()
        p = self.create(d, type='mtty-2', mode='mdev')
        self.assertEqual(p['gpu'], 'mtty')
        result = vfioctl('partitions', socket_path=d.socket)
        self.assertIn('mtty-2', result.stdout)
        self.call(d, 'Destroy', {'id': p['id']})
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])

    def test_a_type_nobody_offers_is_unknown(self):
        sim = self.simulate('lab-kernel')
        d = self.start_daemon(sim)
        before = sim.snapshot()
        reply = self.call(d, 'Create', {'mode': 'mdev', 'type': 'nvidia-63'})
        self.assertRefused(reply, 'UnknownType', 'offers an mdev type',
                           'mbochs-small on mbochs', 'mtty-2')
        self.assertIsNone(reply['parameters']['address'])
        # the boot display is not what the user is told about
        self.assertNotIn('0000:00:05.0', reply['parameters']['message'])
        result = vfioctl('partition', 'create', '--type', 'nvidia-63', socket_path=d.socket)
        self.assertEqual(result.returncode, 1)
        self.assertIn('mdpy-vga', result.stderr)
        self.assertNotIn('0000:00:05.0', result.stderr)
        # a parent asked for by name that is not there
        self.assertRefused(self.call(d, 'Create', {'mode': 'mdev', 'gpu': 'nosuch'}),
                           'NoSuchGPU', 'no mdev parent named nosuch')
        # and a mode only PCI devices have
        self.assertRefused(self.call(d, 'Create', {'mode': 'passthrough', 'gpu': 'mbochs'}),
                           'ModeUnsupported', 'mbochs')
        self.assertEqual(sim.writes(), [])
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])

    def test_configured_nvme_pf_gives_an_sriov_partition(self):
        sim = self.simulate('lab-kernel')
        # Without the key, the NVMe controller is no GPU.
        d = self.start_daemon(sim)
        self.assertRefused(self.call(d, 'Create', {'mode': 'sriov', 'gpu': '0000:04:00.0'}),
                           'NotAGPU')
        d.stop()
        d = self.start_daemon(sim, config='gpus:\n  partitionable: [1b36:0010]\n')
        before = sim.snapshot()
        with Varlink(d.socket) as v:
            gpus = v.call('io.libvfio.Host.ListGPUs')['parameters']['gpus']
        nvme = next(g for g in gpus if g['address'] == '0000:04:00.0')
        self.assertEqual(nvme['class'], '010802')
        modes = {m['mode']: m for m in nvme['modes']}
        self.assertTrue(modes['sriov']['available'], modes['sriov'])
        self.assertEqual(nvme['sriov']['totalVFs'], 4)

        p = self.create(d, mode='sriov', gpu='0000:04:00.0', vfs=2)
        self.assertEqual(p['gpu'], '0000:04:00.0')
        self.assertEqual(p['device'], '0000:04:00.1')
        self.assertEqual(sim.readlink(f'sys/bus/pci/devices/{p["device"]}/driver').rsplit('/')[-1],
                         'vfio-pci')
        with Varlink(d.socket) as v:
            vf = v.call('io.libvfio.Host.GetGPU', {'address': p['device']})['parameters']['gpu']
        self.assertEqual(vf['physicalFunction'], '0000:04:00.0')
        self.call(d, 'Destroy', {'id': p['id']})
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])


class ConcurrencyTest(PartitionTestCase):
    def test_simultaneous_requests_get_different_partitions(self):
        sim = self.simulate('two-socket-server')
        d = self.start_daemon(sim)
        before = sim.snapshot()
        connections = [Varlink(d.socket, timeout=60) for _ in range(3)]
        try:
            for c in connections:  # all three in flight before any answer
                c.send('io.libvfio.Partitions.Create', {'mode': 'sriov', 'gpu': '0000:86:00.0',
                                                        'vfs': 4})
            made = [c.receive()['parameters']['partition'] for c in connections]
        finally:
            for c in connections:
                c.close()
        self.assertEqual(len({p['device'] for p in made}), 3, made)
        for p in made:
            self.call(d, 'Destroy', {'id': p['id']})
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])


class RefusalTest(PartitionTestCase):
    def test_each_bad_request_has_its_error(self):
        sim = self.simulate('intel-gvt-laptop')
        d = self.start_daemon(sim)
        before = sim.snapshot()
        cases = [
            # a type nobody offers: the message lists those there are
            ({'mode': 'mdev', 'type': 'i915-GVTg_V9_9'}, 'UnknownType', 'i915-GVTg_V5_8'),
            ({'mode': 'mdev', 'gpu': '0000:00:02.0', 'type': 'i915-GVTg_V9_9'}, 'UnknownType',
             'vfioctl gpu 0000:00:02.0'),
            # the laptop's iGPU has an mdev in use: not whole
            ({'mode': 'passthrough', 'gpu': '0000:00:02.0'}, 'Busy', 'in parts'),
            ({'mode': 'mdev', 'gpu': '0000:00:14.0'}, 'NotAGPU', '0000:00:14.0'),
            ({'mode': 'mdev', 'gpu': '0000:42:00.0'}, 'NoSuchGPU', '0000:42:00.0'),
            ({'mode': 'sriov'}, 'ModeUnsupported', 'vfioctl check'),
            ({'mode': 'mdev', 'vendor': 'nvidia'}, 'NoMatchingGPU', 'vfioctl gpus'),
        ]
        for parameters, error, word in cases:
            with self.subTest(error):
                self.assertRefused(self.call(d, 'Create', parameters), error, word)
        self.assertEqual(sim.writes(), [])
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])

    def test_boot_display_needs_force(self):
        sim = self.simulate('nvidia-vgpu-desktop')
        d = self.start_daemon(sim)
        self.assertRefused(self.call(d, 'Create', {'mode': 'passthrough',
                                                   'gpu': '0000:00:02.0'}),
                           'BootDisplay', 'force')
        p = self.create(d, mode='passthrough', gpu='0000:00:02.0', force=True)
        self.call(d, 'Destroy', {'id': p['id']})

    def test_a_device_a_program_holds_needs_force(self):
        sim = self.simulate('nvidia-vgpu-desktop')
        # The GPU's DRM card and render node as sysfs names them, and a
        # program holding the render node open as proc shows it.
        for child in ('card1', 'renderD129'):
            directory = os.path.join(sim.backing, 'sys/bus/pci/devices/0000:01:00.0/drm', child)
            os.makedirs(directory)
            with open(os.path.join(directory, 'uevent'), 'w') as f:
                f.write(f'MAJOR=226\nMINOR=1\nDEVNAME=dri/{child}\nDEVTYPE=drm_minor\n')
        fd_dir = os.path.join(sim.backing, 'proc/4242/fd')
        os.makedirs(fd_dir)
        os.symlink('/dev/null', os.path.join(fd_dir, '0'))
        os.symlink('/dev/dri/renderD129', os.path.join(fd_dir, '9'))
        with open(os.path.join(sim.backing, 'proc/4242/comm'), 'w') as f:
            f.write('ollama\n')
        d = self.start_daemon(sim)
        before = sim.snapshot()
        request = {'mode': 'passthrough', 'gpu': '0000:01:00.0'}
        self.assertRefused(self.call(d, 'Create', request), 'DeviceInUse',
                           '0000:01:00.0 is in use', 'ollama (PID 4242)',
                           '/dev/dri/renderD129', '--force')
        self.assertEqual(sim.writes(), [])
        # The program lets go: the same request goes through.
        os.unlink(os.path.join(fd_dir, '9'))
        p = self.create(d, **request)
        self.call(d, 'Destroy', {'id': p['id']})
        # Held again (a compositor on the card): --force takes it anyway.
        os.symlink('/dev/dri/card1', os.path.join(fd_dir, '9'))
        self.assertRefused(self.call(d, 'Create', request), 'DeviceInUse', '/dev/dri/card1')
        p = self.create(d, **request, force=True)
        self.call(d, 'Destroy', {'id': p['id']})
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])

    def test_none_free(self):
        sim = self.simulate('intel-gvt-laptop')
        d = self.start_daemon(sim)
        made = [self.create(d, mode='mdev', type='i915-GVTg_V5_4') for _ in range(2)]
        self.assertRefused(self.call(d, 'Create', {'mode': 'mdev', 'type': 'i915-GVTg_V5_4'}),
                           'NoneFree', 'destroy a partition')
        for p in made:
            self.call(d, 'Destroy', {'id': p['id']})

    def test_bad_parameters(self):
        sim = self.simulate('intel-gvt-laptop')
        d = self.start_daemon(sim)
        for parameters, bad in (({'mode': 'slice'}, 'mode'), ({}, 'mode'),
                                ({'mode': 'mdev', 'gpu': 'zz:00'}, 'gpu'),
                                ({'mode': 'mdev', 'vendor': 'acme'}, 'vendor'),
                                ({'mode': 'mdev', 'node': 5000}, 'node'),
                                ({'mode': 'mdev', 'size': 1}, 'size')):
            reply = self.call(d, 'Create', parameters)
            self.assertEqual(reply, {'error': 'org.varlink.service.InvalidParameter',
                                     'parameters': {'parameter': bad}})
        reply = self.call(d, 'Destroy', {'id': 'mdev-000000000000'})
        self.assertRefused(reply, 'NoSuchPartition', 'vfioctl partitions')
        reply = self.call(d, 'Destroy', {'id': '../../etc/passwd'})
        self.assertEqual(reply['error'], 'org.varlink.service.InvalidParameter')

    def test_only_root_changes_partitions(self):
        sim = self.simulate('intel-gvt-laptop')
        d = self.start_daemon(sim)
        nobody = pwd.getpwnam('nobody').pw_uid
        script = ('import json, socket, sys\n'
                  's = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])\n'
                  's.sendall(json.dumps({"method": sys.argv[2], "parameters": '
                  'json.loads(sys.argv[3])}).encode() + b"\\0")\n'
                  'data = b""\n'
                  'while not data.endswith(b"\\0"): data += s.recv(65536)\n'
                  'print(data[:-1].decode())\n')
        for method, parameters in (('Create', {'mode': 'mdev'}),
                                   ('Destroy', {'id': 'mdev-000000000000'})):
            out = subprocess.run([SYSTEM_PYTHON, '-c', script, d.socket,
                                  'io.libvfio.Partitions.' + method, json.dumps(parameters)],
                                 capture_output=True, text=True, user=nobody, timeout=30)
            self.assertRefused(json.loads(out.stdout), 'PermissionDenied', 'root')
        # reading is for everyone
        out = subprocess.run([SYSTEM_PYTHON, '-c', script, d.socket,
                              'io.libvfio.Partitions.List', '{}'],
                             capture_output=True, text=True, user=nobody, timeout=30)
        self.assertIn('partitions', json.loads(out.stdout)['parameters'])
        self.assertEqual(sim.writes(), [])

    def test_pf_without_driver_is_named(self):
        sim = self.simulate('two-socket-server')
        sim.write('sys/bus/pci/drivers/i915/unbind', '0000:86:00.0')
        d = self.start_daemon(sim)
        before = sim.snapshot()
        reply = self.call(d, 'Create', {'mode': 'sriov', 'gpu': '0000:86:00.0'})
        self.assertRefused(reply, 'Failed', 'has no driver', 'bind it first')
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])

    def test_mdev_by_constraints(self):
        sim = self.simulate('nvidia-vgpu-desktop')
        d = self.start_daemon(sim)
        with Varlink(d.socket) as v:
            gpu = v.call('io.libvfio.Host.GetGPU', {'address': '0000:01:00.0'})
        names = {t['id']: t['name'] for t in gpu['parameters']['gpu']['mdevTypes']}
        # at least 2 GiB, at most 4 per GPU: 4Q (4 per GPU) and 8Q (2) fit; the larger wins
        p = self.create(d, mode='mdev', minFramebufferMiB=2048, maxInstances=4)
        self.assertEqual(p['gpu'], '0000:01:00.0')
        self.assertEqual(names[p['type']], 'GRID T4-8Q')
        self.call(d, 'Destroy', {'id': p['id']})
        # a type by name, with constraints it meets
        p = self.create(d, mode='mdev', maxInstances=16, minFramebufferMiB=1024, type='GRID T4-1Q')
        self.assertEqual(names[p['type']], 'GRID T4-1Q')
        self.call(d, 'Destroy', {'id': p['id']})
        # by name
        p = self.create(d, mode='mdev', type='GRID T4-2Q')
        self.assertEqual(names[p['type']], 'GRID T4-2Q')
        self.call(d, 'Destroy', {'id': p['id']})
        self.assertRefused(self.call(d, 'Create', {'mode': 'mdev', 'minFramebufferMiB': 65536}),
                           'UnknownType', 'constraints')

    def test_a_refused_write_is_undone(self):
        # EIO: the kernel said no. ENODEV: the device vanished under the write.
        for errno_name, error, words in (
                ('EIO', 'Failed', ('refused', 'Input/output error')),
                ('ENODEV', 'DeviceVanished', ('vanished', 'vfioctl gpus'))):
            with self.subTest(errno_name):
                sim = self.simulate('two-socket-server')
                d = self.start_daemon(sim)
                before = sim.snapshot()
                sim.fail('sys/bus/pci/drivers_probe', errno_name)
                reply = self.call(d, 'Create', {'mode': 'sriov', 'gpu': '0000:86:00.0',
                                                'vfs': 2})
                self.assertRefused(reply, error, *words)
                self.assertEqual(Simulator.diff(before, sim.snapshot()), [])
                self.assertTrue(d.running())
                d.stop()


class NvidiaVgpuTest(PartitionTestCase):
    """NVIDIA's VFs: vGPU 17 and later give a VF a type through nvidia/current_vgpu_type
    (no mdev, the VF stays on nvidia); before 17, each VF is an mdev parent."""

    VF_TYPE = 'sys/bus/pci/devices/{}/nvidia/current_vgpu_type'

    def test_vgpu17_type_on_a_vf_and_back(self):
        sim = self.simulate('nvidia-l4-vgpu17')
        d = self.start_daemon(sim)
        before = sim.snapshot()
        p = self.create(d, mode='sriov', type='NVIDIA L4-8Q')
        self.assertEqual((p['gpu'], p['device'], p['type']),
                         ('0000:03:00.0', '0000:03:00.4', '1155'))
        # one write, the type's id; the VF is never rebound
        self.assertEqual([(w['aliases'], w['value']) for w in sim.writes()],
                         [([self.VF_TYPE.format('0000:03:00.4')], '1155')])
        # the driver keeps one type per GPU: a 24Q no longer fits, another 8Q does
        self.assertRefused(self.call(d, 'Create', {'mode': 'sriov', 'type': '1157'}),
                           'UnknownType', 'lists the types it can take now')
        q = self.create(d, mode='sriov')
        self.assertEqual((q['device'], q['type']), ('0000:03:00.5', '1155'))
        # a vGPU someone else made is listed, as not libvfio's
        sim.write(self.VF_TYPE.format('0000:03:04.3'), '1155')
        listed = self.call(d, 'List')['parameters']['partitions']
        self.assertIn({'id': None, 'mode': 'sriov', 'gpu': '0000:03:00.0',
                       'device': '0000:03:04.3', 'type': '1155', 'holder': None}, listed)
        # 24 GiB hold three 8Q: the GPU is full
        self.assertRefused(self.call(d, 'Create', {'mode': 'sriov'}), 'NoneFree')
        sim.write(self.VF_TYPE.format('0000:03:04.3'), '0')
        for x in (q, p):
            self.assertEqual(self.call(d, 'Destroy', {'id': x['id']}), {'parameters': {}})
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])

    def test_vgpu17_refusal_is_a_sentence_and_leaves_the_host(self):
        sim = self.simulate('nvidia-l4-vgpu17')
        d = self.start_daemon(sim)
        before = sim.snapshot()
        sim.fail(self.VF_TYPE.format('*'), 'EINVAL')
        reply = self.call(d, 'Create', {'mode': 'sriov', 'type': 'NVIDIA L4-4Q'})
        self.assertRefused(reply, 'Failed', "NVIDIA's driver refused vGPU type 1153",
                           "'vfioctl gpu 0000:03:00.4' lists")
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])
        self.assertTrue(d.running())

    def test_vgpu17_release_refused_while_the_vf_is_open(self):
        sim = self.simulate('nvidia-l4-vgpu17')
        d = self.start_daemon(sim)
        before = sim.snapshot()
        p = self.create(d, mode='sriov', type='NVIDIA L4-2Q')
        sim.hold(p['device'])           # a QEMU still has the VF open
        self.assertRefused(self.call(d, 'Destroy', {'id': p['id']}), 'Failed',
                           'could not be released completely')
        sim.release()
        self.assertEqual(self.call(d, 'Destroy', {'id': p['id']}), {'parameters': {}})
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])

    def test_mdev_on_the_vfs_before_vgpu17(self):
        sim = self.simulate('nvidia-a100-mdev-vf')
        d = self.start_daemon(sim)
        before = sim.snapshot()
        p = self.create(d, mode='mdev', type='NVIDIA A100-10C')
        self.assertEqual((p['gpu'], p['type']), ('0000:03:00.4', 'nvidia-473'))
        q = self.create(d, mode='mdev', type='NVIDIA A100-10C')
        self.assertEqual(q['gpu'], '0000:03:00.5')  # a VF holds one vGPU
        for x in (q, p):
            self.assertEqual(self.call(d, 'Destroy', {'id': x['id']}), {'parameters': {}})
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])


class ReleaseFailureTest(PartitionTestCase):
    def test_a_release_the_kernel_refuses_stays_held_and_can_be_retried(self):
        sim = self.simulate('intel-gvt-laptop')
        d = self.start_daemon(sim)
        before = sim.snapshot()
        p = self.create(d, mode='mdev', type='i915-GVTg_V5_8')
        sim.fail('sys/bus/mdev/devices/*/remove', 'EIO', times=1)
        reply = self.call(d, 'Destroy', {'id': p['id']})
        self.assertRefused(reply, 'Failed', 'could not be released completely', 'Destroy it again')
        # still listed as libvfio's (the mdev is still there), and its record kept
        listed = [x for x in self.call(d, 'List')['parameters']['partitions']
                  if x['id'] == p['id']]
        self.assertEqual(len(listed), 1, listed)
        self.assertEqual(os.listdir(os.path.join(self.workdir, 'run', 'partitions')),
                         [p['id'] + '.json'])
        # the kernel agrees this time
        self.assertEqual(self.call(d, 'Destroy', {'id': p['id']}), {'parameters': {}})
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])
        self.assertEqual(os.listdir(os.path.join(self.workdir, 'run', 'partitions')), [])


class VFCountTest(PartitionTestCase):
    def test_set_vf_count(self):
        sim = self.simulate('two-socket-server')
        d = self.start_daemon(sim)
        before = sim.snapshot()
        result = vfioctl('vfs', '86:00.0', '4', socket_path=d.socket)
        self.assertEqual((result.returncode, result.stdout),
                         (0, '0000:86:00.0 now has 4 VFs.\n'), result.stderr)
        paths = [(w['path'].rsplit('/', 1)[-1], w['value']) for w in sim.writes()]
        self.assertEqual(paths, [('sriov_drivers_autoprobe', '0'), ('sriov_numvfs', '4')])
        # from one count to another: by way of 0
        self.assertEqual(self.call(d, 'SetVFCount', {'gpu': '0000:86:00.0', 'count': 2}),
                         {'parameters': {}})
        self.assertEqual([w['value'] for w in sim.writes()][2:], ['0', '2'])

        # a VF in a partition: the count stays
        p = self.create(d, mode='sriov', gpu='0000:86:00.0')
        self.assertRefused(self.call(d, 'SetVFCount', {'gpu': '0000:86:00.0', 'count': 0}),
                           'Busy', 'in use')
        self.call(d, 'Destroy', {'id': p['id']})
        self.assertEqual(self.call(d, 'SetVFCount', {'gpu': '0000:86:00.0', 'count': 0}),
                         {'parameters': {}})
        # no VF left: autoprobe is back on, as it was
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])

    def test_xe_vfs_show_their_profile(self):
        """On xe, each enabled VF's share of GPU time (sriov_admin/vfN/profile) is in
        Host.GetGPU and in `vfioctl gpu`, 0 said as 'no limit'."""
        sim = self.simulate('intel-xe-sriov')
        d = self.start_daemon(sim)
        vfioctl('vfs', '00:02.0', '2', socket_path=d.socket)
        with open(sim.path('sys/bus/pci/devices/0000:00:02.0/sriov_admin/vf2/profile/'
                           'exec_quantum_ms'), 'w') as f:
            f.write('25')
        with open(sim.path('sys/bus/pci/devices/0000:00:02.0/sriov_admin/vf2/profile/'
                           'preempt_timeout_us'), 'w') as f:
            f.write('50000')
        # written behind the daemon's back, and no uevent says so: read anew
        with Varlink(d.socket) as v:
            gpu = v.call('io.libvfio.Host.GetGPU', {'address': '0000:00:02.0',
                                                    'refresh': True})['parameters']
        vfs = gpu['gpu']['sriov']['vfs']
        self.assertEqual([(vf['address'], vf['xeProfile']) for vf in vfs],
                         [('0000:00:02.1', {'execQuantumMs': 0, 'preemptTimeoutUs': 0,
                                            'vramQuota': None}),
                          ('0000:00:02.2', {'execQuantumMs': 25, 'preemptTimeoutUs': 50000,
                                            'vramQuota': None})])
        result = vfioctl('gpu', '00:02.0', socket_path=d.socket)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('EXEC QUANTUM', result.stdout)
        self.assertNotIn('VRAM QUOTA', result.stdout)  # an integrated GPU: no VRAM of its own
        lines = {line.split()[0]: line for line in result.stdout.splitlines()
                 if line.strip().startswith('0000:00:02.')}
        self.assertEqual(lines['0000:00:02.1'].split()[-4:], ['no', 'limit', 'no', 'limit'],
                         result.stdout)
        self.assertEqual(lines['0000:00:02.2'].split()[-4:], ['25', 'ms', '50000', 'us'],
                         result.stdout)
        vfioctl('vfs', '00:02.0', '0', socket_path=d.socket)
        d.stop()

        # a discrete GPU: each VF's VRAM too, 0 said as 'unprovisioned'
        bmg = self.simulate('intel-xe-discrete')
        d = self.start_daemon(bmg)
        vfioctl('vfs', '03:00.0', '2', socket_path=d.socket)
        with open(bmg.path('sys/bus/pci/devices/0000:03:00.0/sriov_admin/vf2/profile/'
                           'vram_quota'), 'w') as f:
            f.write('4294967296')
        with Varlink(d.socket) as v:
            gpu = v.call('io.libvfio.Host.GetGPU', {'address': '0000:03:00.0',
                                                    'refresh': True})['parameters']
        self.assertEqual([vf['xeProfile']['vramQuota'] for vf in gpu['gpu']['sriov']['vfs']],
                         [0, 4294967296])
        result = vfioctl('gpu', '03:00.0', socket_path=d.socket)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('VRAM QUOTA', result.stdout)
        lines = {line.split()[0]: line for line in result.stdout.splitlines()
                 if line.strip().startswith('0000:03:00.')}
        self.assertEqual(lines['0000:03:00.1'].split()[-1], 'unprovisioned', result.stdout)
        self.assertEqual(lines['0000:03:00.2'].split()[-1], '4GiB', result.stdout)
        vfioctl('vfs', '03:00.0', '0', socket_path=d.socket)
        d.stop()

        # not xe: no profile, and no such columns
        amd = self.simulate('two-socket-server')
        d = self.start_daemon(amd)
        vfioctl('vfs', '86:00.0', '2', socket_path=d.socket)
        with Varlink(d.socket) as v:
            gpu = v.call('io.libvfio.Host.GetGPU', {'address': '0000:86:00.0'})['parameters']
        self.assertEqual([vf['xeProfile'] for vf in gpu['gpu']['sriov']['vfs']], [None, None])
        self.assertNotIn('EXEC QUANTUM', vfioctl('gpu', '86:00.0', socket_path=d.socket).stdout)

    def test_vfs_up_and_down_leaves_the_host_as_it_was(self):
        sim = self.simulate('two-socket-server')
        d = self.start_daemon(sim)
        autoprobe = 'sys/bus/pci/devices/0000:86:00.0/sriov_drivers_autoprobe'
        for setting in ('1', '0'):  # the fixture's, then an administrator's own
            with self.subTest(autoprobe=setting):
                sim.write(autoprobe, setting)
                before = sim.snapshot()
                start = sim.write_count()
                for count in ('1', '0'):
                    result = vfioctl('vfs', '86:00.0', count, socket_path=d.socket)
                    self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(Simulator.diff(before, sim.snapshot()), [])
                writes = [(w['path'].rsplit('/', 1)[-1], w['value'])
                          for w in sim.writes(since=start)]
                if setting == '1':
                    self.assertEqual(writes, [('sriov_drivers_autoprobe', '0'),
                                              ('sriov_numvfs', '1'), ('sriov_numvfs', '0'),
                                              ('sriov_drivers_autoprobe', '1')])
                else:  # off already: left alone
                    self.assertEqual(writes, [('sriov_numvfs', '1'), ('sriov_numvfs', '0')])
        self.assertEqual(os.listdir(os.path.join(self.workdir, 'run', 'autoprobe')), [])

    def test_autoprobe_comes_back_after_a_restart(self):
        sim = self.simulate('two-socket-server')
        before = sim.snapshot()
        d = self.start_daemon(sim)
        self.call(d, 'SetVFCount', {'gpu': '0000:86:00.0', 'count': 2})
        d.stop()
        d = self.start_daemon(sim)  # the VFs are there: autoprobe stays off
        self.assertEqual(sim.snapshot()['pci']['0000:86:00.0']['sriov']['drivers_autoprobe'],
                         '0')
        self.call(d, 'SetVFCount', {'gpu': '0000:86:00.0', 'count': 0})
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])

    def test_autoprobe_comes_back_when_kept_vfs_go(self):
        sim = self.simulate('two-socket-server')
        before = sim.snapshot()
        d = self.start_daemon(sim, config='sriov:\n  keep-vfs-on-vfio: true\n')
        p = self.create(d, mode='sriov', gpu='0000:86:00.0', vfs=2)
        self.call(d, 'Destroy', {'id': p['id']})  # the VFs stay, autoprobe off
        # The kept VF is on vfio-pci: back to its own (no) driver first, then no VFs.
        sim.write('sys/bus/pci/drivers/vfio-pci/unbind', p['device'])
        sim.write(f'sys/bus/pci/devices/{p["device"]}/driver_override', '\n')
        self.assertEqual(self.call(d, 'SetVFCount', {'gpu': '0000:86:00.0', 'count': 0}),
                         {'parameters': {}})
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])

    def test_a_vf_count_is_logged_as_one_not_as_a_partition(self):
        sim = self.simulate('two-socket-server')
        d = self.start_daemon(sim)
        for count in (1, 0):
            result = vfioctl('vfs', '86:00.0', str(count), socket_path=d.socket)
            self.assertEqual(result.returncode, 0, result.stderr)
        log = d.output()
        self.assertIn('0000:86:00.0 now has 1 VFs', log)
        self.assertIn('0000:86:00.0 now has 0 VFs', log)
        self.assertNotIn('Partition', log)  # no partition was made or released

    def test_vfs_stay_while_another_partition_uses_one(self):
        sim = self.simulate('two-socket-server')
        d = self.start_daemon(sim)
        before = sim.snapshot()
        first = self.create(d, mode='sriov', gpu='0000:86:00.0', vfs=2)  # enables the VFs
        second = self.create(d, mode='sriov', gpu='0000:86:00.0')
        self.call(d, 'Destroy', {'id': first['id']})
        numvfs = [w['value'] for w in sim.writes() if w['path'].endswith('/sriov_numvfs')]
        self.assertEqual(numvfs, ['2'], 'the VFs went while the second partition used one')
        listed = self.call(d, 'List')['parameters']['partitions']
        self.assertIn(second['device'], [p['device'] for p in listed if p['id'] == second['id']])
        # The last one out puts the GPU back as it was, VF count included.
        self.call(d, 'Destroy', {'id': second['id']})
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])

    def test_a_vf_asked_for_by_address_is_the_one_bound(self):
        sim = self.simulate('two-socket-server')
        d = self.start_daemon(sim)
        self.call(d, 'SetVFCount', {'gpu': '0000:86:00.0', 'count': 4})
        with Varlink(d.socket) as v:
            pf = v.call('io.libvfio.Host.GetGPU', {'address': '0000:86:00.0'})
        vfs = [vf['address'] for vf in pf['parameters']['gpu']['sriov']['vfs']]
        self.assertEqual(len(vfs), 4)
        p = self.create(d, mode='sriov', gpu=vfs[2])
        self.assertEqual(p['device'], vfs[2])
        self.call(d, 'Destroy', {'id': p['id']})
        self.call(d, 'SetVFCount', {'gpu': '0000:86:00.0', 'count': 0})

    def test_set_vf_count_refusals(self):
        sim = self.simulate('two-socket-server')
        d = self.start_daemon(sim)
        for parameters, error, word in (
                ({'gpu': '0000:86:00.0', 'count': 32}, 'Failed', '31 VFs at most'),
                ({'gpu': '0000:03:00.0', 'count': 1}, 'ModeUnsupported', 'SR-IOV'),
                ({'gpu': '0000:99:00.0', 'count': 1}, 'NoSuchGPU', '0000:99:00.0')):
            with self.subTest(error):
                self.assertRefused(self.call(d, 'SetVFCount', parameters), error, word)
        for parameters, bad in (({'gpu': 'x', 'count': 1}, 'gpu'),
                                ({'gpu': '0000:86:00.0', 'count': -1}, 'count'),
                                ({'gpu': '0000:86:00.0'}, 'count')):
            self.assertEqual(self.call(d, 'SetVFCount', parameters)['parameters'],
                             {'parameter': bad})
        result = vfioctl('vfs', '86:00.0', 'many', socket_path=d.socket)
        self.assertEqual(result.returncode, 2)
        self.assertEqual(sim.writes(), [])


class KeepVFsTest(PartitionTestCase):
    def test_vfs_kept_on_vfio_pci_for_the_next_partition(self):
        sim = self.simulate('two-socket-server')
        d = self.start_daemon(sim, config='sriov:\n  keep-vfs-on-vfio: true\n')
        p = self.create(d, mode='sriov', gpu='0000:86:00.0', vfs=2)
        writes = len(sim.writes())
        self.call(d, 'Destroy', {'id': p['id']})
        # kept: not one write gave anything back, and the VF is on vfio-pci still
        self.assertEqual(len(sim.writes()), writes)
        listed = self.call(d, 'List')['parameters']['partitions']
        self.assertIn({'id': None, 'mode': 'sriov', 'gpu': '0000:86:00.0',
                       'device': p['device'], 'type': None, 'holder': None}, listed)
        # the next partition takes it as it is: not one write
        q = self.create(d, mode='sriov', gpu='0000:86:00.0')
        self.assertEqual(q['device'], p['device'])
        self.assertEqual(len(sim.writes()), writes)


class StuckWriteTest(PartitionTestCase):
    def test_a_stuck_unbind_times_out_while_others_are_served(self):
        sim = self.simulate('nvidia-vgpu-desktop')
        d = self.start_daemon(sim, config='limits:\n  sysfs-write-timeout: 1s\n')
        before = sim.snapshot()
        sim.hang('sys/bus/pci/drivers/nvidia/unbind', seconds=3, times=1)
        with Varlink(d.socket, timeout=60) as slow:
            slow.send('io.libvfio.Partitions.Create', {'mode': 'passthrough',
                                                       'gpu': '0000:01:00.0'})
            # the daemon serves others while the write hangs
            self.assertDaemonServes(d)
            reply = slow.receive()
            self.assertRefused(reply, 'Failed', 'did not answer in time')
            # The stuck unbind lands after all (the GPU loses its driver); only then is the
            # partition undone, from the state that write left: the driver comes back.
            wait_for(lambda: len(sim.writes()) >= 4 and
                     not Simulator.diff(before, sim.snapshot()),
                     timeout=20, what='the undo after the late write')
            # The caller heard once: the end of the undo sends no second reply.
            slow.sock.settimeout(1.0)
            with self.assertRaises(socket.timeout):
                slow.receive()
        self.assertTrue(d.running(), d.output())
        paths = [w['path'].rsplit('/', 1)[-1] for w in sim.writes()]
        self.assertEqual(paths, ['driver_override', 'unbind', 'driver_override',
                                 'drivers_probe'])
        self.assertIn('takes too long', d.output())
        self.assertEqual(os.listdir(os.path.join(self.workdir, 'run', 'partitions')), [])


class ClientTest(PartitionTestCase):
    def test_vfioctl_partition_commands(self):
        sim = self.simulate('intel-gvt-laptop')
        d = self.start_daemon(sim)
        before = sim.snapshot()
        made = vfioctl('partition', 'create', '--type', 'GVTg_V5_8', socket_path=d.socket)
        self.assertEqual(made.returncode, 0, made.stderr)
        partition_id = made.stdout.split()[1].rstrip(':')
        self.assertTrue(partition_id.startswith('mdev-'), made.stdout)

        listed = vfioctl('partitions', socket_path=d.socket)
        self.assertEqual(listed.returncode, 0)
        line = [l for l in listed.stdout.splitlines() if l.startswith(partition_id)]
        self.assertEqual(len(line), 1, listed.stdout)
        self.assertIn('i915-GVTg_V5_8', line[0])
        self.assertIn('manual', line[0])
        self.assertIn("(not libvfio's)", listed.stdout)

        as_json = json.loads(vfioctl('--json', 'partitions', socket_path=d.socket).stdout)
        self.assertIn(partition_id, [p['id'] for p in as_json['partitions']])

        gone = vfioctl('partition', 'destroy', partition_id, socket_path=d.socket)
        self.assertEqual((gone.returncode, gone.stdout), (0, f'Destroyed {partition_id}.\n'))
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])

    def test_vfioctl_force_passes_the_boot_display(self):
        sim = self.simulate('nvidia-vgpu-desktop')
        d = self.start_daemon(sim)
        args = ('partition', 'create', '--mode', 'passthrough', '--gpu', '0000:00:02.0')
        refused = vfioctl(*args, socket_path=d.socket)
        self.assertEqual(refused.returncode, 1, refused.stderr)
        self.assertIn('--force', refused.stderr)
        made = vfioctl(*args, '--force', socket_path=d.socket)
        self.assertEqual(made.returncode, 0, made.stderr)
        partition_id = made.stdout.split()[1].rstrip(':')
        gone = vfioctl('partition', 'destroy', partition_id, socket_path=d.socket)
        self.assertEqual(gone.returncode, 0, gone.stderr)

    def test_vfioctl_partition_usage_and_refusals(self):
        sim = self.simulate('intel-gvt-laptop')
        d = self.start_daemon(sim)
        for args, code, words in (
                (['partition', 'create'], 2, '--mode'),
                (['partition', 'create', '--gpu', 'zz:00', '--mode', 'mdev'], 2,
                 'is neither a PCI address'),
                (['partition', 'create', '--mode', 'mdev', '--node', 'x'], 2, 'whole number'),
                (['partition', 'create', '--mode', 'mdev', '--node', '2000'], 2, '0 to 1023'),
                (['partition', 'create', '--mode', 'mdev', '--max-instances',
                  '99999999999999999999'], 2, 'whole number'),
                (['vfs', 'zz', '1'], 2, 'not a PCI address'),
                (['vfs', '0000:00:02.0', '1x'], 2, 'the VF count takes a whole number'),
                (['vfs', '0000:00:02.0', ' +5'], 2, 'the VF count takes a whole number'),
                (['partition', 'create', '--type'], 2, '--type needs a value'),
                (['partition', 'frob'], 2, 'partition create'),
                (['partition', 'destroy', 'mdev-000000000000'], 1, 'no partition of that id'),
                (['partition', 'create', '--mode', 'sriov'], 1, 'does not offer this mode')):
            with self.subTest(args=args):
                result = vfioctl(*args, socket_path=d.socket)
                self.assertEqual(result.returncode, code, result.stderr)
                self.assertIn(words, result.stderr)
        self.assertEqual(sim.writes(), [])


class CrashTest(PartitionTestCase):
    """SIGKILL at every write of a creation; the next daemon puts things right."""

    def crash_at_every_write(self, host, parameters):
        # First, how many writes does a creation take?
        sim = self.simulate(host)
        d = self.start_daemon(sim)
        before = sim.snapshot()
        p = self.create(d, **parameters)
        n_writes = len(sim.writes())
        self.assertGreater(n_writes, 0)
        self.call(d, 'Destroy', {'id': p['id']})
        d.stop()
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])

        for n in range(1, n_writes + 1):
            for after in (False, True):
                with self.subTest(write=n, after=after):
                    first = self.start_daemon(sim)
                    sim.kill_at(n, pid=first.process.pid, after=after)
                    try:
                        self.call(first, 'Create', parameters)
                    except (OSError, AttributeError, TypeError):
                        pass  # the daemon died under the call
                    wait_for(lambda: not first.running(), what='the daemon to die')
                    second = self.start_daemon(sim)
                    # Killed mid-way: the next daemon undid it all.
                    self.assertEqual(Simulator.diff(before, sim.snapshot()), [],
                                     second.output())
                    second.stop()
                    writes = len(sim.writes())
                    third = self.start_daemon(sim)  # nothing is undone twice
                    self.assertEqual(len(sim.writes()), writes)
                    third.stop()

    def test_mdev(self):
        self.crash_at_every_write('intel-gvt-laptop', {'mode': 'mdev'})

    def test_sriov(self):
        self.crash_at_every_write('two-socket-server',
                                  {'mode': 'sriov', 'gpu': '0000:86:00.0', 'vfs': 2})

    def test_passthrough(self):
        self.crash_at_every_write('nvidia-vgpu-desktop',
                                  {'mode': 'passthrough', 'gpu': '0000:01:00.0'})

    def test_nvidia_vgpu17(self):
        self.crash_at_every_write('nvidia-l4-vgpu17', {'mode': 'sriov', 'type': '1155'})

    def test_passthrough_with_vendor_reset(self):
        # reset_method device_specific first, then the binds: each step killed mid-way
        self.crash_at_every_write('polaris-vendor-reset',
                                  {'mode': 'passthrough', 'gpu': '0000:02:00.0'})

    def crash_at_every_write_of_destroy(self, host, parameters):
        sim = self.simulate(host)
        d = self.start_daemon(sim)
        before = sim.snapshot()
        p = self.create(d, **parameters)
        start = sim.write_count()
        self.call(d, 'Destroy', {'id': p['id']})
        n_writes = sim.write_count() - start
        d.stop()
        for n in range(1, n_writes + 1):
            with self.subTest(write=n):
                first = self.start_daemon(sim)
                p = self.create(first, **parameters)
                sim.kill_at(n, pid=first.process.pid)
                try:
                    self.call(first, 'Destroy', {'id': p['id']})
                except (OSError, AttributeError, TypeError):
                    pass
                wait_for(lambda: not first.running(), what='the daemon to die')
                second = self.start_daemon(sim)
                self.assertEqual(Simulator.diff(before, sim.snapshot()), [], second.output())
                self.assertEqual([x for x in self.call(second, 'List')['parameters']
                                  ['partitions'] if x['id']], [])
                second.stop()

    def test_killed_while_setting_the_vf_count(self):
        """Up to 1 VF and back to 0, killed at each write: the next daemon puts
        autoprobe back when no VF is left, and 'vfs 0' does when there are."""
        sim = self.simulate('two-socket-server')
        before = sim.snapshot()
        for count in (1, 0):
            for n in (1, 2):
                for after in (False, True):
                    with self.subTest(count=count, write=n, after=after):
                        first = self.start_daemon(sim)
                        if count == 0:
                            self.call(first, 'SetVFCount', {'gpu': '0000:86:00.0',
                                                            'count': 1})
                        sim.kill_at(n, pid=first.process.pid, after=after)
                        try:
                            self.call(first, 'SetVFCount', {'gpu': '0000:86:00.0',
                                                            'count': count})
                        except (OSError, AttributeError, TypeError):
                            pass
                        wait_for(lambda: not first.running(), what='the daemon to die')
                        second = self.start_daemon(sim)
                        pf = sim.snapshot()['pci']['0000:86:00.0']['sriov']
                        if pf['numvfs'] == '0':  # put right at start
                            self.assertEqual(Simulator.diff(before, sim.snapshot()), [],
                                             second.output())
                        else:  # the VFs are there, so autoprobe stays off until they go
                            self.assertEqual(pf['drivers_autoprobe'], '0')
                            self.call(second, 'SetVFCount', {'gpu': '0000:86:00.0',
                                                             'count': 0})
                            self.assertEqual(Simulator.diff(before, sim.snapshot()), [])
                        second.stop()
                        self.assertEqual(
                            os.listdir(os.path.join(self.workdir, 'run', 'autoprobe')), [])

    def test_killed_while_destroying_mdev(self):
        self.crash_at_every_write_of_destroy('intel-gvt-laptop', {'mode': 'mdev'})

    def test_killed_while_destroying_sriov(self):
        self.crash_at_every_write_of_destroy('two-socket-server',
                                             {'mode': 'sriov', 'gpu': '0000:86:00.0', 'vfs': 2})

    def test_killed_while_destroying_passthrough_with_vendor_reset(self):
        self.crash_at_every_write_of_destroy('polaris-vendor-reset',
                                             {'mode': 'passthrough', 'gpu': '0000:02:00.0'})

    def test_killed_while_destroying_nvidia_vgpu17(self):
        self.crash_at_every_write_of_destroy('nvidia-l4-vgpu17', {'mode': 'sriov', 'type': '1155'})

    def test_killed_while_destroying_passthrough(self):
        self.crash_at_every_write_of_destroy('nvidia-vgpu-desktop',
                                             {'mode': 'passthrough', 'gpu': '0000:01:00.0'})

    def test_a_stuck_undo_at_start_does_not_keep_clients_waiting(self):
        sim = self.simulate('intel-gvt-laptop')
        before = sim.snapshot()
        first = self.start_daemon(sim)
        sim.kill_at(1, pid=first.process.pid, after=True)  # the mdev is made, not marked
        try:
            self.call(first, 'Create', {'mode': 'mdev'})
        except (OSError, AttributeError, TypeError):
            pass
        wait_for(lambda: not first.running(), what='the daemon to die')
        # The next daemon's undo (the mdev's remove) hangs in the "kernel".
        sim.hang('sys/bus/mdev/devices/*/remove')
        began = time.monotonic()
        second = self.start_daemon(sim, config='limits:\n  sysfs-write-timeout: 300ms\n')
        self.assertLess(time.monotonic() - began, 5)
        self.assertIn('is stuck in the kernel; serving clients meanwhile', second.output())
        # clients are served meanwhile
        self.assertIn('partitions', self.call(second, 'List')['parameters'])
        self.assertIn('gpus', call_once(second.socket, 'io.libvfio.Host.ListGPUs')['parameters'])
        sim.unhang()
        wait_for(lambda: Simulator.diff(before, sim.snapshot()) == [],
                 what='the undo to finish once the write returns')
        second.stop()

    def test_finished_partition_is_adopted_and_destroyable(self):
        sim = self.simulate('intel-gvt-laptop')
        d = self.start_daemon(sim)
        before = sim.snapshot()
        p = self.create(d, mode='mdev')
        d.process.kill()  # no clean exit: the record is all the next daemon has
        d.process.wait()
        second = self.start_daemon(sim)
        listed = self.call(second, 'List')['parameters']['partitions']
        self.assertIn(p, listed)  # exactly as recorded
        self.call(second, 'Destroy', {'id': p['id']})
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])


if __name__ == '__main__':
    unittest_tap.main()
