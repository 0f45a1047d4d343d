#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Who may do what (README, "Who may call what"): real unprivileged uids against
the real daemon; polkit played by python3-dbusmock's polkitd template on a
private system bus (DBUS_SYSTEM_BUS_ADDRESS in the daemon's environment).
Users: root; 'daemon' (uid 1) owns VM v; 'bin' (uid 2) is in access.group
(bin); 'nobody' is anyone."""
import os
import subprocess
import sys
import unittest

sys.path.append('/usr/lib/python3/dist-packages')  # python3-dbusmock under another python

from libvfio_test import DaemonTestCase, vfioctl, Varlink  # noqa: E402
import unittest_tap  # noqa: E402

try:
    import dbusmock
    sys.executable = '/usr/bin/python3'  # the mock server runs where dbusmock is
except ImportError:
    dbusmock = None

OWNER, MEMBER, ANYONE = 'daemon', 'bin', 'nobody'
DEFINITION = 'name: v\nmemory: 64M\nowner: daemon\ngpu: []\n'


def as_user(user, socket, method, parameters=None):
    """One Varlink call made by `user`'s own process: its error name or None."""
    code = ('import json,socket,sys\n'
            's=socket.socket(socket.AF_UNIX);s.connect(sys.argv[1])\n'
            's.sendall(json.dumps({"method":sys.argv[2],"parameters":json.loads(sys.argv[3])})'
            '.encode()+b"\\0")\n'
            'b=b""\n'
            'while not b.endswith(b"\\0"):\n'
            '  d=s.recv(65536)\n'
            '  if not d: break\n'
            '  b+=d\n'
            'm=json.loads(b[:-1]);print(m.get("error") or "");print(m.get("parameters",{}).get("message",""))\n')
    r = subprocess.run(['/usr/bin/python3', '-c', code, socket, method,
                        __import__('json').dumps(parameters or {})],
                       user=user, capture_output=True, text=True, timeout=60)
    lines = (r.stdout + '\n\n').split('\n')
    return lines[0] or None, lines[1]


class Started:
    def start(self, extra='', env=None):
        os.makedirs(os.path.join(self.workdir, 'vms'), exist_ok=True)
        with open(os.path.join(self.workdir, 'vms', 'v.yaml'), 'w') as f:
            f.write(DEFINITION)
        config = (f'vms:\n  dir: {self.workdir}/vms\naccess:\n  group: bin\n' + extra)
        env = dict(env or {})
        env.setdefault('DBUS_SYSTEM_BUS_ADDRESS', f'unix:path={self.workdir}/no-bus')
        return self.daemon(config=config, env=env)


class AccessTest(Started, DaemonTestCase):

    def test_reads_for_everyone(self):
        d = self.start()
        for user in (OWNER, MEMBER, ANYONE):
            for method, params in (('io.libvfio.VMs.List', {}), ('io.libvfio.VMs.Get', {'name': 'v'}),
                                   ('io.libvfio.Host.ListGPUs', {}),
                                   ('io.libvfio.Partitions.List', {})):
                err, msg = as_user(user, d.socket, method, params)
                self.assertIsNone(err, f'{user} {method}: {msg}')

    def test_reads_for_the_group(self):
        d = self.start('  read: group\n')
        err, msg = as_user(ANYONE, d.socket, 'io.libvfio.Host.ListGPUs')
        self.assertEqual(err, 'io.libvfio.Manager.PermissionDenied')
        self.assertIn("group 'bin'", msg)
        self.assertIsNone(as_user(MEMBER, d.socket, 'io.libvfio.Host.ListGPUs')[0])
        self.assertIsNone(as_user(OWNER, d.socket, 'io.libvfio.VMs.Get', {'name': 'v'})[0])

    def test_control_without_polkit(self):
        d = self.start()
        # The owner and the group pass authorization (Pause of a VM that does not run
        # is then WrongState); anyone is refused with the sentence.
        for user in (OWNER, MEMBER):
            err, msg = as_user(user, d.socket, 'io.libvfio.VMs.Pause', {'name': 'v'})
            self.assertEqual(err, 'io.libvfio.VMs.WrongState', f'{user}: {msg}')
        err, msg = as_user(ANYONE, d.socket, 'io.libvfio.VMs.Pause', {'name': 'v'})
        self.assertEqual(err, 'io.libvfio.VMs.PermissionDenied')
        self.assertIn("Pause of VM 'v' needs you to be its owner, in group 'bin'", msg)
        self.assertIn('polkit cannot be reached', d.output())
        # Managing is root's (or polkit's), not the group's nor the owner's.
        for user in (OWNER, MEMBER, ANYONE):
            err, _ = as_user(user, d.socket, 'io.libvfio.VMs.Undefine', {'name': 'v'})
            self.assertEqual(err, 'io.libvfio.VMs.PermissionDenied')
            err, _ = as_user(user, d.socket, 'io.libvfio.Partitions.Destroy', {'id': 'x'})
            self.assertIn(err, ('io.libvfio.Partitions.PermissionDenied',
                                'org.varlink.service.InvalidParameter'))
        self.assertEqual(as_user('root', d.socket, 'io.libvfio.VMs.Pause', {'name': 'v'})[0],
                         'io.libvfio.VMs.WrongState')

    def test_vfioctl_says_what_to_do(self):
        d = self.start()
        r = vfioctl('--no-ask-password', 'pause', 'v', socket_path=d.socket, user=ANYONE)
        self.assertEqual(r.returncode, 1)
        self.assertIn('--ask-password', r.stderr)


@unittest.skipIf(dbusmock is None, 'python3-dbusmock is not installed')
class PolkitTest(Started, DaemonTestCase):
    @classmethod
    def setUpClass(cls):
        cls.bus = dbusmock.DBusTestCase
        cls.bus.start_system_bus()
        cls.address = os.environ['DBUS_SYSTEM_BUS_ADDRESS']
        cls.polkitd, cls.polkit = cls.bus.spawn_server_template('polkitd', {}, stdout=subprocess.DEVNULL)

    @classmethod
    def tearDownClass(cls):
        cls.polkitd.terminate()
        cls.polkitd.wait()
        cls.bus.tearDownClass()

    def setUp(self):
        super().setUp()
        self.polkit.SetAllowed(__import__('dbus').Array([], signature='s'))
        self.polkit.ClearCalls(interface_name='org.freedesktop.DBus.Mock')

    def start(self, extra='', env=None):
        return super().start(extra, env={'DBUS_SYSTEM_BUS_ADDRESS': self.address})

    def test_polkit_allows_and_denies(self):
        d = self.start()
        err, _ = as_user(ANYONE, d.socket, 'io.libvfio.VMs.Pause', {'name': 'v'})
        self.assertEqual(err, 'io.libvfio.VMs.PermissionDenied')
        self.polkit.SetAllowed(['io.libvfio.vm.control'])
        err, _ = as_user(ANYONE, d.socket, 'io.libvfio.VMs.Pause', {'name': 'v'})
        self.assertEqual(err, 'io.libvfio.VMs.WrongState')
        err, _ = as_user(MEMBER, d.socket, 'io.libvfio.VMs.Undefine', {'name': 'nope'})
        self.assertEqual(err, 'io.libvfio.VMs.PermissionDenied')
        self.polkit.SetAllowed(['io.libvfio.manage'])
        err, _ = as_user(MEMBER, d.socket, 'io.libvfio.VMs.Undefine', {'name': 'nope'})
        self.assertEqual(err, 'io.libvfio.VMs.NoSuchVM')
        self.assertDaemonServes(d)

    def test_interactive_flag_and_details_passed(self):
        d = self.start()
        as_user(ANYONE, d.socket, 'io.libvfio.VMs.Pause',
                {'name': 'v', 'allowInteractiveAuthentication': True})
        calls = [c for c in self.polkit.GetCalls(interface_name='org.freedesktop.DBus.Mock')
                 if c[1] == 'CheckAuthorization']
        self.assertEqual(len(calls), 1)
        subject, action, details, flags, _ = calls[0][2]
        self.assertEqual(subject[0], 'unix-process')
        self.assertEqual(set(subject[1]), {'pid', 'start-time', 'uid'})
        self.assertEqual(action, 'io.libvfio.vm.control')
        self.assertEqual(dict(details), {'vm': 'v', 'owner': 'daemon'})
        self.assertEqual(flags, 1)

    def test_caller_leaving_while_pending(self):
        d = self.start()
        for _ in range(20):
            v = Varlink(d.socket)
            v.send('io.libvfio.VMs.Undefine', {'name': 'v'})
            v.close()
        self.assertDaemonServes(d)


if __name__ == '__main__':
    unittest_tap.main()
