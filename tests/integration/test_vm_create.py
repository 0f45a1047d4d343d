#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""vfioctl create, show, edit and autostart against the real daemon and a real
QEMU (TCG): create's refusals change nothing; show prints the stored file;
autostart changes only its value; edit goes through $EDITOR and is checked;
and the whole create flow boots a small ISO built here (the lab's cached
Debian kernel and busybox, grub-mkrescue for UEFI), whose init reports the
block devices it sees on the serial console."""
import fcntl
import hashlib
import json
import os
import pty
import re
import select
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))

import unittest_tap  # noqa: E402
from libvfio_test import (VFIOCTL, Console, DaemonTestCase, Varlink, rfb_desktop,  # noqa: E402
                          vfioctl, wait_for)

VMS = 'io.libvfio.VMs.'
BUILD_DIR = os.path.dirname(os.path.dirname(os.path.abspath(VFIOCTL)))
GIB = 1 << 30

# The guest's init: load the drivers of the disk (virtio) and the CD-ROMs (AHCI), then
# say on the serial console what it sees and power off.
GUEST_INIT = r'''#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_pci virtio_blk ahci sr_mod; do modprobe $m; done
for i in 1 2 3 4 5 6 7 8 9 10; do
    [ -e /sys/block/vda ] && [ -e /sys/block/sr1 ] && break
    sleep 1
done
report() {
    echo LIBVFIO-GUEST-BEGIN
    for b in /sys/block/*; do
        echo "LIBVFIO-BLOCK ${b##*/} sectors=$(cat $b/size)"
    done
    echo LIBVFIO-GUEST-END
}
# On the serial console (COM1, which vfioctl console reaches), as an installer would
# ask: the report, then a question answered through the console.
report > /dev/ttyS0
echo 'LIBVFIO-GUEST-ASKS: type a line to power off' > /dev/ttyS0
read answer < /dev/ttyS0
echo "LIBVFIO-GUEST-READ $answer" > /dev/ttyS0
poweroff -f
'''

GRUB_CFG = '''set timeout=0
menuentry "libvfio test" {
    linux /boot/vmlinuz console=ttyS0 loglevel=3 panic=-1
    initrd /boot/initrd
}
'''


def lab_cache():
    """LAB_KVER, LAB_MODDIR... from tests/lab/cache.sh --print, or None."""
    result = subprocess.run(['bash', os.path.join(TOP, 'tests', 'lab', 'cache.sh'), '--print'],
                            capture_output=True, text=True, timeout=1200)
    if result.returncode != 0:
        return None
    lab = dict(shlex.split(line)[0].split('=', 1) for line in result.stdout.splitlines()
               if '=' in line)
    # cache.sh keeps busybox at CACHE/busybox/VERSION/busybox, next to the kernel's directory
    cache = os.path.dirname(os.path.dirname(lab['LAB_KERNEL']))
    found = sorted(os.path.join(dp, 'busybox') for dp, _, files in
                   os.walk(os.path.join(cache, 'busybox')) if 'busybox' in files)
    if not found:
        return None
    lab['LAB_BUSYBOX'] = found[-1]
    return lab


def module_closure(moddir, names):
    deps = {}
    with open(os.path.join(moddir, 'modules.dep')) as f:
        for line in f:
            path, _, rest = line.partition(':')
            name = os.path.basename(path).split('.ko')[0].replace('-', '_')
            deps[name] = [path] + rest.split()
    files = set()
    for n in names:
        files.update(deps[n])
    return sorted(files)


def build_test_isos():
    """The installer ISO (UEFI-bootable: grub, the lab's kernel, an initramfs with the
    init above) and a small second ISO, cached in the build directory by their inputs."""
    for tool in ('grub-mkrescue', 'xorriso', 'mformat'):
        if not shutil.which(tool):
            raise unittest.SkipTest(f'{tool} is missing (tests/setup.sh test installs it)')
    lab = lab_cache()
    if not lab:
        raise unittest.SkipTest('the lab cache cannot be built (tests/lab/cache.sh)')
    cache = os.path.join(BUILD_DIR, 'test-vm-create')
    os.makedirs(cache, exist_ok=True)
    kver, moddir = lab['LAB_KVER'], lab['LAB_MODDIR']
    key = hashlib.sha256((GUEST_INIT + GRUB_CFG).encode()).hexdigest()[:12]
    installer = os.path.join(cache, f'installer-{kver}-{key}.iso')
    second = os.path.join(cache, 'second.iso')
    with open(os.path.join(cache, '.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(second):
            with tempfile.TemporaryDirectory(dir=cache) as tmp:
                with open(os.path.join(tmp, 'README.TXT'), 'w') as f:
                    f.write('the drivers disc\n')
                subprocess.run(['xorriso', '-as', 'mkisofs', '-quiet', '-V', 'DRIVERS',
                                '-o', second + '.new', tmp], check=True,
                               capture_output=True)
                os.rename(second + '.new', second)
        if not os.path.exists(installer):
            with tempfile.TemporaryDirectory(dir=cache) as tmp:
                root = os.path.join(tmp, 'initramfs')
                busybox = lab['LAB_BUSYBOX']
                for d in ('bin', 'dev', 'proc', 'sys', f'lib/modules/{kver}'):
                    os.makedirs(os.path.join(root, d))
                shutil.copy(busybox, os.path.join(root, 'bin', 'busybox'))
                with open(os.path.join(root, 'init'), 'w') as f:
                    f.write(GUEST_INIT)
                os.chmod(os.path.join(root, 'init'), 0o755)
                for m in module_closure(moddir, ['virtio_pci', 'virtio_blk', 'ahci',
                                                 'sr_mod']):
                    target = os.path.join(root, 'lib', 'modules', kver, m)
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    shutil.copy(os.path.join(moddir, m), target)
                for f in ('modules.builtin', 'modules.order'):
                    shutil.copy(os.path.join(moddir, f),
                                os.path.join(root, 'lib', 'modules', kver, f))
                subprocess.run([busybox, 'depmod', '-b', root, kver], check=True)
                iso_root = os.path.join(tmp, 'iso')
                os.makedirs(os.path.join(iso_root, 'boot', 'grub'))
                listing = subprocess.run(['find', '.'], cwd=root, check=True,
                                         capture_output=True).stdout
                with open(os.path.join(iso_root, 'boot', 'initrd'), 'wb') as f:
                    subprocess.run([busybox, 'cpio', '-o', '-H', 'newc'], cwd=root,
                                   input=listing, stdout=f, stderr=subprocess.DEVNULL,
                                   check=True)
                kroot = os.path.dirname(os.path.dirname(os.path.dirname(moddir)))
                shutil.copy(os.path.join(kroot, 'boot', f'vmlinuz-{kver}'),
                            os.path.join(iso_root, 'boot', 'vmlinuz'))
                with open(os.path.join(iso_root, 'boot', 'grub', 'grub.cfg'), 'w') as f:
                    f.write(GRUB_CFG)
                subprocess.run(['grub-mkrescue', '-o', installer + '.new', iso_root],
                               check=True, capture_output=True)
                os.rename(installer + '.new', installer)
    return installer, second


class CreateTestCase(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.vm_dir = os.path.join(self.workdir, 'vms')
        # The user's own place, on the disk as a home is: room for a 64 GiB sparse disk
        # (the daemon's files stay in the workdir, on a tmpfs as /run is).
        self.home = tempfile.mkdtemp(prefix='libvfio-home-')
        os.chmod(self.home, 0o755)
        self.addCleanup(shutil.rmtree, self.home, ignore_errors=True)
        self.config = (f'vms:\n  dir: {self.vm_dir}\n  qemu-user: nobody\n  accel: tcg\n'
                       '  stop-timeout: 5s\n')
        self.qemu_pids = set()
        self.iso = os.path.join(self.home, 'installer.iso')
        with open(self.iso, 'wb') as f:
            f.write(b'\0' * 65536)
        self.env = {'HOME': self.home, 'XDG_DATA_HOME': os.path.join(self.home, 'data')}

    def tearDown(self):
        for pid in self.qemu_pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        super().tearDown()

    def start_daemon(self):
        self.d = self.daemon(config=self.config)
        return self.d

    def vfioctl(self, *args, cwd=None, **kwargs):
        kwargs.setdefault('env', self.env)
        previous = os.getcwd()
        os.chdir(cwd or previous)
        try:
            return vfioctl('--socket', self.d.socket, *args, **kwargs)
        finally:
            os.chdir(previous)

    def call(self, method, parameters):
        with Varlink(self.d.socket, timeout=60) as v:
            return v.call(VMS + method, parameters)

    def stored(self, name):
        with open(os.path.join(self.vm_dir, name + '.yaml')) as f:
            return f.read()

    def assertRefused(self, result, *words):
        self.assertEqual(result.returncode, 1, result)
        for w in words:
            self.assertIn(w, result.stderr)


class TestCreateRefusals(CreateTestCase):
    def assertNothingMade(self, name='w'):
        self.assertFalse(os.path.exists(os.path.join(self.vm_dir, name + '.yaml')))
        self.assertFalse(os.path.exists(os.path.join(self.home, 'data', 'libvfio')))

    def test_missing_iso(self):
        self.start_daemon()
        r = self.vfioctl('create', 'w', '--iso', os.path.join(self.home, 'nope.iso'))
        self.assertRefused(r, 'nope.iso', 'no such file')
        self.assertNothingMade()
        r = self.vfioctl('create', 'w')
        self.assertEqual(r.returncode, 2, r)
        self.assertIn('--iso PATH', r.stderr)

    def test_iso_not_a_file(self):
        self.start_daemon()
        r = self.vfioctl('create', 'w', '--iso', self.home)
        self.assertRefused(r, 'not a file')
        self.assertNothingMade()

    def test_unreadable_iso_as_another_user(self):
        """As nobody: a root-only ISO is refused (libvfiod would read it as root)."""
        self.start_daemon()
        os.chmod(self.iso, 0o600)
        home = os.path.join(self.home, 'nobody')
        os.mkdir(home)
        os.chown(home, 65534, 65534)
        r = vfioctl('--socket', self.d.socket, 'create', 'w', '--iso', self.iso,
                    user='nobody', env={'HOME': home, 'XDG_DATA_HOME': ''})
        self.assertRefused(r, 'installer.iso', 'you may not read it')
        self.assertEqual(os.listdir(home), [])
        self.assertNothingMade()

    def test_name_in_use(self):
        self.start_daemon()
        self.call('Define', {'definition': 'name: w\nmemory: 64M\n'})
        before = self.stored('w')
        r = self.vfioctl('create', 'w', '--iso', self.iso)
        self.assertRefused(r, "A VM named 'w' exists already")
        self.assertEqual(self.stored('w'), before)
        self.assertFalse(os.path.exists(os.path.join(self.home, 'data', 'libvfio')))

    def test_disk_exists(self):
        self.start_daemon()
        disk = os.path.join(self.home, 'w.qcow2')
        with open(disk, 'w') as f:
            f.write('mine')
        r = self.vfioctl('create', 'w', '--iso', self.iso, '--disk', disk)
        self.assertRefused(r, disk, 'already there')
        with open(disk) as f:
            self.assertEqual(f.read(), 'mine')
        # a dangling link is there too: never written through
        os.symlink(os.path.join(self.home, 'target'), os.path.join(self.home, 'l.qcow2'))
        r = self.vfioctl('create', 'w', '--iso', self.iso, '--disk',
                         os.path.join(self.home, 'l.qcow2'))
        self.assertRefused(r, 'already there')
        self.assertFalse(os.path.exists(os.path.join(self.home, 'target')))
        self.assertNothingMade()

    def test_no_space(self):
        self.start_daemon()
        free = os.statvfs(self.home)
        too_big = free.f_bavail * free.f_frsize + GIB
        r = self.vfioctl('create', 'w', '--iso', self.iso, '--disk-size', str(too_big))
        self.assertRefused(r, 'Not enough space', '--disk-size')
        self.assertNothingMade()

    def test_no_qemu_img(self):
        self.start_daemon()
        r = self.vfioctl('create', 'w', '--iso', self.iso,
                         env=dict(self.env, PATH=self.home))
        self.assertRefused(r, 'apt install qemu-utils')
        self.assertNothingMade()

    def test_bad_options(self):
        self.start_daemon()
        for args, words in ((['--os', 'dos'], 'windows11, windows10 or linux'),
                            (['--memory', '1G5'], '--memory'),
                            (['--cpus', '0'], '--cpus'),
                            (['--disk-size', 'big'], '--disk-size'),
                            (['--gpu', 'zz:00.0'], 'zz:00.0')):
            r = self.vfioctl('create', 'w', '--iso', self.iso, *args)
            self.assertEqual(r.returncode, 2, r)
            self.assertIn(words, r.stderr)
        self.assertNothingMade()

    def test_isos_a_definition_cannot_take(self):
        self.start_daemon()
        r = self.vfioctl('create', 'w', '--iso', self.iso, '--drivers-iso', self.iso)
        self.assertRefused(r, '--drivers-iso is the installer itself')
        odd = os.path.join(os.fsencode(self.home), b'odd\xff.iso')
        with open(odd, 'wb') as f:
            f.write(b'\0' * 2048)
        p = subprocess.run([VFIOCTL, '--socket', self.d.socket, 'create', 'w', '--iso', odd],
                           capture_output=True, env=dict(os.environ, **self.env))
        self.assertEqual(p.returncode, 1, p)
        self.assertIn(b'the path is not UTF-8', p.stderr)
        self.assertNothingMade()

    def test_define_refused_removes_the_disk(self):
        """A user without define rights: the disk made for it goes again."""
        self.start_daemon()
        home = os.path.join(self.home, 'nobody')
        os.mkdir(home)
        os.chown(home, 65534, 65534)
        os.chmod(self.iso, 0o644)
        r = vfioctl('--socket', self.d.socket, '--no-ask-password', 'create', 'w', '--iso',
                    self.iso, '--os', 'linux', '--disk-size', '16M', '--no-start',
                    user='nobody', env={'HOME': home, 'XDG_DATA_HOME': ''})
        self.assertRefused(r, 'removed')
        disks = os.path.join(home, '.local', 'share', 'libvfio', 'disks')
        self.assertEqual(os.listdir(disks), [])
        self.assertEqual(stat.S_IMODE(os.stat(disks).st_mode), 0o700)
        self.assertEqual(os.stat(disks).st_uid, 65534)


class TestCreateShowEditAutostart(CreateTestCase):
    def test_create_no_start_show(self):
        self.start_daemon()
        # root's default is /var/lib/libvfio/disks: the test's disk goes in its directory
        disk = os.path.join(self.home, 'w.qcow2')
        r = self.vfioctl('create', 'w', '--iso', self.iso, '--no-start', '--disk', 'w.qcow2',
                         cwd=self.home)
        self.assertEqual(r.returncode, 0, r)
        self.assertIn(disk, r.stdout)
        self.assertEqual(stat.S_IMODE(os.stat(disk).st_mode), 0o600)
        info = json.loads(subprocess.run(['qemu-img', 'info', '--output=json', disk],
                                         capture_output=True, check=True).stdout)
        self.assertEqual((info['format'], info['virtual-size']), ('qcow2', 64 * GIB))
        text = self.stored('w')
        for line in ('secure-boot: true', 'tpm: true', 'bus: sata', f'cdrom: "{self.iso}"',
                     'windows: {hyperv: true}', 'model: e1000e'):
            self.assertIn(line, text)
        self.assertNotIn('owner:', text)  # root made it
        # show prints the stored file, byte for byte
        shown = self.vfioctl('show', 'w')
        self.assertEqual(shown.returncode, 0, shown)
        self.assertEqual(shown.stdout, text)
        self.assertEqual(json.loads(self.vfioctl('--json', 'show', 'w').stdout),
                         {'definition': text})
        status = self.call('Get', {'name': 'w'})['parameters']['vm']
        self.assertEqual(status['state'], 'defined')
        r = self.vfioctl('show', 'nope')
        self.assertRefused(r, "'nope'")

    def test_create_windows11_starts(self):
        """The Windows 11 template runs in a real QEMU: OVMF with secure boot, swtpm,
        the SATA disk and the installer, e1000e, Hyper-V flags."""
        self.start_daemon()
        disk = os.path.join(self.home, 'w.qcow2')
        r = self.vfioctl('create', 'w', '--iso', self.iso, '--disk', disk, '--memory', '256M',
                         timeout=120)
        vm = self.call('Get', {'name': 'w'})['parameters']['vm']
        if vm.get('pid'):
            self.qemu_pids.add(vm['pid'])
        self.assertEqual(r.returncode, 0, r.stderr + self.d.output())
        self.assertIn('w is running', r.stdout)
        self.assertIn('vfioctl view w', r.stdout)
        self.assertEqual(vm['state'], 'running')
        with open(f'/proc/{vm["pid"]}/cmdline') as f:
            argv = f.read().split('\0')
        self.assertTrue(any('e1000e' in a for a in argv), argv)
        self.assertTrue(any(a.startswith('tpm-') for a in argv), argv)
        self.call('Stop', {'name': 'w', 'force': True})

    def test_create_json_with_drivers_and_gpu(self):
        self.start_daemon()
        drivers = os.path.join(self.home, 'virtio-win.iso')
        shutil.copy(self.iso, drivers)
        disk = os.path.join(self.home, 'j.qcow2')
        r = self.vfioctl('--json', 'create', 'j', '--iso', self.iso, '--drivers-iso', drivers,
                         '--os', 'windows10', '--gpu', '01:00.0', '--memory', '6G', '--cpus', '3',
                         '--disk-size', '16M', '--disk', disk, '--no-start')
        self.assertEqual(r.returncode, 0, r)
        out = json.loads(r.stdout)
        self.assertEqual((out['vm']['name'], out['vm']['state'], out['disk']),
                         ('j', 'defined', disk))
        text = self.stored('j')
        self.assertTrue(text.startswith(out['definition']))  # libvfiod added the uuid
        for line in (f'cdrom: ["{self.iso}", "{drivers}"]', 'bus: virtio',
                     'model: virtio-net-pci', 'address: "0000:01:00.0"', 'memory: 6144M',
                     'cpus: 3', 'secure-boot: true'):
            self.assertIn(line, text)
        self.assertNotIn('tpm:', text)

    def test_show_refused_to_others(self):
        self.start_daemon()
        self.call('Define', {'definition': 'name: theirs\nmemory: 64M\nowner: daemon\n'})
        r = vfioctl('--socket', self.d.socket, '--no-ask-password', 'show', 'theirs',
                    user='nobody')
        self.assertRefused(r, 'owner')
        r = vfioctl('--socket', self.d.socket, 'show', 'theirs', user='daemon')
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(r.stdout, self.stored('theirs'))

    def test_autostart_keeps_the_rest(self):
        self.start_daemon()
        self.call('Define', {'definition': '# mine\nname: a   # the name\nmemory: 64M\n'
                                           'autostart: false  # later\nnetwork: none\n'})
        before = self.stored('a')
        r = self.vfioctl('autostart', 'a', 'on')
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(self.stored('a'), before.replace('autostart: false  #',
                                                          'autostart: true  #'))
        self.assertTrue(self.call('Get', {'name': 'a'})['parameters']['vm']['autostart'])
        listing = self.vfioctl('list')
        self.assertRegex(listing.stdout, r'\na\s.*yes')
        r = self.vfioctl('autostart', 'a', 'off')
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(self.stored('a'), before)
        self.assertFalse(self.call('Get', {'name': 'a'})['parameters']['vm']['autostart'])
        # absent: added at the end
        self.call('Define', {'definition': 'name: b\nmemory: 64M\n'})
        before = self.stored('b')
        self.assertEqual(self.vfioctl('autostart', 'b', 'on').returncode, 0)
        self.assertEqual(self.stored('b'), before + 'autostart: true\n')
        # refusals
        self.assertEqual(self.vfioctl('autostart', 'b', 'maybe').returncode, 2)
        self.assertEqual(self.vfioctl('autostart', 'b').returncode, 2)
        self.assertRefused(self.vfioctl('autostart', 'nope', 'on'), "'nope'")
        r = vfioctl('--socket', self.d.socket, '--no-ask-password', 'autostart', 'b', 'off',
                    user='nobody')
        self.assertRefused(r)
        self.assertEqual(self.stored('b'), before + 'autostart: true\n')

    def editor(self, body, name='editor.sh'):
        path = os.path.join(self.home, name)
        with open(path, 'w') as f:
            f.write('#!/bin/sh\n' + body)
        os.chmod(path, 0o755)
        return path

    def test_edit(self):
        self.start_daemon()
        self.call('Define', {'definition': '# keep me\nname: e\nmemory: 64M\nnetwork: none\n'})
        before = self.stored('e')
        # unchanged
        r = self.vfioctl('edit', 'e', env=dict(self.env, EDITOR='true', VISUAL=''))
        self.assertEqual(r.returncode, 0, r)
        self.assertIn('Nothing changed', r.stdout)
        # memory changed, through VISUAL with an argument (split, no shell)
        editor = self.editor('[ "$1" = --flag ] || exit 3\n'
                             'sed -i "s/^memory: 64M/memory: 128M/" "$2"\n')
        r = self.vfioctl('edit', 'e', env=dict(self.env, VISUAL=f'{editor} --flag'))
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(self.stored('e'), before.replace('64M', '128M'))
        # a bad key: the error with its line, nothing stored, no prompt without a terminal
        editor = self.editor('echo "memroy: 1G" >> "$1"\n')
        r = self.vfioctl('edit', 'e', env=dict(self.env, EDITOR=editor, VISUAL=''),
                         input='')
        self.assertRefused(r, 'e was not changed')
        self.assertRegex(r.stderr, r'/e\.yaml:\d+:1: memroy: unknown key')
        self.assertNotIn('Edit again', r.stderr)
        self.assertEqual(self.stored('e'), before.replace('64M', '128M'))
        # an editor that fails: nothing stored
        r = self.vfioctl('edit', 'e', env=dict(self.env, EDITOR='false', VISUAL=''))
        self.assertRefused(r, 'exited with status 1')
        # the copy was private and is gone
        leftovers = [f for f in os.listdir(tempfile.gettempdir())
                     if f.startswith('vfioctl-edit.')]
        self.assertEqual(leftovers, [])

    def test_edit_again_on_a_terminal(self):
        """On a terminal a mistake asks 'Edit again? [Y/n]': yes reopens the editor on the
        copy as it was left, and the fixed file is stored."""
        self.start_daemon()
        self.call('Define', {'definition': 'name: t\nmemory: 64M\n'})
        count = os.path.join(self.home, 'count')
        # Named vi: an editor known to take +LINE, which the second opening gets.
        editor = self.editor(f'echo "$@" >> {count}\n'
                             'for file; do :; done\n'
                             f'if [ "$(wc -l < {count})" = 1 ]; then\n'
                             '  echo "memroy: 1G" >> "$file"\n'
                             'else\n'
                             '  sed -i "s/^memroy: 1G/autostart: true/" "$file"\n'
                             'fi\n', name='vi')
        controller, terminal = pty.openpty()
        try:
            p = subprocess.Popen([VFIOCTL, '--socket', self.d.socket, '--no-ask-password',
                                  'edit', 't'], stdin=terminal, stdout=subprocess.PIPE,
                                 stderr=terminal, env=dict(os.environ, EDITOR=editor,
                                                           VISUAL=''))
            os.close(terminal)
            terminal = None
            seen = b''
            while b'Edit again? [Y/n]' not in seen:
                ready, _, _ = select.select([controller], [], [], 30)
                self.assertTrue(ready, seen)
                seen += os.read(controller, 4096)
            self.assertIn(b'memroy: unknown key', seen)
            os.write(controller, b'\n')
            out, _ = p.communicate(timeout=30)
        finally:
            os.close(controller)
            if terminal is not None:
                os.close(terminal)
        self.assertEqual(p.returncode, 0, out)
        self.assertIn(b'Stored the new definition of t', out)
        with open(count) as f:
            first, second = f.read().splitlines()
        line = self.stored('t').splitlines().index('autostart: true') + 1
        self.assertEqual(second.split(), [f'+{line}', first])
        text = self.stored('t')
        self.assertIn('autostart: true', text)
        self.assertNotIn('memroy', text)

    def test_edit_private_copy(self):
        self.start_daemon()
        self.call('Define', {'definition': 'name: p\nmemory: 64M\n'})
        seen = os.path.join(self.home, 'seen')
        editor = self.editor(f'stat -c "%a %u" "$1" "$(dirname "$1")" > {seen}\n')
        r = self.vfioctl('edit', 'p', env=dict(self.env, EDITOR=editor, VISUAL=''))
        self.assertEqual(r.returncode, 0, r)
        with open(seen) as f:
            self.assertEqual(f.read().split('\n')[:2], ['600 0', '700 0'])


class TestCreateBoots(CreateTestCase):
    def test_create_boots_the_installer(self):
        """The new user's path: vfioctl create --os linux with an installer ISO and a
        second ISO starts the VM; its screen answers as a VNC desktop (vfioctl view); the
        guest boots the ISO (UEFI, grub) and says on its serial console (vfioctl
        console) that it sees the empty 1 GiB virtio disk and both CD-ROMs; what is
        typed into the console reaches it, and its power-off ends the VM cleanly."""
        installer, second = build_test_isos()
        self.start_daemon()
        disk = os.path.join(self.home, 't.qcow2')
        began = time.monotonic()
        r = self.vfioctl('create', 't', '--os', 'linux', '--iso', installer, '--drivers-iso',
                         second, '--disk-size', '1G', '--disk', disk, '--memory', '512M',
                         timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr + self.d.output())
        console = Console(self.d.socket, 't')
        self.addCleanup(console.close)
        vm = self.call('Get', {'name': 't'})['parameters']['vm']
        self.qemu_pids.add(vm['pid'])
        self.assertIn('vfioctl view t', r.stdout)
        self.assertIn('vfioctl console t', r.stdout)
        text = self.stored('t')
        self.assertIn(f'cdrom: ["{installer}", "{second}"]', text)
        self.assertIn('bus: virtio', text)

        # Its screen: the address view would open, a VNC desktop behind it.
        r = self.vfioctl('view', 't', '--print')
        self.assertEqual(r.returncode, 0, r)
        address = r.stdout.strip()
        self.assertTrue(address.startswith('vnc+unix://'), address)
        width, height, _ = rfb_desktop(address[len('vnc+unix://'):])
        self.assertGreater(width * height, 0)

        out = console.read_until('LIBVFIO-GUEST-ASKS', timeout=120).decode(errors='replace')
        if os.environ.get('LIBVFIO_TEST_VERBOSE'):
            sys.stderr.write(out)
        blocks = dict(re.findall(r'LIBVFIO-BLOCK (\w+) sectors=(\d+)', out))
        self.assertEqual(blocks.get('vda'), str(GIB // 512), out)
        self.assertEqual(blocks.get('sr0'), str(os.path.getsize(installer) // 512), out)
        self.assertEqual(blocks.get('sr1'), str(os.path.getsize(second) // 512), out)
        console.type('installed\n')
        console.read_until('LIBVFIO-GUEST-READ installed', timeout=60)
        # the guest powered off: the console ends with QEMU, and the VM is stopped
        status, _, err = console.finish(timeout=60)
        self.assertEqual(status, 0, err)
        wait_for(lambda: self.call('Get', {'name': 't'})['parameters']['vm']['state']
                 == 'stopped', timeout=30, what='the VM to stop')
        sys.stderr.write(f'# created, booted and answered in {time.monotonic() - began:.1f}s\n')

if __name__ == '__main__':
    unittest_tap.main()
