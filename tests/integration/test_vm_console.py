#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What a running VM offers its owner, with the real daemon, the real vfioctl
and a real qemu-system-x86_64 (TCG): its serial console (console.sock, `vfioctl
console`), its screen (vnc.sock, `vfioctl view`) with a USB tablet, and its
CD-ROMs in boot order. QEMU runs as `nobody`; the VMs' owner is `daemon`."""
import os
import pwd
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import unittest_tap  # noqa: E402
from libvfio_test import vfioctl, vfioctl_for_others, wait_for  # noqa: E402
from test_vm_lifecycle import VmTestCase  # noqa: E402

OWNER = 'daemon'
OTHER = 'bin'


def run_as(user, argv, **kwargs):
    """`argv` as `user` (its own group, no others), as a login would run it."""
    entry = pwd.getpwnam(user)
    return subprocess.run(argv, user=entry.pw_uid, group=entry.pw_gid, extra_groups=[],
                          capture_output=True, text=True, timeout=60, **kwargs)


class ConsoleTest(VmTestCase):
    def define_owned(self, d, name, extra=''):
        return self.define(d, name, f'owner: {OWNER}\n' + extra)

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
