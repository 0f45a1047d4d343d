#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Who may do what (README, "Who may call what"): real unprivileged uids against
the real daemon; polkit played by python3-dbusmock's polkitd template on a
private system bus (DBUS_SYSTEM_BUS_ADDRESS in the daemon's environment), and
by Debian's real polkitd with our io.libvfio.policy and rules written by the test,
on a real dbus-daemon of the test's own, in a mount namespace of its own.
Users: root; 'daemon' (uid 1) owns VM v; 'bin' (uid 2) is in access.group
(bin); 'nobody' is anyone."""
import grp
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.append('/usr/lib/python3/dist-packages')  # python3-dbusmock under another python

from libvfio_test import DaemonTestCase, call_once, vfioctl, Varlink, wait_for  # noqa: E402
import unittest_tap  # noqa: E402

try:
    import dbusmock
    sys.executable = '/usr/bin/python3'  # the mock server runs where dbusmock is
except ImportError:
    dbusmock = None

OWNER, MEMBER, ANYONE = 'daemon', 'bin', 'nobody'
DEFINITION = 'name: v\nmemory: 64M\nowner: daemon\ngpu: []\n'


AS_USER = ('import json,socket,sys\n'
            's=socket.socket(socket.AF_UNIX);s.connect(sys.argv[1])\n'
            's.sendall(json.dumps({"method":sys.argv[2],"parameters":json.loads(sys.argv[3])})'
            '.encode()+b"\\0")\n'
            'b=b""\n'
            'while not b.endswith(b"\\0"):\n'
            '  d=s.recv(65536)\n'
            '  if not d: break\n'
            '  b+=d\n'
            'm=json.loads(b[:-1]);print(m.get("error") or "");print(m.get("parameters",{}).get("message",""))\n')


def as_user(user, socket, method, parameters=None, groups=None):
    """One Varlink call made by `user`'s own process, with the groups a login gives
    (or `groups`, group names, as supplementary groups): its error name and message."""
    gid = pwd.getpwnam(user).pw_gid
    extra = ([grp.getgrnam(g).gr_gid for g in groups] if groups is not None
             else os.getgrouplist(user, gid))
    r = subprocess.run(['/usr/bin/python3', '-c', AS_USER, socket, method,
                        __import__('json').dumps(parameters or {})],
                       user=user, group=gid, extra_groups=extra,
                       capture_output=True, text=True, timeout=60)
    lines = (r.stdout + '\n\n').split('\n')
    return lines[0] or None, lines[1]


class Started:
    VMS_CONFIG = ''  # more of libvfiod.yaml's vms section

    def start(self, extra='', env=None):
        os.makedirs(os.path.join(self.workdir, 'vms'), exist_ok=True)
        with open(os.path.join(self.workdir, 'vms', 'v.yaml'), 'w') as f:
            f.write(DEFINITION)
        config = (f'vms:\n  dir: {self.workdir}/vms\n{self.VMS_CONFIG}access:\n  group: bin\n' + extra)
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

    def test_group_is_the_callers_process_groups(self):
        # Membership is what the connecting process carries (SO_PEERGROUPS), as for
        # file permissions: 'nobody' holding group bin as a supplementary group is a
        # member although the user database does not say so, and 'bin' without its
        # group (it runs as group nogroup) is not.
        d = self.start('  read: group\n')
        err, msg = as_user(ANYONE, d.socket, 'io.libvfio.VMs.Pause', {'name': 'v'},
                           groups=['bin'])
        self.assertEqual(err, 'io.libvfio.VMs.WrongState', msg)
        self.assertIsNone(as_user(ANYONE, d.socket, 'io.libvfio.Host.ListGPUs',
                                  groups=['bin'])[0])
        self.assertEqual(as_user(ANYONE, d.socket, 'io.libvfio.Host.ListGPUs')[0],
                         'io.libvfio.Manager.PermissionDenied')
        nogroup = grp.getgrnam('nogroup').gr_gid
        r = subprocess.run(['/usr/bin/python3', '-c', AS_USER, d.socket,
                            'io.libvfio.Host.ListGPUs', '{}'],
                           user=MEMBER, group=nogroup, extra_groups=[],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.stdout.split('\n')[0], 'io.libvfio.Manager.PermissionDenied')

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



POLKITD = '/usr/lib/polkit-1/polkitd'
DBUS_DAEMON = '/usr/bin/dbus-daemon'
DBUS_SEND = '/usr/bin/dbus-send'
POLICY = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'systemd',
                      'io.libvfio.policy')
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={path}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""
# polkitd, started as root, makes itself user polkitd (started as polkitd it fails:
# "Error switching to user polkitd: Error clearing groups"); it needs no /run/polkit-1.
# In its own mount namespace it sees only our actions and rules (the host's rules
# would decide otherwise). Its stdout is buffered: the bus says when it is ready.
POLKITD_SCRIPT = """set -e
mount --bind "$1/actions" /usr/share/polkit-1/actions
mount --bind "$1/rules" /etc/polkit-1/rules.d
mount --bind "$1/empty" /usr/share/polkit-1/rules.d
exec {polkitd} --no-debug
""".format(polkitd=POLKITD)
VM = 'name: {name}\nmemory: 64M\nfirmware: bios\nnetwork: none\nowner: daemon\ngpu: []\n'
# polkitd busy with a question about VM 'slow' (a rule runs a program and waits for it).
SLOW_RULE = """polkit.addRule(function (action, subject) {
    if (action.lookup("vm") == "slow") {
        polkit.spawn(["/bin/sleep", "60"]);
    }
});
"""

# Five callers that ask to undefine VM 'slow' and leave without waiting for the answer.
LEAVING = """import json, socket, sys
for _ in range(5):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(json.dumps({"method": "io.libvfio.VMs.Undefine",
                          "parameters": {"name": "slow"}}).encode() + b"\\0")
    s.close()
"""


def real_polkit_missing():
    """Why the real polkitd cannot run here, or None."""
    if os.geteuid() != 0:
        return 'needs root for a mount namespace and polkitd'
    for path in (POLKITD, DBUS_DAEMON, DBUS_SEND, shutil.which('unshare') or '/usr/bin/unshare'):
        if not os.access(path, os.X_OK):
            return f'{path} is missing (tests/setup.sh test installs polkitd, dbus-daemon and dbus-bin)'
    try:
        __import__('pwd').getpwnam('polkitd')
    except KeyError:
        return "there is no user 'polkitd' (the polkitd package makes it)"
    for path in ('/usr/share/polkit-1/actions', '/etc/polkit-1/rules.d',
                 '/usr/share/polkit-1/rules.d'):
        if not os.path.isdir(path):
            return f'{path} is missing: nothing to mount our own over'
    r = subprocess.run(['unshare', '--mount', 'true'], capture_output=True, text=True)
    if r.returncode != 0:
        return 'unshare --mount cannot run here: ' + r.stderr.strip()
    return None


REAL_POLKIT_MISSING = real_polkit_missing()


@unittest.skipIf(REAL_POLKIT_MISSING, REAL_POLKIT_MISSING)
class RealPolkitTest(Started, DaemonTestCase):
    """Debian's polkitd deciding from our policy file and rules the test writes.
    Users as above; VMs x, y and slow belong to 'daemon'."""
    VMS_CONFIG = '  qemu-user: nobody\n  accel: tcg\n'

    @classmethod
    def setUpClass(cls):
        cls.busdir = tempfile.mkdtemp(prefix='libvfio-bus-')
        os.chmod(cls.busdir, 0o755)
        path = os.path.join(cls.busdir, 'system_bus_socket')
        config = os.path.join(cls.busdir, 'bus.conf')
        with open(config, 'w') as f:
            f.write(BUS_CONFIG.format(path=path))
        cls.bus = subprocess.Popen([DBUS_DAEMON, '--config-file', config, '--nofork', '--nopidfile'],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: os.path.exists(path) or cls.bus.poll() is not None, what='dbus-daemon')
        if cls.bus.poll() is not None:
            raise AssertionError(f'dbus-daemon exited with {cls.bus.returncode}')
        cls.address = f'unix:path={path}'

    @classmethod
    def tearDownClass(cls):
        cls.bus.terminate()
        cls.bus.wait(10)
        shutil.rmtree(cls.busdir, ignore_errors=True)

    def setUp(self):
        super().setUp()
        self.polkitd = None
        self.polkit_dir = os.path.join(self.workdir, 'polkit')
        for name in ('actions', 'rules', 'empty'):
            os.makedirs(os.path.join(self.polkit_dir, name))
        shutil.copy(POLICY, os.path.join(self.polkit_dir, 'actions'))
        os.chmod(self.polkit_dir, 0o755)
        for name in ('rules', 'empty', 'actions'):
            os.chmod(os.path.join(self.polkit_dir, name), 0o755)

    def tearDown(self):
        self.stop_polkitd(signal.SIGTERM)
        super().tearDown()

    def start_polkitd(self, rules=''):
        path = os.path.join(self.polkit_dir, 'rules', '50-test.rules')
        with open(path, 'w') as f:
            f.write(rules)
        os.chmod(path, 0o644)
        self.polkitd_log = os.path.join(self.workdir, f'polkitd-{time.monotonic_ns()}.log')
        with open(self.polkitd_log, 'w') as log:
            self.polkitd = subprocess.Popen(
                ['unshare', '--mount', '--propagation', 'private',
                 'sh', '-c', POLKITD_SCRIPT, 'sh', self.polkit_dir],
                stdout=log, stderr=subprocess.STDOUT,
                env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.address))
        wait_for(lambda: self.polkitd.poll() is not None or self.polkit_on_bus(),
                 what='polkitd on the private bus')
        self.assertIsNone(self.polkitd.poll(), 'polkitd exited:\n' + self.polkitd_output())

    def polkit_on_bus(self):
        r = subprocess.run([DBUS_SEND, f'--bus={self.address}', '--print-reply',
                            '--dest=org.freedesktop.DBus', '/', 'org.freedesktop.DBus.NameHasOwner',
                            'string:org.freedesktop.PolicyKit1'], capture_output=True, text=True)
        return 'boolean true' in r.stdout

    def polkitd_output(self):
        with open(self.polkitd_log) as f:
            return f.read()

    def stop_polkitd(self, signo):
        if self.polkitd is None:
            return
        # Its children first (a rule's program), while they are still known to be its.
        for child in self.children(self.polkitd.pid):
            os.kill(child, signal.SIGKILL)
        if self.polkitd.poll() is None:
            self.polkitd.send_signal(signo)
        self.polkitd.wait(10)
        self.polkitd = None

    @staticmethod
    def children(pid):
        found = []
        for entry in os.listdir('/proc'):
            if entry.isdigit():
                try:
                    with open(f'/proc/{entry}/stat') as f:
                        if int(f.read().rsplit(')', 1)[1].split()[1]) == pid:
                            found.append(int(entry))
                except (OSError, IndexError, ValueError):
                    pass
        return found

    def start(self, extra='', vms=()):
        d = super().start(extra, env={'DBUS_SYSTEM_BUS_ADDRESS': self.address})
        for name in vms:  # defined by root, who asks no one
            reply = call_once(d.socket, 'io.libvfio.VMs.Define', {'definition': VM.format(name=name)})
            self.assertNotIn('error', reply)
        return d

    def test_rule_for_one_vm(self):
        self.start_polkitd('polkit.addRule(function (action, subject) {\n'
                           '    if (action.id == "io.libvfio.vm.control" &&\n'
                           '        action.lookup("vm") == "x" && subject.user == "nobody")\n'
                           '        return polkit.Result.YES;\n'
                           '});\n')
        d = self.start(vms=('x', 'y'))
        err, msg = as_user(ANYONE, d.socket, 'io.libvfio.VMs.Start', {'name': 'x'})
        self.assertIsNone(err, msg + '\n' + d.output())
        err, msg = as_user(ANYONE, d.socket, 'io.libvfio.VMs.Stop', {'name': 'x', 'force': True})
        self.assertIsNone(err, msg + '\n' + d.output())
        for method in ('Start', 'Stop'):
            err, msg = as_user(ANYONE, d.socket, f'io.libvfio.VMs.{method}', {'name': 'y'})
            self.assertEqual(err, 'io.libvfio.VMs.PermissionDenied', msg)
            self.assertIn(f"{method} of VM 'y' needs you to be its owner", msg)
        # The rule names its user: another one is not let in to x.
        err, _ = as_user('sys', d.socket, 'io.libvfio.VMs.Start', {'name': 'x'})
        self.assertEqual(err, 'io.libvfio.VMs.PermissionDenied')
        self.assertNotIn('polkit cannot be reached', d.output())
        self.assertDaemonServes(d)

    def test_rule_for_a_group(self):
        self.start_polkitd('polkit.addRule(function (action, subject) {\n'
                           '    if (action.id == "io.libvfio.manage" && subject.isInGroup("daemon"))\n'
                           '        return polkit.Result.YES;\n'
                           '});\n')
        d = self.start()
        definition = VM.format(name='new')
        err, msg = as_user(OWNER, d.socket, 'io.libvfio.VMs.Define', {'definition': definition})
        self.assertIsNone(err, msg + '\n' + d.output())
        self.assertTrue(os.path.exists(os.path.join(self.workdir, 'vms', 'new.yaml')))
        # Not the member of access.group, nor anyone: managing is not the group's.
        for user in (MEMBER, ANYONE):
            err, msg = as_user(user, d.socket, 'io.libvfio.VMs.Define',
                               {'definition': VM.format(name='other')})
            self.assertEqual(err, 'io.libvfio.VMs.PermissionDenied', f'{user}: {msg}')
            self.assertIn("Define of VMs needs root or polkit's io.libvfio.manage", msg)

    def test_default_refuses_without_an_agent(self):
        self.start_polkitd()
        d = self.start()
        # auth_admin with no one to ask (no agent; not interactive): refused.
        for interactive in (False, True):
            err, msg = as_user(ANYONE, d.socket, 'io.libvfio.VMs.Pause',
                               {'name': 'v', 'allowInteractiveAuthentication': interactive})
            self.assertEqual(err, 'io.libvfio.VMs.PermissionDenied')
            self.assertEqual(msg, "Pause of VM 'v' needs you to be its owner, in group 'bin', or "
                             "allowed polkit's io.libvfio.vm.control: ask an administrator, "
                             "run vfioctl with sudo, or with --ask-password.")
        err, msg = as_user(MEMBER, d.socket, 'io.libvfio.VMs.Undefine', {'name': 'v'})
        self.assertEqual(err, 'io.libvfio.VMs.PermissionDenied')
        r = vfioctl('--no-ask-password', 'pause', 'v', socket_path=d.socket, user=ANYONE)
        self.assertEqual(r.returncode, 1)
        self.assertIn('--ask-password', r.stderr)
        self.assertNotIn('polkit cannot be reached', d.output())
        # The owner and the group never needed polkit.
        for user in (OWNER, MEMBER):
            self.assertEqual(as_user(user, d.socket, 'io.libvfio.VMs.Pause', {'name': 'v'})[0],
                             'io.libvfio.VMs.WrongState')

    def wait_question_pending(self):
        """Until polkitd runs the slow rule's program (busy with a question)."""
        wait_for(lambda: self.children(self.polkitd.pid), what="polkitd's rule running sleep")

    def test_polkitd_killed_while_asked(self):
        self.start_polkitd(SLOW_RULE)
        d = self.start(vms=('slow',))
        # A caller waiting for its answer, and callers that leave while polkitd thinks.
        waiting = subprocess.Popen(['/usr/bin/python3', '-c', AS_USER, d.socket,
                                    'io.libvfio.VMs.Pause', '{"name": "slow"}'],
                                   user=ANYONE, stdout=subprocess.PIPE, text=True)
        self.addCleanup(waiting.stdout.close)
        self.addCleanup(lambda: waiting.poll() is None and (waiting.kill(), waiting.wait()))
        self.wait_question_pending()
        subprocess.run(['/usr/bin/python3', '-c', LEAVING, d.socket], user=ANYONE, check=True,
                       timeout=30)
        self.assertIsNone(waiting.poll())
        # The owner and the group are answered at once all the while.
        self.assertEqual(as_user(MEMBER, d.socket, 'io.libvfio.VMs.Pause', {'name': 'slow'})[0],
                         'io.libvfio.VMs.WrongState')
        self.stop_polkitd(signal.SIGKILL)
        out, _ = waiting.communicate(timeout=30)
        err, msg = (out + '\n\n').split('\n')[:2]
        self.assertEqual(err, 'io.libvfio.VMs.PermissionDenied', msg)
        self.assertIn("Pause of VM 'slow' needs you to be its owner, in group 'bin'", msg)
        self.assertIn('polkit cannot be reached', d.output())
        self.assertDaemonServes(d)
        # polkitd back (systemd would restart it): the daemon asks it again.
        self.start_polkitd('polkit.addRule(function (action, subject) {\n'
                           '    if (action.id == "io.libvfio.vm.control") return polkit.Result.YES;\n'
                           '});\n')
        self.assertEqual(as_user(ANYONE, d.socket, 'io.libvfio.VMs.Pause', {'name': 'slow'})[0],
                         'io.libvfio.VMs.WrongState')
        self.assertTrue(os.path.exists(os.path.join(self.workdir, 'vms', 'slow.yaml')))


if __name__ == '__main__':
    unittest_tap.main()
