#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Who may do what (README, "Who may call what"): real unprivileged uids against
the real daemon; polkit played by python3-dbusmock's polkitd template on a
private system bus (DBUS_SYSTEM_BUS_ADDRESS in the daemon's environment), and
by Debian's real polkitd with our io.libvfio.policy and rules written by the test,
on a real dbus-daemon of the test's own, in a mount namespace of its own.
Users: root; 'daemon' (uid 1) owns VM v; 'bin' (uid 2) is in access.group
(bin); 'nobody' is anyone."""
import collections
import grp
import os
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

sys.path.append('/usr/lib/python3/dist-packages')  # python3-dbusmock under another python

from libvfio_test import (DaemonTestCase, call_once, vfioctl, vfioctl_for_others,  # noqa: E402
                          Varlink, wait_for)
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
        # The VM's log: as its control.
        for user in ('root', OWNER, MEMBER):
            err, msg = as_user(user, d.socket, 'io.libvfio.VMs.Logs', {'name': 'v'})
            self.assertIsNone(err, f'{user}: {msg}')
        err, msg = as_user(ANYONE, d.socket, 'io.libvfio.VMs.Logs', {'name': 'v'})
        self.assertEqual(err, 'io.libvfio.VMs.PermissionDenied')
        self.assertIn("Logs of VM 'v' needs you to be its owner", msg)
        # The VM's definition text: as its log.
        for user in ('root', OWNER, MEMBER):
            err, msg = as_user(user, d.socket, 'io.libvfio.VMs.GetDefinition', {'name': 'v'})
            self.assertIsNone(err, f'{user}: {msg}')
        err, msg = as_user(ANYONE, d.socket, 'io.libvfio.VMs.GetDefinition', {'name': 'v'})
        self.assertEqual(err, 'io.libvfio.VMs.PermissionDenied')
        self.assertIn("GetDefinition of VM 'v' needs you to be its owner", msg)
        # Managing is root's (or polkit's), not the group's nor the owner's.
        for user in (OWNER, MEMBER, ANYONE):
            err, _ = as_user(user, d.socket, 'io.libvfio.VMs.Undefine', {'name': 'v'})
            self.assertEqual(err, 'io.libvfio.VMs.PermissionDenied')
            err, _ = as_user(user, d.socket, 'io.libvfio.VMs.SetAutostart',
                             {'name': 'v', 'autostart': True})
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
shift
exec {polkitd} "$@"
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


PKTTYAGENT = '/usr/bin/pkttyagent'
PASSWORD = 'correct horse'
# polkit asks `nobody` for their own password before managing VMs.
AUTH_SELF_RULE = """polkit.addRule(function (action, subject) {
    if (action.id == "io.libvfio.manage" && subject.user == "nobody")
        return polkit.Result.AUTH_SELF;
});
"""
# Run as root in a mount namespace of its own, then as the user: their password
# is known only here ($1/shadow over /etc/shadow, read by PAM in the setuid
# polkit-agent-helper-1); /run/dbus is our bus's directory (the helper clears its
# environment, DBUS_SYSTEM_BUS_ADDRESS too, and connects to
# /run/dbus/system_bus_socket; without /run/dbus, a /run of our own holds it);
# /usr/bin/pkttyagent notes each start in $1/agent.log and execs the real one.
# $1 is a directory, $2 the bus's, $3 the user; then the command. Each step execs
# the next: vfioctl keeps the pid of the process the test started.
TERMINAL_SCRIPT = """set -e
mount --bind "$1/shadow" /etc/shadow
if [ -d /run/dbus ]; then mount --bind "$2" /run/dbus
else mount -t tmpfs tmpfs /run && mkdir /run/dbus && mount --bind "$2" /run/dbus; fi
mount --bind {agent} "$1/pkttyagent.real"
mount --bind "$1/pkttyagent" {agent}
user=$3
shift 3
exec setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups -- "$@"
""".format(agent=PKTTYAGENT)
AGENT_WRAPPER = """#!/bin/sh
echo "$$ $PPID $*" >> {dir}/agent.log
exec {dir}/pkttyagent.real "$@" 2>>{dir}/agent.err
"""


class Terminal(collections.namedtuple('Terminal', 'status shown prompts starts pid')):
    """vfioctl's run on a terminal: its exit status, what the terminal showed (then
    the agent's stderr), the password prompts, the agent's starts as [pid, parent's
    pid, arguments], and vfioctl's pid."""


def password_hash(password):
    """A SHA-512 crypt(3) hash, as /etc/shadow holds it (Python's crypt module,
    there until 3.13; else openssl)."""
    import warnings
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', DeprecationWarning)
            import crypt
    except ImportError:
        return subprocess.run(['openssl', 'passwd', '-6', '-stdin'], input=password,
                              capture_output=True, text=True, check=True).stdout.strip()
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_SHA512))


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

    def start_polkitd(self, rules='', verbose=False):
        """polkitd deciding by `rules`; `verbose`: its log says what it did with agents."""
        path = os.path.join(self.polkit_dir, 'rules', '50-test.rules')
        with open(path, 'w') as f:
            f.write(rules)
        os.chmod(path, 0o644)
        self.polkitd_log = os.path.join(self.workdir, f'polkitd-{time.monotonic_ns()}.log')
        with open(self.polkitd_log, 'w') as log:
            self.polkitd = subprocess.Popen(
                ['unshare', '--mount', '--propagation', 'private',
                 'sh', '-c', POLKITD_SCRIPT, 'sh', self.polkit_dir,
                 *([] if verbose else ['--no-debug'])],
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

    def vfioctl_on_terminal(self, d, user, *args, password=None):
        """vfioctl run by `user` on a pseudo-terminal that is its controlling terminal
        (as after a login), in a mount namespace where `user`'s password is PASSWORD
        (TERMINAL_SCRIPT). Types `password` at each password prompt the terminal shows.
        Returns a Terminal."""
        uid, gid = pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid
        home = os.path.join(self.workdir, 'terminal')
        os.makedirs(home, exist_ok=True)
        os.chmod(home, 0o755)
        with open('/etc/shadow') as f:
            entries = [line.split(':') for line in f.read().splitlines()]
        for entry in entries:
            if entry[0] == user:
                entry[1] = password_hash(PASSWORD)
        shadow = os.path.join(home, 'shadow')
        with open(shadow, 'w') as f:
            f.write(''.join(':'.join(entry) + '\n' for entry in entries))
        shutil.copystat('/etc/shadow', shadow)
        st = os.stat('/etc/shadow')
        os.chown(shadow, st.st_uid, st.st_gid)
        with open(os.path.join(home, 'pkttyagent'), 'w') as f:
            f.write(AGENT_WRAPPER.format(dir=home))
        os.chmod(os.path.join(home, 'pkttyagent'), 0o755)
        open(os.path.join(home, 'pkttyagent.real'), 'w').close()
        log, errors = os.path.join(home, 'agent.log'), os.path.join(home, 'agent.err')
        for path in (log, errors):  # written by the user
            open(path, 'w').close()
            os.chmod(path, 0o666)

        master, slave = os.openpty()
        os.fchown(slave, uid, gid)
        try:
            # setsid --ctty: a session of its own whose controlling terminal is the
            # pseudo-terminal (pkttyagent reads the password from /dev/tty).
            process = subprocess.Popen(
                ['setsid', '--ctty', 'unshare', '--mount', '--propagation', 'private',
                 'sh', '-c', TERMINAL_SCRIPT, 'sh', home, self.busdir, user,
                 vfioctl_for_others(), '--socket', d.socket, *args],
                stdin=slave, stdout=slave, stderr=slave, cwd='/',
                env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.address, LC_ALL='C'))
        finally:
            os.close(slave)
        shown, prompts = b'', 0
        deadline = time.monotonic() + 30
        try:
            while True:
                ready, _, _ = select.select([master], [], [], max(0, deadline - time.monotonic()))
                if not ready:
                    process.kill()
                    self.fail('vfioctl still running after 30 s; the terminal showed:\n'
                              + shown.decode(errors='replace'))
                try:
                    data = os.read(master, 4096)
                except OSError:  # EIO: no one has the terminal open any more
                    data = b''
                if not data:
                    break
                shown += data
                if password is not None and shown.count(b'Password:') > prompts:
                    prompts += 1
                    # The agent turns echo off after the prompt, throwing away what was
                    # typed before (TCSAFLUSH): type once it has. The master reads the
                    # terminal's settings.
                    wait_for(lambda: not termios.tcgetattr(master)[3] & termios.ECHO,
                             what='the agent to turn echo off')
                    os.write(master, password.encode() + b'\n')
            status = process.wait(10)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            os.close(master)
        with open(log) as f:
            starts = [line.split(' ', 2) for line in f.read().splitlines()]
        with open(errors) as f:
            shown += f'\n[the agent\'s stderr]\n{f.read()}'.encode()
        return Terminal(status, shown.decode(errors='replace'), prompts, starts, process.pid)

    def test_password_typed_on_the_terminal(self):
        """vfioctl --ask-password on the user's terminal starts /usr/bin/pkttyagent, its
        own child, registered for it; Debian's polkitd (the rule: AUTH_SELF for nobody
        on io.libvfio.manage) has the agent ask for nobody's password, PAM checks it in
        the setuid polkit-agent-helper-1, and the call goes ahead: VM x is undefined."""
        self.start_polkitd(AUTH_SELF_RULE, verbose=True)
        d = self.start(vms=('x', 'y'))
        t = self.vfioctl_on_terminal(d, ANYONE, '--ask-password', 'undefine', 'x',
                                     password=PASSWORD)
        report = f'{t.shown}\n{self.polkitd_output()}\n{d.output()}'
        self.assertEqual(len(t.starts), 1, report)
        pid, parent, args = t.starts[0]
        self.assertEqual(int(parent), t.pid, 'the agent is not vfioctl\'s child')
        self.assertRegex(args, r'^--notify-fd \d+', report)
        self.assertIn('AUTHENTICATING FOR io.libvfio.manage', t.shown, report)
        self.assertIn('Authenticating as: nobody', t.shown, report)
        self.assertEqual(t.prompts, 1, report)
        self.assertIn('AUTHENTICATION COMPLETE', t.shown, report)
        self.assertNotIn(PASSWORD, t.shown)  # not echoed
        self.assertEqual(t.status, 0, report)
        self.assertIn('Undefined x', t.shown)
        self.assertFalse(os.path.exists(os.path.join(self.workdir, 'vms', 'x.yaml')))
        self.assertEqual(call_once(d.socket, 'io.libvfio.VMs.Get', {'name': 'x'})['error'],
                         'io.libvfio.VMs.NoSuchVM')
        self.assertIn(f'Registered Authentication Agent for unix-process:{t.pid}:',
                      self.polkitd_output())
        self.assertIn('successfully authenticated as unix-user:nobody', self.polkitd_output())
        self.assertIsNone(call_once(d.socket, 'io.libvfio.VMs.Get', {'name': 'y'}).get('error'))

    def test_wrong_password_typed_on_the_terminal(self):
        """The same with a wrong password: the agent asks, PAM says no, polkit refuses,
        vfioctl says so and fails, and VM x is still there as it was."""
        self.start_polkitd(AUTH_SELF_RULE, verbose=True)
        d = self.start(vms=('x',))
        path = os.path.join(self.workdir, 'vms', 'x.yaml')
        with open(path) as f:
            before = f.read()
        t = self.vfioctl_on_terminal(d, ANYONE, '--ask-password', 'undefine', 'x',
                                     password='wrong ' + PASSWORD)
        report = f'{t.shown}\n{self.polkitd_output()}\n{d.output()}'
        self.assertEqual(len(t.starts), 1, report)
        self.assertEqual(int(t.starts[0][1]), t.pid)
        self.assertIn('Authenticating as: nobody', t.shown, report)
        self.assertGreaterEqual(t.prompts, 1, report)
        self.assertIn('AUTHENTICATION FAILED', t.shown, report)
        self.assertEqual(t.status, 1, report)
        self.assertIn("vfioctl: Undefine of VMs needs root or polkit's io.libvfio.manage",
                      t.shown)
        self.assertNotIn('Undefined x', t.shown)
        self.assertIn('FAILED to authenticate', self.polkitd_output())
        with open(path) as f:
            self.assertEqual(f.read(), before)
        self.assertIsNone(call_once(d.socket, 'io.libvfio.VMs.Get', {'name': 'x'}).get('error'))

    def test_no_ask_password_starts_no_agent(self):
        """--no-ask-password on the same terminal: no pkttyagent is started, no password
        asked, and the call is refused at once; VM x is still there."""
        self.start_polkitd(AUTH_SELF_RULE, verbose=True)
        d = self.start(vms=('x',))
        began = time.monotonic()
        t = self.vfioctl_on_terminal(d, ANYONE, '--no-ask-password', 'undefine', 'x',
                                     password=PASSWORD)
        elapsed = time.monotonic() - began
        self.assertEqual(t.starts, [], t.shown)
        self.assertEqual(t.prompts, 0, t.shown)
        self.assertEqual(t.status, 1, t.shown)
        self.assertIn("vfioctl: Undefine of VMs needs root or polkit's io.libvfio.manage",
                      t.shown)
        self.assertIn('--ask-password', t.shown)
        self.assertLess(elapsed, 5, 'refused, but not at once')
        self.assertNotIn('Registered Authentication Agent', self.polkitd_output())
        self.assertTrue(os.path.exists(os.path.join(self.workdir, 'vms', 'x.yaml')))


if __name__ == '__main__':
    unittest_tap.main()
