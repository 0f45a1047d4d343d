#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What a running VM offers its owner, with the real daemon, the real vfioctl
and a real qemu-system-x86_64 (TCG): its serial console (console.sock, `vfioctl
console`), its screen (vnc.sock, `vfioctl view`) with a USB tablet, and its
CD-ROMs in boot order. QEMU runs as `nobody`; the VMs' owner is `daemon`."""
import os
import pty
import pwd
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import unittest_tap  # noqa: E402
from libvfio_test import Console, as_user, vfioctl, vfioctl_for_others, wait_for  # noqa: E402
from test_vm_lifecycle import VmTestCase  # noqa: E402

OWNER = 'daemon'
OTHER = 'bin'
LAB_CACHE = os.path.join(HERE, '..', 'lab', 'cache.sh')

# SeaBIOS writes its screen to the first serial port too when fw_cfg names the port
# (etc/sercon-port, 0x3f8 as two bytes), and boots again a second after it finds
# nothing to boot: a guest that prints on its serial port, again and again.
SEABIOS_ON_SERIAL = ('qemu-args: [-fw_cfg, "name=etc/sercon-port,file={port}",'
                     ' -boot, reboot-timeout=1000]\n')


# A stand-in for remote-viewer (no window can open here): says its arguments, then
# speaks RFB on the socket they name as a viewer does, and says what QEMU tells it of
# the pointer (QEMU's pointer-type-change pseudo-encoding, -257: x = 1 when the
# guest's pointer is absolute: the USB tablet, once a driver in the guest polls it).
# Exits 7, which view must pass on.
FAKE_VIEWER = r"""#!/usr/bin/python3
import socket, struct, sys
print('argv', ' '.join(sys.argv[1:]), flush=True)
target = sys.argv[-1]
path = target[len('vnc+unix://'):] if target.startswith('vnc+unix://') else target
s = socket.socket(socket.AF_UNIX)
s.settimeout(30)
s.connect(path)
def recv(n):
    data = b''
    while len(data) < n:
        more = s.recv(n - len(data))
        if not more:
            sys.exit('the server closed the connection')
        data += more
    return data
print('server', recv(12).decode().strip(), flush=True)
s.sendall(b'RFB 003.008\n')
types = recv(recv(1)[0])
s.sendall(b'\x01')  # security: none (the daemon hands QEMU the connection with skipauth)
assert struct.unpack('>I', recv(4))[0] == 0, 'security refused'
s.sendall(b'\x01')  # ClientInit: shared
width, height = struct.unpack('>HH', recv(4))
recv(16)
name = recv(struct.unpack('>I', recv(4))[0]).decode()
print('desktop', name, flush=True)
s.sendall(struct.pack('>BxHii', 2, 2, 0, -257))  # SetEncodings: raw, pointer type change
kind, count = struct.unpack('>BxH', recv(4))
x, y, w, h, encoding = struct.unpack('>HHHHi', recv(12))
assert (kind, count, encoding) == (0, 1, -257), (kind, count, encoding)
print('pointer', 'absolute' if x == 1 else 'relative', flush=True)
sys.exit(7)
"""


def newc_archive(directory, files):
    """A cpio archive (the kernel's newc format) of `directory` (0755) holding
    {name: bytes} (0644), for an initramfs: the kernel unpacks archives given one
    after the other, and makes no directory that is not in one."""
    entries = [(directory, 0o40755, b'')]
    entries += [(f'{directory}/{name}', 0o100644, data) for name, data in files.items()]
    out = b''
    for number, (name, mode, data) in enumerate([*entries, ('TRAILER!!!', 0, b'')]):
        encoded = name.encode() + b'\0'
        fields = (number + 1, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(encoded), 0)
        out += b'070701' + b''.join(b'%08x' % f for f in fields) + encoded
        out += b'\0' * (-len(out) % 4) + data
        out += b'\0' * (-len(out) % 4)
    return out


# What a guest needs to drive the USB tablet: the xHCI controller, HID, evdev.
TABLET_MODULES = ('usb-common', 'usbcore', 'xhci-hcd', 'xhci-pci', 'hid', 'usbhid',
                  'hid-generic', 'evdev')


class ConsoleTest(VmTestCase):
    def define_owned(self, d, name, extra=''):
        return self.define(d, name, f'owner: {OWNER}\n' + extra)

    def console(self, d, name, user=OWNER):
        c = Console(d.socket, name, user)
        self.addCleanup(c.close)
        return c

    def seabios_on_serial(self):
        port = os.path.join(self.workdir, 'sercon-port')
        with open(port, 'wb') as f:
            f.write(b'\xf8\x03')
        os.chmod(port, 0o644)
        return SEABIOS_ON_SERIAL.format(port=port)

    def test_console_shows_the_guests_serial_output_until_the_vm_stops(self):
        d = self.start_daemon()
        self.define_owned(d, 'bios', self.seabios_on_serial())
        self.start(d, 'bios')
        c = self.console(d, 'bios')
        c.read_until('SeaBIOS (version')
        c.read_until('No bootable device.')
        # The VM ends: the console closes, and says so.
        self.ok(d, 'Stop', {'name': 'bios', 'force': True})
        status, _, err = c.finish()
        self.assertEqual(status, 0, err)
        self.assertIn("Connected to bios's serial console", err)
        self.assertIn("bios's console was closed: the VM stopped", err)

    def test_the_console_survives_a_restart_of_the_daemon(self):
        """QEMU holds the console's listening socket: a daemon that exits (cleanly, or
        killed) leaves it, and the next one shows it again."""
        d = self.start_daemon()
        self.define_owned(d, 'kept', self.seabios_on_serial())
        _, vm = self.start(d, 'kept')
        console = self.ok(d, 'Get', {'name': 'kept'})['vm']['console']
        for how in (signal.SIGTERM, signal.SIGKILL):
            d.stop(how)
            self.assertTrue(os.path.exists(console))
            d = self.start_daemon()
            # shown again once the new daemon has QEMU's status, as its screen is
            got = wait_for(lambda: (lambda v: v if v.get('console') else None)(
                self.ok(d, 'Get', {'name': 'kept'})['vm']), what='the console to be shown')
            self.assertEqual((got['pid'], got['console']), (vm['pid'], console))
            c = self.console(d, 'kept')
            c.read_until('SeaBIOS (version')
            c.close()
        self.ok(d, 'Stop', {'name': 'kept', 'force': True})
        self.assertFalse(os.path.exists(console))

    def test_on_a_terminal_raw_mode_until_ctrl_bracket_or_a_signal(self):
        """On a terminal: raw while connected; Ctrl-] leaves, and SIGTERM too, and
        either way the terminal is as it was."""
        d = self.start_daemon()
        self.define_owned(d, 'tty', self.seabios_on_serial())
        self.start(d, 'tty')
        for leave, expected in ((b'\x1d', 0), (signal.SIGTERM, 128 + signal.SIGTERM)):
            master, slave = pty.openpty()
            before = termios.tcgetattr(slave)
            p = subprocess.Popen([vfioctl_for_others(), '--socket', d.socket, 'console', 'tty'],
                                 stdin=slave, stdout=slave, stderr=subprocess.PIPE,
                                 **as_user(OWNER))
            seen = b''
            while b'SeaBIOS (version' not in seen:
                ready, _, _ = select.select([master], [], [], 60)
                self.assertTrue(ready, seen)
                seen += os.read(master, 65536)
            self.assertEqual(termios.tcgetattr(slave)[3] & (termios.ICANON | termios.ECHO), 0)
            if leave == b'\x1d':
                os.write(master, b'typed' + leave)
            else:
                p.send_signal(leave)
            _, err = p.communicate(timeout=30)
            self.assertEqual(p.returncode, expected, err)
            self.assertEqual(termios.tcgetattr(slave), before)
            self.assertIn(b"Connected to tty's serial console. Leave with Ctrl-].", err)
            self.assertIn(b"Left tty's console", err)
            os.close(master)
            os.close(slave)
        self.ok(d, 'Stop', {'name': 'tty', 'force': True})

    def viewers(self, *programs):
        """A directory for PATH holding FAKE_VIEWER under each of `programs`."""
        directory = tempfile.mkdtemp(prefix='bin-', dir=self.workdir)
        os.chmod(directory, 0o755)
        for program in programs:
            with open(os.path.join(directory, program), 'w') as f:
                f.write(FAKE_VIEWER)
            os.chmod(os.path.join(directory, program), 0o755)
        return directory

    def view(self, d, name, *args, user=OWNER, path=None):
        env = dict(os.environ, PATH=path or self.viewers())
        env.pop('LIBVFIO_SOCKET', None)
        return subprocess.run([vfioctl_for_others(), '--socket', d.socket, 'view', name, *args],
                              capture_output=True, text=True, timeout=60, env=env,
                              stdin=subprocess.DEVNULL, **as_user(user))

    def test_view_opens_the_screen_for_the_owner(self):
        d = self.start_daemon()
        self.define_owned(d, 'screen')
        r = self.view(d, 'screen', '--print')
        self.assertEqual(r.returncode, 1)
        self.assertIn("screen is not running (it is defined)", r.stderr)
        self.start(d, 'screen')
        display = os.path.join(self.run_dir, 'vms', 'screen', 'vnc.sock')
        # --print: the address only
        r = self.view(d, 'screen', '--print')
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, f'vnc+unix://{display}\n', ''))
        # the first viewer installed, given the socket as it takes it; its status is view's
        r = self.view(d, 'screen', path=self.viewers('remote-viewer', 'xtigervncviewer'))
        self.assertEqual(r.returncode, 7, r.stderr)
        self.assertEqual(r.stdout.splitlines()[:3], [f'argv vnc+unix://{display}',
                                                     'server RFB 003.008', 'desktop QEMU (screen)'])
        r = self.view(d, 'screen', path=self.viewers('xtigervncviewer'))
        self.assertEqual(r.returncode, 7, r.stderr)
        self.assertEqual(r.stdout.splitlines()[:3],
                         [f'argv {display}', 'server RFB 003.008', 'desktop QEMU (screen)'])
        # none installed: how to connect
        r = self.view(d, 'screen')
        self.assertEqual(r.returncode, 1)
        self.assertIn('No VNC viewer is installed. Install virt-viewer (remote-viewer) or '
                      'tigervnc-viewer', r.stderr)
        self.assertIn(f'vnc+unix://{display}', r.stderr)
        # anyone else is refused before any viewer runs, root is not
        r = self.view(d, 'screen', path=self.viewers('remote-viewer'), user=OTHER)
        self.assertEqual((r.returncode, r.stdout), (1, ''))
        self.assertEqual(r.stderr.strip(),
                         "vfioctl: Only screen's owner (daemon) and root may use its screen.")
        r = self.view(d, 'screen', '--print', user='root')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.ok(d, 'Stop', {'name': 'screen', 'force': True})

    def test_view_with_looking_glass(self):
        d = self.start_daemon()
        self.define_owned(d, 'glass', 'looking-glass: 32M\n')
        self.start(d, 'glass')
        memory = '/dev/shm/looking-glass-glass'
        self.assertEqual(self.ok(d, 'Get', {'name': 'glass'})['vm']['lookingGlass'], memory)
        both = self.viewers('looking-glass-client', 'remote-viewer')
        r = self.view(d, 'glass', path=both)
        # the stand-in speaks RFB, which Looking Glass's memory is not: its argv is the point
        self.assertEqual(r.stdout.splitlines()[0], f'argv -f {memory} -s', r.stderr)
        r = self.view(d, 'glass', '--vnc', path=both)
        self.assertEqual(r.returncode, 7, r.stderr)
        self.assertEqual(r.stdout.splitlines()[2], 'desktop QEMU (glass)')
        # without the client: the VNC screen, and why
        r = self.view(d, 'glass', path=self.viewers('remote-viewer'))
        self.assertEqual(r.returncode, 7, r.stderr)
        self.assertIn('looking-glass-client is not installed', r.stderr)
        r = self.view(d, 'glass', path=both, user=OTHER)
        self.assertEqual((r.returncode, r.stdout), (1, ''))
        self.assertIn("Only glass's owner (daemon) and root may use its screen.", r.stderr)
        self.ok(d, 'Stop', {'name': 'glass', 'force': True})
        self.assertIsNone(self.ok(d, 'Get', {'name': 'glass'})['vm'].get('lookingGlass'))

    def linux_guest(self):
        """The lab's kernel and initramfs (tests/lab/cache.sh), copied where QEMU's user
        may read them (the cache's kernel is root's alone), the initramfs with the
        tablet's modules under /m added; skips the test without them."""
        cache = subprocess.run(['bash', LAB_CACHE, '--print'], capture_output=True, text=True)
        paths = dict(line.split('=', 1) for line in cache.stdout.splitlines() if '=' in line)
        kernel, initramfs = paths.get('LAB_KERNEL'), paths.get('LAB_INITRAMFS')
        modules = paths.get('LAB_MODDIR')
        if cache.returncode != 0 or not kernel or not os.path.exists(kernel):
            self.skipTest('no lab kernel (tests/lab/cache.sh prepares one)')
        k, i = os.path.join(self.workdir, 'vmlinux'), os.path.join(self.workdir, 'initramfs')
        shutil.copy(kernel, k)
        shutil.copy(initramfs, i)
        with open(os.path.join(modules, 'modules.dep')) as f:
            where = {os.path.basename(line.split(':')[0])[:-3]: line.split(':')[0]
                     for line in f}
        files = {}
        for m in TABLET_MODULES:
            with open(os.path.join(modules, where[m]), 'rb') as f:
                files[f'{m}.ko'] = f.read()
        with open(i, 'ab') as f:
            f.write(newc_archive('m', files))
        for path in (k, i):
            os.chmod(path, 0o644)
        return k, i

    def test_console_is_interactive_with_a_linux_guest(self):
        """A real kernel (the lab's) with a shell on ttyS0: what is typed into the
        console reaches the guest, and the guest's answer comes back. Once the guest
        drives the USB tablet, a viewer's pointer is absolute."""
        k, i = self.linux_guest()
        d = self.start_daemon()
        self.ok(d, 'Define', {'definition': (
            f'name: linux\nmemory: 256M\ncpus: 1\nfirmware: bios\nnetwork: none\n'
            f'owner: {OWNER}\n'
            f'qemu-args: [-kernel, {k}, -initrd, {i}, -append, '
            '"console=ttyS0 rdinit=/bin/sh quiet"]\n')})
        self.start(d, 'linux')
        c = self.console(d, 'linux')
        c.read_until('/ # ', timeout=120)
        c.type('echo $((6*7))-from-the-guest\n')
        c.read_until('42-from-the-guest')
        # The tablet: relative (PS/2) until the guest's usbhid reads it, then absolute.
        viewer = self.viewers('remote-viewer')
        self.assertEqual(self.view(d, 'linux', path=viewer).stdout.splitlines()[-1],
                         'pointer relative')
        c.type(f'for m in {" ".join(TABLET_MODULES)}; do insmod /m/$m.ko; done; '
               'mount -t devtmpfs dev /dev; sleep 3; '
               'for e in /dev/input/event*; do cat $e > /dev/null & done; '
               'sleep 1; echo tablet-$((1+1))-ready\n')
        c.read_until('tablet-2-ready', timeout=120)
        r = self.view(d, 'linux', path=viewer)
        self.assertEqual(r.stdout.splitlines()[-1], 'pointer absolute',
                         r.stdout + r.stderr + c.output.decode(errors='replace'))
        # The end of the input: the rest of the output, then it leaves on its own.
        status, output, err = c.finish()
        self.assertEqual(status, 0, err)
        self.assertIn('echo $((6*7))-from-the-guest', output)  # the guest's tty echoed it
        self.assertIn('then showing the output until it is quiet', err)
        self.ok(d, 'Stop', {'name': 'linux', 'force': True})

    def test_console_for_the_owner_and_root_only(self):
        d = self.start_daemon()
        self.define_owned(d, 'mine', self.seabios_on_serial())
        r = vfioctl('console', 'mine', socket_path=d.socket, user=OTHER)
        self.assertEqual(r.returncode, 1)
        self.assertIn("mine is not running (it is defined): start it with 'vfioctl start mine'",
                      r.stderr)
        self.start(d, 'mine')
        r = subprocess.run([vfioctl_for_others(), '--socket', d.socket, 'console', 'mine'],
                           capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                           **as_user(OTHER))
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.strip(),
                         'vfioctl: Only mine\'s owner (daemon) and root may use its console.')
        # root may
        c = self.console(d, 'mine', user='root')
        c.read_until('SeaBIOS (version')
        c.close()
        # a VM without an owner: root's alone
        self.define(d, 'roots')
        self.start(d, 'roots')
        r = subprocess.run([vfioctl_for_others(), '--socket', d.socket, 'console', 'roots'],
                           capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                           **as_user(OWNER))
        self.assertEqual(r.returncode, 1)
        self.assertIn("Only root may use roots's console: it has no owner", r.stderr)
        for name in ('mine', 'roots'):
            self.ok(d, 'Stop', {'name': name, 'force': True})

    def test_the_cdroms_boot_in_the_order_boot_says(self):
        """Two CD-ROMs and a disk; SeaBIOS says on the console what it tries, in order."""
        files = []
        for name in ('installer.iso', 'drivers.iso', 'disk.img'):
            files.append(os.path.join(self.workdir, name))
            with open(files[-1], 'wb') as f:
                f.truncate(1 << 20)
        d = self.start_daemon()
        for boot, first in (('cdrom', 'Booting from DVD/CD'), ('disk', 'Booting from Hard Disk')):
            self.define_owned(d, 'order', self.seabios_on_serial()
                              + f'boot: {boot}\ncdrom: [{files[0]}, {files[1]}]\n'
                              + f'disks: [{{path: {files[2]}, bus: sata}}]\n')
            _, vm = self.start(d, 'order')
            held = {os.readlink(f'/proc/{vm["pid"]}/fd/{fd}')
                    for fd in os.listdir(f'/proc/{vm["pid"]}/fd')}
            self.assertLessEqual(set(files), held)
            c = self.console(d, 'order')
            # one whole boot, from its banner to the end of its attempts
            boot_text = None
            while not boot_text:
                c.read_until('No bootable device.')
                boots = c.output.decode(errors='replace').split('SeaBIOS (version')[1:]
                boot_text = next((b for b in boots if 'No bootable device.' in b), None)
                if not boot_text:
                    c.output = b''  # it connected in the middle of a boot: the next one
            attempts = [line.strip() for line in boot_text.splitlines()
                        if line.startswith('Booting from')]
            text = boot_text
            self.assertEqual(attempts[0], first + '...', text)
            self.assertEqual(attempts.count('Booting from DVD/CD...'), 2, text)
            c.close()
            self.ok(d, 'Stop', {'name': 'order', 'force': True})

    def test_the_console_socket_is_the_owners_while_the_vm_runs(self):
        d = self.start_daemon()
        self.define_owned(d, 'serial')
        _, vm = self.start(d, 'serial')
        run = os.path.join(self.run_dir, 'vms', 'serial')
        console, display = (os.path.join(run, n) for n in ('console.sock', 'vnc.sock'))
        got = self.ok(d, 'Get', {'name': 'serial'})['vm']
        self.assertEqual((got['console'], got['display']), (console, display))
        self.assertIsNone(got.get('lookingGlass'))
        uid = pwd.getpwnam(OWNER).pw_uid
        for path in (console, display):
            st = os.lstat(path)
            self.assertEqual((st.st_uid, oct(st.st_mode)), (uid, oct(0o140600)), path)
        # QEMU listens on it: the first serial port's chardev, inherited, not a path
        with open(f'/proc/{vm["pid"]}/cmdline') as f:
            argv = f.read().split('\0')
        self.assertIn('chardev:console', argv)
        self.assertTrue(any(a.startswith('socket,id=console,fd=') for a in argv), argv)
        status = vfioctl('status', 'serial', socket_path=d.socket)
        self.assertIn(f'Console:    {console}', status.stdout)
        self.ok(d, 'Stop', {'name': 'serial', 'force': True})
        self.assertFalse(os.path.exists(console))
        self.assertIsNone(self.ok(d, 'Get', {'name': 'serial'})['vm'].get('console'))


if __name__ == '__main__':
    unittest_tap.main()
