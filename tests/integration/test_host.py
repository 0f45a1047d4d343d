#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""io.libvfio.Host on fixture hosts (tests/fixtures/make-fixtures.py) and on
this machine's real /sys: every method against a golden answer per fixture,
`vfioctl check` naming each broken host's problem and its fix, and a damaged
tree that gives warnings, never a crash or a hang.

LIBVFIO_UPDATE_GOLDEN=1 rewrites the golden files from what the daemon says;
review the diff before committing it."""
import json
import os
import select
import subprocess
import sys
import tempfile
import time
import unittest

import unittest_tap
from libvfio_test import DaemonTestCase, Varlink, vfioctl, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, '..', 'fixtures')
GOLDEN = os.path.join(FIXTURES, 'golden')
HOSTS = ['intel-gvt-laptop', 'nvidia-vgpu-desktop', 'amd-sriov', 'amd-v710-gim',
         'intel-xe-sriov', 'intel-xe-discrete', 'two-socket-server', 'iommu-off',
         'shared-group', 'damaged', 'alder-lake-i915', 'alder-lake-i915-sriov',
         'polaris-passthrough', 'polaris-vendor-reset', 'nvidia-l4-vgpu17',
         'nvidia-a100-mdev-vf', 'lab-kernel']
UPDATE = os.environ.get('LIBVFIO_UPDATE_GOLDEN') == '1'

_generated = None


def fixtures():
    """Generates every fixture host once per test run."""
    global _generated
    if _generated is None:
        _generated = tempfile.mkdtemp(prefix='libvfio-fixtures-')
        subprocess.run([sys.executable, os.path.join(FIXTURES, 'make-fixtures.py'),
                        _generated], check=True, stdout=subprocess.DEVNULL)
    return _generated


class FixtureTestCase(DaemonTestCase):
    def host_daemon(self, host):
        root = os.path.join(fixtures(), host)
        qemu = os.path.join(root, 'usr/bin/qemu-system-x86_64')
        config = f'qemu-binary: {qemu}\n' if os.path.exists(qemu) else \
            'qemu-binary: /nonexistent/qemu-system-x86_64\n'
        return self.daemon(config=config, args=['--sysfs-root', root])


class GoldenTest(FixtureTestCase):
    def answers(self, d, gpus):
        """The reply of every Host method, GetGPU for each GPU and each VF included."""
        out = {}
        with Varlink(d.socket) as v:
            for method in ('ListGPUs', 'ListIOMMUGroups', 'GetTopology', 'Check'):
                out[method] = v.call('io.libvfio.Host.' + method)
            for address in gpus:
                out['GetGPU ' + address] = v.call('io.libvfio.Host.GetGPU',
                                                  {'address': address})
        return out

    def check_golden(self, host):
        d = self.host_daemon(host)
        with Varlink(d.socket) as v:
            listed = v.call('io.libvfio.Host.ListGPUs')['parameters']['gpus']
        addresses = [g['address'] for g in listed]
        for g in listed:
            if g['sriov']:
                addresses += [vf['address'] for vf in g['sriov']['vfs']]
        # The fixture root is a new temporary directory each run.
        root = os.path.join(fixtures(), host)
        got = json.loads(json.dumps(self.answers(d, addresses)).replace(root, '@ROOT@'))
        path = os.path.join(GOLDEN, host + '.json')
        if UPDATE:
            os.makedirs(GOLDEN, exist_ok=True)
            with open(path, 'w') as f:
                json.dump(got, f, indent=1, sort_keys=False)
                f.write('\n')
        with open(path) as f:
            want = json.load(f)
        for key in sorted(set(want) | set(got)):
            self.assertEqual(got.get(key), want.get(key), f'{host}: {key} differs')
        self.assertTrue(d.running())
        return got


def make_golden_test(host):
    def test(self):
        self.check_golden(host)
    test.__doc__ = f'every Host method on {host} gives its golden answer'
    return test


for _host in HOSTS:
    setattr(GoldenTest, 'test_golden_' + _host.replace('-', '_'), make_golden_test(_host))


class MdevParentTest(FixtureTestCase):
    """Every member of sys/class/mdev_bus is shown, wherever its device is."""

    def test_parents_outside_pci_are_listed_with_their_types(self):
        d = self.host_daemon('lab-kernel')
        with Varlink(d.socket) as v:
            gpus = v.call('io.libvfio.Host.ListGPUs')['parameters']['gpus']
            one = v.call('io.libvfio.Host.GetGPU', {'address': 'mbochs'})['parameters']['gpu']
            missing = v.call('io.libvfio.Host.GetGPU', {'address': 'mbochsx'})
        by_address = {g['address']: g for g in gpus}
        for name, types in (('mbochs', ['mbochs-large', 'mbochs-medium', 'mbochs-small']),
                            ('mdpy', ['mdpy-hd', 'mdpy-vga', 'mdpy-xga']),
                            ('mtty', ['mtty-1', 'mtty-2'])):
            g = by_address[name]
            self.assertEqual(g['sysfsPath'], f'devices/virtual/{name}/{name}')
            self.assertIsNone(g['class'])
            self.assertEqual(sorted(t['id'] for t in g['mdevTypes']), types)
        self.assertEqual(one, by_address['mbochs'])
        small = next(t for t in one['mdevTypes'] if t['id'] == 'mbochs-small')
        self.assertEqual(small, {'id': 'mbochs-small', 'name': 'mbochs-small',
                                 'description': 'virtual display, 4 MB video memory',
                                 'deviceApi': 'vfio-pci', 'availableInstances': 64,
                                 'instances': []})
        modes = {m['mode']: m for m in one['modes']}
        self.assertTrue(modes['mdev']['available'])
        self.assertFalse(modes['passthrough']['available'])
        self.assertEqual(missing['error'], 'io.libvfio.Host.NoSuchGPU')
        self.assertIn('no mdev parent named mbochsx', missing['parameters']['message'])
        # the PCI display controllers are GPUs whatever their sub-class; NVMe is not one
        self.assertEqual(by_address['0000:02:00.0']['class'], '038000')  # virtio-gpu
        self.assertEqual(by_address['0000:01:00.0']['class'], '038000')  # bochs-display
        self.assertEqual(by_address['0000:00:05.0']['class'], '030000')  # the boot VGA
        self.assertNotIn('0000:04:00.0', by_address)                     # NVMe

        out = vfioctl('gpus', socket_path=d.socket).stdout
        self.assertIn('mbochs', out)
        self.assertIn('mdev parent (not PCI)', out)
        out = vfioctl('gpu', 'mtty', socket_path=d.socket).stdout
        self.assertIn('/sys/devices/virtual/mtty/mtty', out)
        self.assertIn('mtty-2', out)

    def test_configured_function_is_a_gpu(self):
        root = os.path.join(fixtures(), 'lab-kernel')
        d = self.daemon(config='gpus:\n  partitionable:\n    - 0000:04:00.0\n',
                        args=['--sysfs-root', root])
        with Varlink(d.socket) as v:
            nvme = v.call('io.libvfio.Host.GetGPU',
                          {'address': '04:00.0'})['parameters']['gpu']
        self.assertEqual(nvme['class'], '010802')
        modes = {m['mode']: m for m in nvme['modes']}
        self.assertEqual(modes['sriov']['capacity'], '0/4 VFs enabled')
        self.assertTrue(modes['passthrough']['available'])


class CheckCommandTest(FixtureTestCase):
    def check(self, host):
        """vfioctl check on `host`, as text and as JSON; the daemon stays, as self.checked."""
        d = self.checked = self.host_daemon(host)
        result = vfioctl('check', socket_path=d.socket)
        as_json = json.loads(vfioctl('--json', 'check', socket_path=d.socket).stdout)
        return result, as_json

    def find(self, checks, id):
        matches = [c for c in checks if c['id'] == id]
        self.assertEqual(len(matches), 1, id)
        return matches[0]

    def test_gvt_laptop_is_ready_for_mdev(self):
        result, out = self.check('intel-gvt-laptop')
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn('mdev', out['readyModes'])
        c = self.find(out['checks'], 'gpu-0000:00:02.0-mdev')
        self.assertEqual(c['status'], 'pass')
        self.assertIn('i915-GVTg_V5_4: 2 free', c['summary'])

    def test_iommu_off_names_the_kernel_option(self):
        result, out = self.check('iommu-off')
        self.assertEqual(result.returncode, 1)
        self.assertFalse(out['ready'])
        c = self.find(out['checks'], 'iommu')
        self.assertEqual(c['status'], 'fail')
        self.assertIn('intel_iommu=on', c['fix'])
        self.assertIn('intel_iommu=on', result.stdout)

    def test_shared_group_names_the_devices_that_share_it(self):
        result, out = self.check('shared-group')
        gpu = [c for c in out['checks'] if c['id'] == 'gpu-0000:0b:00.0-passthrough']
        self.assertTrue(gpu)
        self.assertEqual(gpu[0]['status'], 'skip')
        self.assertIn('0000:0c:00.3', gpu[0]['summary'])
        self.assertIn('0000:0c:00.3', result.stdout)

    def test_sriov_with_vfs_free(self):
        result, out = self.check('amd-sriov')
        self.assertIn('sriov', out['readyModes'])
        c = [c for c in out['checks'] if c['id'].endswith('-sriov') and c['gpu']][0]
        self.assertIn('VFs free', c['summary'])

    def test_nvidia_vgpu_types(self):
        result, out = self.check('nvidia-vgpu-desktop')
        c = [c for c in out['checks'] if c['id'].endswith('-mdev') and c['gpu'] and
             c['status'] == 'pass']
        self.assertTrue(c, out['checks'])
        self.assertIn('nvidia-', c[0]['summary'])

    def test_gvt_off_names_the_kernel_parameter(self):
        """The desktop's Intel iGPU has GVT-g switched off (i915.enable_gvt=N)."""
        result, out = self.check('nvidia-vgpu-desktop')
        c = self.find(out['checks'], 'gpu-0000:00:02.0-mdev')
        self.assertEqual(c['status'], 'warn')
        self.assertIn('GVT-g is off', c['summary'])
        self.assertIn('i915.enable_gvt=1', c['fix'])
        self.assertIn('i915.enable_gvt=1', result.stdout)

    def test_doctor_alder_lake_on_debian_i915(self):
        """The issue's example: SR-IOV, up to 7 VFs, after the out-of-tree i915 and its
        kernel words; GVT-g is not offered as a fix on Gen12."""
        result, out = self.check('alder-lake-i915')
        family = self.find(out['checks'], 'gpu-0000:00:02.0-family')
        self.assertIn('Intel Gen12', family['summary'])
        c = [c for c in out['checks'] if c['id'].startswith('gpu-0000:00:02.0-doctor-') and
             c['summary'].startswith('SR-IOV, up to 7 VFs')]
        self.assertEqual(len(c), 1, out['checks'])
        self.assertEqual(c[0]['status'], 'warn')
        for words in ('install i915-sriov-dkms', 'mokutil --import /var/lib/dkms/mok.pub',
                      'add i915.enable_guc=3 i915.max_vfs=7 to GRUB_CMDLINE_LINUX_DEFAULT',
                      'update-grub', 'reboot'):
            self.assertIn(words, c[0]['fix'])
        self.assertIn('has no xe driver', result.stdout)
        self.assertEqual(self.find(out['checks'], 'gpu-0000:00:02.0-mdev')['status'], 'skip')

        # gpu, from the same daemon (a second one on the same socket is refused)
        text = vfioctl('gpu', '00:02.0', socket_path=self.checked.socket).stdout
        self.assertIn('Hardware: Intel Gen12 graphics', text)
        self.assertIn('SR-IOV, up to 7 VFs, after: install i915-sriov-dkms', text)
        self.assertIn('passthrough: usable now', text)

    def test_doctor_polaris_without_vendor_reset(self):
        result, out = self.check('polaris-passthrough')
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn('passthrough', out['readyModes'])
        c = [c for c in out['checks'] if c['id'].startswith('gpu-0000:02:00.0-doctor-')]
        self.assertEqual(len(c), 1, out['checks'])
        self.assertEqual(c[0]['status'], 'warn')
        self.assertIn('vendor-reset is not loaded', c[0]['summary'])
        self.assertIn('/etc/modules-load.d/vendor-reset.conf', c[0]['fix'])
        self.assertIn('libvfio then sets reset_method to device_specific', c[0]['fix'])

    def test_no_kvm_names_the_firmware_setting(self):
        result, out = self.check('damaged')
        c = self.find(out['checks'], 'kvm')
        self.assertEqual(c['status'], 'fail')
        self.assertIn('There is no /dev/kvm', c['summary'])
        self.assertIn('Intel VT-x', c['fix'])
        self.assertEqual(result.returncode, 1)

    def test_sriov_without_vfs_is_offered_with_a_note(self):
        result, out = self.check('two-socket-server')
        c = self.find(out['checks'], 'gpu-0000:86:00.0-sriov')
        self.assertEqual(c['status'], 'pass')
        self.assertIn('0/31 VFs enabled', c['summary'])
        self.assertIn('no VFs are enabled yet', c['summary'])

    def test_damaged_tree_gives_warnings_not_a_crash(self):
        d = self.host_daemon('damaged')
        with Varlink(d.socket) as v:
            for method in ('ListGPUs', 'ListIOMMUGroups', 'GetTopology', 'Check'):
                reply = v.call('io.libvfio.Host.' + method)
                self.assertIn('parameters', reply, method)
            groups = v.call('io.libvfio.Host.ListIOMMUGroups')['parameters']['groups']
        warnings = [w for g in groups for dev in g['devices'] for w in dev['warnings']]
        self.assertTrue(d.running())
        for command in (['gpus'], ['topology'], ['check']):
            result = vfioctl(*command, socket_path=d.socket)
            self.assertIn(result.returncode, (0, 1), command)
            self.assertNotIn('Protocol error', result.stderr)
        self.assertDaemonServes(d)


class TopologyTextTest(FixtureTestCase):
    """vfioctl topology in text lists each GPU once, where the JSON puts it."""

    def test_each_gpu_printed_once(self):
        for host in HOSTS:
            with self.subTest(host):
                d = self.host_daemon(host)
                try:
                    with Varlink(d.socket) as v:
                        gpus = v.call('io.libvfio.Host.ListGPUs')['parameters']['gpus']
                    result = vfioctl('topology', socket_path=d.socket)
                finally:
                    d.stop()  # the next host's daemon takes the same socket
                self.assertEqual(result.returncode, 0, result.stderr)
                lines = [line.split() for line in result.stdout.splitlines()]
                # mdev parents outside PCI (mbochs...) belong to no NUMA node, and VFs that
                # are mdev parents are parts of their PF: not listed
                for gpu in (g for g in gpus
                            if not g.get('sysfsPath') and not g.get('physicalFunction')):
                    printed = [line for line in lines if line and line[0] == gpu['address']]
                    self.assertEqual(len(printed), 1, f'{gpu["address"]}:\n{result.stdout}')

    def test_one_node_machine_puts_gpus_without_affinity_on_its_node(self):
        # nvidia-vgpu-desktop: one node, both GPUs with numa_node -1
        d = self.host_daemon('nvidia-vgpu-desktop')
        with Varlink(d.socket) as v:
            gpus = v.call('io.libvfio.Host.ListGPUs')['parameters']['gpus']
        self.assertEqual([g['numaNode'] for g in gpus], [None, None])
        out = vfioctl('topology', socket_path=d.socket).stdout
        node = out.split('\n\n')[0]
        self.assertTrue(node.startswith('NUMA node 0'), out)
        gpu_lines = node.split('  GPUs:\n', 1)[1].splitlines()
        self.assertEqual([line.split()[0] for line in gpu_lines],
                         ['0000:00:02.0', '0000:01:00.0'], out)
        self.assertNotIn('GPUs on no NUMA node', out)


class KeptModelTest(FixtureTestCase):
    """The model is read once and kept, also below a sysfs root: a changed tree
    shows only after a refresh, read off the event loop."""

    def test_the_model_is_kept_until_refresh(self):
        root = tempfile.mkdtemp(prefix='libvfio-kept-')
        self.addCleanup(subprocess.run, ['rm', '-rf', root])
        subprocess.run(['cp', '-a', os.path.join(fixtures(), 'amd-sriov') + '/.', root],
                       check=True)
        d = self.daemon(args=['--sysfs-root', root, '--log-level', 'debug'])
        with Varlink(d.socket) as v:
            gpus = v.call('io.libvfio.Host.ListGPUs')['parameters']['gpus']
            gpu = gpus[0]['address']
            driver = os.path.join(root, 'sys/bus/pci/devices', gpu, 'driver')
            os.unlink(driver)  # unbound, behind the daemon's back
            kept = v.call('io.libvfio.Host.GetGPU', {'address': gpu})['parameters']['gpu']
            self.assertEqual(kept.get('driver'), gpus[0].get('driver'))
            fresh = v.call('io.libvfio.Host.GetGPU',
                           {'address': gpu, 'refresh': True})['parameters']['gpu']
            self.assertIsNone(fresh.get('driver'), fresh)
            # and kept from then on
            again = v.call('io.libvfio.Host.ListGPUs')['parameters']['gpus']
            self.assertIsNone(again[0].get('driver'), again[0])
        # one discovery at start, one for the refresh
        self.assertEqual(d.output().count('Host model rebuilt'), 2, d.output())

    def large_host(self):
        """The generated host of 64 GPUs with 31 VFs each (2,141 PCI functions)."""
        root = os.path.join(tempfile.mkdtemp(prefix='libvfio-large-'), 'large')
        self.addCleanup(subprocess.run, ['rm', '-rf', os.path.dirname(root)])
        subprocess.run([sys.executable, os.path.join(FIXTURES, 'make-fixtures.py'),
                        '--generate-large', root, '--gpus', '64', '--vfs', '31'],
                       check=True, stdout=subprocess.DEVNULL)
        return root

    @staticmethod
    def a_gpu(root):
        """A GPU of the generated host, found in its tree (not by a ListGPUs: the
        reply of one of 2,141 functions is 330 KB, slow to build on any loop)."""
        devices = os.path.join(root, 'sys/bus/pci/devices')
        for name in sorted(os.listdir(devices)):
            if os.path.exists(os.path.join(devices, name, 'sriov_totalvfs')):
                return name
        raise AssertionError('no SR-IOV GPU in the generated host')

    def test_refreshes_asked_during_a_rebuild_share_the_next(self):
        root = self.large_host()
        gpu = self.a_gpu(root)
        d = self.daemon(args=['--sysfs-root', root, '--log-level', 'debug'])
        wait_for(lambda: 'Host model rebuilt' in d.output(), what='the first model')
        before = d.output().count('Host model rebuilt')
        self.assertEqual(before, 1, d.output())
        connections = [Varlink(d.socket, timeout=60) for _ in range(6)]
        try:
            # six at once: the first starts a rebuild, the five sent while it runs
            # are answered by one more after it
            for v in connections:
                v.send('io.libvfio.Host.GetGPU', {'address': gpu, 'refresh': True})
            for v in connections:
                self.assertIn('parameters', v.receive())
        finally:
            for v in connections:
                v.close()
        rebuilds = d.output().count('Host model rebuilt') - before
        self.assertIn(rebuilds, (2, 3), d.output())

    def test_calls_are_answered_while_the_host_is_first_read(self):
        # The daemon listens at once; the first reading of 2,141 functions goes on in its
        # thread. A call that needs no host is answered meanwhile; one that needs it (a
        # GPU, a VM's start) waits for it off the loop and then gets the whole answer.
        root = self.large_host()
        gpu = self.a_gpu(root)
        vms = os.path.join(self.workdir, 'vms')
        os.mkdir(vms)
        d = self.daemon(config=f'vms:\n  dir: {vms}\n  qemu-user: nobody\n  accel: tcg\n',
                        args=['--sysfs-root', root, '--log-level', 'debug'], start=False)
        with open(os.path.join(vms, 'early.yaml'), 'w') as f:
            f.write('name: early\nmemory: 64M\ncpus: 1\nfirmware: bios\nnetwork: none\n')
        answered_first = False
        for attempt in range(4):
            d.start(wait=False)
            wait_for(lambda: os.path.exists(d.socket), what='the socket', timeout=30)
            with Varlink(d.socket, timeout=60) as host, Varlink(d.socket, timeout=60) as vms, \
                    Varlink(d.socket, timeout=60) as quick:
                host.send('io.libvfio.Host.GetGPU', {'address': gpu})
                vms.send('io.libvfio.VMs.Start', {'name': 'early'})
                self.assertEqual(quick.call('io.libvfio.VMs.List')['parameters']['vms'][0]
                                 ['name'], 'early')
                if 'Host model rebuilt' not in d.output():
                    answered_first = True
                self.assertEqual(host.receive()['parameters']['gpu']['address'], gpu)
                reply = vms.receive()
                self.assertIn('parameters', reply, reply)
            vfioctl('kill', 'early', socket_path=d.socket)
            waited = 'waits for the daemon\'s first reading of the host' in d.output()
            d.stop()
            if answered_first and waited:
                break
        self.assertTrue(answered_first, 'List waited for the first reading of the host')
        self.assertTrue(waited, 'no start came before the first reading of the host')

    def test_the_loop_answers_during_a_rebuild(self):
        root = self.large_host()
        gpu = self.a_gpu(root)
        d = self.daemon(args=['--sysfs-root', root])
        with Varlink(d.socket, timeout=60) as slow, Varlink(d.socket) as quick:
            for _ in range(3):
                # A rebuild of over 2,000 functions takes tens of milliseconds; a
                # GetInfo sent after it began is answered while it runs.
                slow.send('io.libvfio.Host.GetGPU', {'address': gpu, 'refresh': True})
                time.sleep(0.002)
                start = time.perf_counter()
                info = quick.call('org.varlink.service.GetInfo')
                quick_ms = (time.perf_counter() - start) * 1000
                self.assertIn('parameters', info)
                pending = select.select([slow.sock], [], [], 0)[0]
                reply = slow.receive()
                self.assertEqual(reply['parameters']['gpu']['address'], gpu)
                if not pending:
                    break
            self.assertFalse(pending, f'GetInfo waited for the rebuild ({quick_ms:.1f} ms)')


class RealHostTest(DaemonTestCase):
    """This machine's own /sys: whatever it has, every command answers."""

    @unittest.skipUnless(os.geteuid() == 0 and os.listdir('/sys/bus/pci/devices'),
                         'needs root and a PCI device to make the kernel send a uevent')
    def test_uevent_makes_the_model_stale(self):
        d = self.daemon(args=['--sysfs-root', '/', '--log-level', 'debug'])
        vfioctl('gpus', socket_path=d.socket)
        self.assertNotIn('after a device change', d.output())
        # Writing "change" to a device's uevent file makes the kernel announce it,
        # exactly as it announces a hot-plugged device or a new mdev. The model is
        # rebuilt in the background, without a caller asking.
        device = sorted(os.listdir('/sys/bus/pci/devices'))[0]
        with open(f'/sys/bus/pci/devices/{device}/uevent', 'w') as f:
            f.write('change')
        wait_for(lambda: 'A device changed' in d.output(), what='the uevent to arrive')
        wait_for(lambda: 'Host model rebuilt after a device change' in d.output(),
                 what='the rebuild in the background')
        self.assertEqual(vfioctl('gpus', socket_path=d.socket).returncode, 0)

    @unittest.skipUnless(os.geteuid() == 0 and os.listdir('/sys/bus/pci/devices'),
                         'needs root and a PCI device to make the kernel send a uevent')
    def test_a_burst_of_uevents_makes_one_rebuild(self):
        d = self.daemon(args=['--sysfs-root', '/', '--log-level', 'debug'])
        devices = sorted(os.listdir('/sys/bus/pci/devices'))
        # the model of the start is built first (a first answer waits for it)
        self.assertEqual(vfioctl('gpus', socket_path=d.socket).returncode, 0)
        before = d.output().count('Host model rebuilt')
        # 30 uevents, as fast as they can be written (31 VFs appearing look alike)
        fds = [os.open(f'/sys/bus/pci/devices/{devices[i % len(devices)]}/uevent', os.O_WRONLY)
               for i in range(30)]
        for fd in fds:
            os.write(fd, b'change')
        for fd in fds:
            os.close(fd)
        wait_for(lambda: 'Host model rebuilt after a device change' in d.output(),
                 what='the rebuild in the background')
        time.sleep(0.5)  # any rebuild still to come
        rebuilds = d.output().count('Host model rebuilt') - before
        # one, or two when the settling time ran out in the middle of the burst
        # (a loaded machine); never one per uevent
        self.assertIn(rebuilds, (1, 2), d.output())

    def test_commands_run_on_the_real_sys(self):
        d = self.daemon(args=['--sysfs-root', '/'])
        for command in (['gpus'], ['topology'], ['--json', 'gpus'], ['--json', 'topology']):
            result = vfioctl(*command, socket_path=d.socket)
            self.assertEqual(result.returncode, 0, (command, result.stderr))
        result = vfioctl('--json', 'check', socket_path=d.socket)
        out = json.loads(result.stdout)
        self.assertEqual(result.returncode, 0 if out['ready'] else 1)
        if not out['ready']:
            failed = [c for c in out['checks'] if c['status'] == 'fail']
            self.assertTrue(failed, 'not ready, but no check says why')
            self.assertTrue(all(c['fix'] for c in failed), failed)


if __name__ == '__main__':
    unittest_tap.main()
