#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""io.libvfio.VMs with the real daemon and a real qemu-system-x86_64 (TCG,
64 MiB, no disk): define, start with its phases, status, pause, resume, stop
(graceful and forced), kill, undefine; QEMU killed from outside; the daemon
SIGKILLed and restarted while a VM runs; two clients starting one VM at once;
definitions whose GPU is gone; hostile parameters. QEMU runs as `nobody`."""
import json
import os
import pwd
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'simulator'))

import unittest_tap  # noqa: E402
from libvfio_test import (VFIOCTL, DaemonTestCase, Varlink, slow_disk_env,  # noqa: E402
                          vfioctl, vfioctl_for_others, wait_for)
from simulator import Simulator  # noqa: E402

VMS = 'io.libvfio.VMs.'


def definition(name, extra=''):
    return (f'name: {name}\nmemory: 64M\ncpus: 1\nfirmware: bios\nnetwork: none\n'
            + extra)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purposes; so is one reaped between the two looks
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (FileNotFoundError, ProcessLookupError):
        return False


class VmTestCase(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.vm_dir = os.path.join(self.workdir, 'vms')
        self.run_dir = os.path.join(self.workdir, 'run')
        self.config = (f'vms:\n  dir: {self.vm_dir}\n  qemu-user: nobody\n  accel: tcg\n'
                       '  stop-timeout: 30s\n')
        self.qemu_pids = set()

    def tearDown(self):
        # QEMU outlives the daemon by design: the test kills what it started.
        for pid in self.qemu_pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        super().tearDown()

    def start_daemon(self, extra_config='', args=()):
        return self.daemon(config=self.config + extra_config,
                           args=['--runtime-dir', self.run_dir, *args])

    def simulated(self, host, **kwargs):
        """The sysfs simulator playing `host`, closed when the test ends."""
        sim = Simulator(host, **kwargs)
        sim.start()
        self.addCleanup(sim.close)
        return sim

    def kill_during_start(self, sim, name, after, path=None, extra_config=''):
        """A daemon on `sim` starting VM `name`, SIGKILLed at the start's first write
        (to `path` when given): before it lands, or once it has with `after`."""
        d = self.start_daemon(extra_config, args=['--sysfs-root', sim.root])
        sim.kill_at(1, pid=d.process.pid, after=after, path=path)
        try:
            self.call(d, 'Start', {'name': name})
        except (OSError, AttributeError, TypeError, ValueError):
            pass  # the daemon died under the call
        wait_for(lambda: not d.running(), what='the daemon to die')

    def call(self, d, method, parameters=None, timeout=60):
        with Varlink(d.socket, timeout=timeout) as v:
            return v.call(VMS + method, parameters or {})

    def ok(self, d, method, parameters=None):
        reply = self.call(d, method, parameters)
        self.assertIn('parameters', reply, f'{method}: {reply}\n{d.output()}')
        vm = reply['parameters'].get('vm')
        if vm and vm.get('pid'):
            self.qemu_pids.add(vm['pid'])
        return reply['parameters']

    def define(self, d, name, extra=''):
        return self.ok(d, 'Define', {'definition': definition(name, extra)})['vm']

    def start(self, d, name):
        """Start with "more": returns the phases seen and the final VM."""
        phases = []
        with Varlink(d.socket, timeout=60) as v:
            v.send(VMS + 'Start', {'name': name}, more=True)
            while True:
                reply = v.receive()
                self.assertIn('vm', reply.get('parameters', {}), f'{reply}\n{d.output()}')
                vm = reply['parameters']['vm']
                if vm.get('pid'):
                    self.qemu_pids.add(vm['pid'])
                phases.append(reply['parameters']['phase'])
                if not reply.get('continues'):
                    return phases, vm

    def assertError(self, reply, error, *words):
        self.assertEqual(reply.get('error'), error, reply)
        for word in words:
            self.assertIn(word, reply['parameters']['message'])

    def assertNothingLeft(self, name):
        """No runtime record, no runtime directory, no QEMU."""
        records = os.path.join(self.run_dir, 'vms')
        for leftover in (name + '.json', name + '.qmp', name):
            self.assertNotIn(leftover, os.listdir(records))


class LifecycleTest(VmTestCase):
    def test_define_start_pause_resume_stop_undefine(self):
        d = self.start_daemon()
        vm = self.define(d, 'life')
        self.assertEqual(vm['state'], 'defined')
        # members without a value are left out (Varlink's optional ones), in Define's
        # reply as in List's
        members = {'name', 'uuid', 'state', 'partitions', 'autostart'}
        self.assertEqual(set(vm), members)
        self.assertEqual([set(v) for v in self.ok(d, 'List')['vms']], [members])
        # the generated uuid is stored in the file, so it is stable
        with open(os.path.join(self.vm_dir, 'life.yaml')) as f:
            self.assertIn(f'uuid: {vm["uuid"]}', f.read())
        # defined again from text without a uuid: it keeps the one it has
        again = self.define(d, 'life', 'autostart: false\n')
        self.assertEqual(again['uuid'], vm['uuid'])

        phases, vm = self.start(d, 'life')
        # every phase, in order, those with nothing to do too: the client counts them
        self.assertEqual(phases, ['allocating', 'hugepages', 'spawning', 'connecting', 'pinning',
                                  'running', 'running'])
        self.assertEqual((vm['state'], vm['qmpStatus']), ('running', 'running'))
        self.assertEqual(set(vm), members | {'pid', 'uptimeSeconds', 'qmpStatus', 'display',
                                             'console'})
        pid = vm['pid']
        self.assertTrue(pid_alive(pid))
        with open(f'/proc/{pid}/status') as f:
            uid = [line for line in f if line.startswith('Uid:')][0].split()[1]
        self.assertEqual(int(uid), 65534, 'QEMU must not run as root')
        with open(f'/proc/{pid}/cmdline') as f:
            argv = f.read().split('\0')
        self.assertIn('-sandbox', argv)
        # QMP on a socket QEMU inherits, in a directory QEMU cannot write
        self.assertIn('socket,id=qmp,fd=3,server=on,wait=off', argv)
        qmp = os.stat(os.path.join(self.run_dir, 'vms', 'life.qmp'))
        self.assertEqual((qmp.st_uid, qmp.st_mode & 0o777), (0, 0o600))
        self.assertEqual(os.stat(os.path.join(self.run_dir, 'vms')).st_uid, 0)
        self.assertIn(vm['uuid'], argv)
        # a second start is refused: never two QEMUs for one VM
        self.assertError(self.call(d, 'Start', {'name': 'life'}), VMS + 'WrongState', 'running')
        self.assertError(self.call(d, 'Undefine', {'name': 'life'}), VMS + 'WrongState',
                         'stop it first')

        self.assertEqual(self.ok(d, 'Pause', {'name': 'life'})['vm']['state'], 'paused')
        got = self.ok(d, 'Get', {'name': 'life'})['vm']
        self.assertEqual((got['state'], got['qmpStatus'], got['pid']), ('paused', 'paused', pid))
        self.assertError(self.call(d, 'Pause', {'name': 'life'}), VMS + 'WrongState')
        self.assertEqual(self.ok(d, 'Resume', {'name': 'life'})['vm']['state'], 'running')

        # No OS answers the ACPI power button: after the timeout QEMU is told to quit.
        began = time.monotonic()
        stopped = self.ok(d, 'Stop', {'name': 'life', 'timeoutSeconds': 1})
        vm = stopped['vm']
        self.assertEqual(stopped['ended'], 'quit')
        self.assertGreaterEqual(time.monotonic() - began, 1.0)
        self.assertEqual((vm['state'], vm.get('pid'), vm.get('problem')), ('stopped', None, None))
        self.assertFalse(pid_alive(pid))
        self.assertNothingLeft('life')

        self.assertEqual(self.call(d, 'Undefine', {'name': 'life'}), {'parameters': {}})
        self.assertFalse(os.path.exists(os.path.join(self.vm_dir, 'life.yaml')))
        self.assertError(self.call(d, 'Get', {'name': 'life'}), VMS + 'NoSuchVM')

    def test_vcpus_are_pinned_before_the_guest_runs(self):
        d = self.start_daemon()
        last = os.cpu_count() - 1
        self.define(d, 'pinned', f'numa: 0\ncpu-pinning: [{last}]\n')
        phases, vm = self.start(d, 'pinned')
        self.assertEqual(phases, ['allocating', 'hugepages', 'spawning', 'connecting', 'pinning',
                                  'running', 'running'])
        # (as `top` or `ps -L` do; QEMU's reap then waits in the kernel for its last thread
        # to drop these /proc entries, and the reap is off the loop for that: child_watch.c)
        tasks = f'/proc/{vm["pid"]}/task'
        affinity = {}
        for tid in os.listdir(tasks):
            with open(f'{tasks}/{tid}/comm') as f:
                name = f.read().strip()
            with open(f'{tasks}/{tid}/status') as f:
                allowed = [line.split()[1] for line in f if line.startswith('Cpus_allowed_list')]
            affinity[name] = allowed[0]
        # the vCPU thread (named by debug-threads=on) on the listed CPU
        self.assertEqual(affinity.get('CPU 0/TCG'), str(last), affinity)
        with open(f'/proc/{vm["pid"]}/cmdline') as f:
            self.assertIn('host-nodes=0,policy=bind', f.read())
        self.ok(d, 'Stop', {'name': 'pinned', 'force': True})

    def test_looking_glass_memory_is_made_for_the_vm_and_shared_with_its_owner(self):
        d = self.start_daemon()
        self.define(d, 'lg', 'looking-glass: 32M\nowner: nobody\n')
        shm = '/dev/shm/looking-glass-lg'
        # one planted beforehand by another user must not be what QEMU writes frames to
        with open(shm, 'w') as f:
            f.write('planted')
        os.chown(shm, 12345, 12345)
        planted = os.stat(shm).st_ino
        self.addCleanup(lambda: os.path.exists(shm) and os.unlink(shm))
        _, vm = self.start(d, 'lg')
        st = os.stat(shm)
        self.assertNotEqual(st.st_ino, planted)
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o777, st.st_size),
                         (65534, 65534, 0o660, 32 << 20))
        with open(f'/proc/{vm["pid"]}/cmdline') as f:
            self.assertIn(f'mem-path={shm},size=32M,share=on', f.read())
        self.ok(d, 'Stop', {'name': 'lg', 'force': True})
        self.assertFalse(os.path.exists(shm))

    def test_disks_and_isos_are_handed_to_qemu_open_and_never_change_owner(self):
        d = self.start_daemon()
        disk, iso, theirs = (os.path.join(self.workdir, n)
                             for n in ('disk.img', 'install.iso', 'theirs.img'))
        for path, mode in ((disk, 0o600), (iso, 0o644), (theirs, 0o600)):
            with open(path, 'wb') as f:
                f.truncate(1 << 20)
            os.chmod(path, mode)
        os.chown(theirs, 65534, 65534)
        self.define(d, 'files', f'disks:\n  - {{path: {disk}, cache: writeback}}\n'
                                f'  - {{path: {theirs}, cache: writeback, readonly: true}}\n'
                                f'cdrom: {iso}\n')
        _, vm = self.start(d, 'files')

        def owner(path):
            st = os.stat(path)
            return st.st_uid, st.st_mode & 0o777
        before = [(0, 0o600), (0, 0o644), (65534, 0o600)]
        self.assertEqual([owner(p) for p in (disk, iso, theirs)], before)
        with open(f'/proc/{vm["pid"]}/cmdline') as f:
            argv = f.read().split('\0')
        # QEMU (nobody) has them open although it may not open the root-only disk by name
        self.assertIn('file=/dev/fdset/1,if=none,id=disk0,format=raw,cache=writeback', argv)
        self.assertIn('fd=3', ''.join(argv))
        held = {os.readlink(f'/proc/{vm["pid"]}/fd/{fd}')
                for fd in os.listdir(f'/proc/{vm["pid"]}/fd')}
        self.assertLessEqual({disk, iso, theirs}, held)
        self.ok(d, 'Stop', {'name': 'files', 'force': True})
        self.assertEqual([owner(p) for p in (disk, iso, theirs)], before)

        # A file that is not there is said before QEMU starts, and nothing is left.
        os.unlink(iso)
        reply = self.call(d, 'Start', {'name': 'files'})
        self.assertError(reply, VMS + 'StartFailed', iso, 'No such file')
        self.assertEqual(owner(disk), (0, 0o600))
        self.assertNothingLeft('files')

    def test_logs_for_those_who_may_control_it(self):
        """Logs: QEMU's output (SeaBIOS's banner through its debug console) for the
        owner, not for anyone else; --follow sees the next start's banner; bad
        parameters are refused and the daemon serves on."""
        d = self.start_daemon()
        self.define(d, 'talks', 'owner: daemon\nqemu-args:\n  - -chardev\n'
                                '  - stdio,id=seabios\n  - -device\n'
                                '  - isa-debugcon,iobase=0x402,chardev=seabios\n')
        self.start(d, 'talks')

        def banner_lines():
            reply = self.ok(d, 'Logs', {'name': 'talks', 'lines': 1000})
            return [e for e in reply['entries'] if 'SeaBIOS' in e['message']]
        wait_for(lambda: banner_lines(), what="SeaBIOS's banner in the VM's log")
        entry = banner_lines()[0]
        self.assertEqual(entry['source'], 'qemu')
        owner = vfioctl('--socket', d.socket, 'logs', 'talks', '-n', '1000', user='daemon')
        self.assertEqual(owner.returncode, 0, owner.stderr)
        self.assertIn('SeaBIOS', owner.stdout, owner)
        other = vfioctl('--socket', d.socket, 'logs', 'talks', user='nobody')
        self.assertNotEqual(other.returncode, 0)
        self.assertIn('owner', other.stderr)
        self.assertNotIn('SeaBIOS', other.stdout)

        # Follow, as the owner: the next start's banner arrives on its own.
        follower = subprocess.Popen([vfioctl_for_others(), '--socket', d.socket, 'logs', '-f',
                                     '-n', '0', 'talks'], user='daemon',
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(0.5)
            self.ok(d, 'Stop', {'name': 'talks', 'force': True})
            self.start(d, 'talks')
            seen = []

            def read_banner():
                line = follower.stdout.readline()
                seen.append(line)
                return 'SeaBIOS' in line
            reader = threading.Thread(target=lambda: wait_for(read_banner, timeout=30,
                                                              what='a followed banner'))
            reader.start()
            reader.join(40)
            self.assertTrue(any('SeaBIOS' in line for line in seen), seen)
        finally:
            follower.kill()
            follower.wait(10)

        self.assertError(self.call(d, 'Logs', {'name': 'talks', 'lines': -1}),
                         'org.varlink.service.InvalidParameter')
        self.assertError(self.call(d, 'Logs', {'name': 'talks', 'lines': 1001}),
                         'org.varlink.service.InvalidParameter')
        self.assertError(self.call(d, 'Logs', {'name': 'talks', 'follow': True}),
                         'org.varlink.service.InvalidParameter')
        self.assertError(self.call(d, 'Logs', {'name': 'nope'}), VMS + 'NoSuchVM')
        self.assertEqual(self.ok(d, 'Get', {'name': 'talks'})['vm']['state'], 'running')
        self.ok(d, 'Stop', {'name': 'talks', 'force': True})

    def test_logs_are_read_off_the_loop(self):
        """Logs opens the journal (its directories and every file: milliseconds, more with a
        large journal on a slow disk) and reads the last lines on a worker: with each
        journal directory taking 300 ms to open (the slow disk of slow_fsync.c), no dispatch
        is held past the budget (the loop check) and a Get is answered meanwhile."""
        env = slow_disk_env(journal_ms=300)
        if env is None:
            self.skipTest('tests/integration/slow_fsync.c is not built ($LIBVFIO_SLOW_FSYNC)')
        d = self.daemon(config=self.config, args=['--runtime-dir', self.run_dir], env=env)
        self.define(d, 'quiet')
        with Varlink(d.socket, timeout=60) as logs:
            logs.send(VMS + 'Logs', {'name': 'quiet'})
            time.sleep(0.05)  # the Logs call is under way
            began = time.monotonic()
            self.assertEqual(self.ok(d, 'Get', {'name': 'quiet'})['vm']['state'], 'defined')
            answered = time.monotonic() - began
            reply = logs.receive()
        self.assertEqual(reply.get('parameters', {}).get('entries'), [], reply)
        self.assertLess(answered, 0.25, 'Get waited for the journal')

    def test_the_vms_directories_are_roots(self):
        """QEMU's user writes only in swtpm's state directory: it cannot plant an
        entry the daemon later opens, and makes no socket anywhere."""
        d = self.start_daemon()
        self.ok(d, 'Define', {'definition': 'name: dirs\nmemory: 64M\ncpus: 1\n'
                                            'firmware: uefi\nnetwork: none\ntpm: true\n'})
        _, vm = self.start(d, 'dirs')
        run = os.path.join(self.run_dir, 'vms', 'dirs')
        state = os.path.join(self.workdir, 'state', 'vms', 'dirs')

        def who(path):
            st = os.lstat(path)
            return st.st_uid, st.st_mode & 0o7777
        self.assertEqual({p: who(p) for p in (run, state, state + '/tpm',
                                              state + '/OVMF_VARS.fd')},
                         {run: (0, 0o711), state: (0, 0o711), state + '/tpm': (65534, 0o700),
                          state + '/OVMF_VARS.fd': (0, 0o600)})
        self.assertFalse(os.path.exists(run + '/qemu'))
        # The screen: the daemon's socket, root's for a VM without owner.
        self.assertEqual(who(run + '/vnc.sock'), (0, 0o600))
        self.assertEqual(who(run + '/swtpm.sock'), (65534, 0o600))
        for where in (run, state):
            script = f'open({where!r} + "/planted", "w")'
            planted = subprocess.run(['/usr/bin/python3', '-c', script], user=65534,
                                     capture_output=True, text=True)
            self.assertIn('PermissionError', planted.stderr)
        self.ok(d, 'Stop', {'name': 'dirs', 'force': True})
        self.assertNothingLeft('dirs')
        self.assertFalse(os.path.exists(run + '/vnc.sock'))

    def test_the_owner_sees_the_screen(self):
        """The VM's VNC socket is its owner's: the owner (and root) get QEMU's VNC
        server on it, handed over QMP; anyone else cannot connect, a member of
        access.group neither."""
        d = self.start_daemon('access:\n  group: bin\n')
        self.ok(d, 'Define', {'definition': 'name: screen\nmemory: 64M\ncpus: 1\n'
                                            'firmware: bios\nnetwork: none\nowner: daemon\n'})
        _, vm = self.start(d, 'screen')
        got = self.ok(d, 'Get', {'name': 'screen'})['vm']
        path = os.path.join(self.run_dir, 'vms', 'screen', 'vnc.sock')
        self.assertEqual(got.get('display'), path)
        st = os.lstat(path)
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (pwd.getpwnam('daemon').pw_uid, 0o600))
        greet = ('import socket,sys\n'
                 's=socket.socket(socket.AF_UNIX)\n'
                 'try:\n s.connect(sys.argv[1])\n'
                 'except OSError as e:\n print(type(e).__name__); sys.exit()\n'
                 's.settimeout(10)\nprint(s.recv(12).decode().strip())\n')
        for user, expected in (('daemon', 'RFB 003.008'), ('root', 'RFB 003.008'),
                               ('bin', 'PermissionError'), ('nobody', 'PermissionError')):
            r = subprocess.run(['/usr/bin/python3', '-c', greet, path], user=user,
                               group=pwd.getpwnam(user).pw_gid, extra_groups=[],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.stdout.strip(), expected, f'{user}: {r.stderr}')
        # Several viewers at once, each its own client of QEMU's VNC server.
        clients = []
        for _ in range(3):
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            s.settimeout(10)
            clients.append(s)
        for s in clients:
            self.assertEqual(s.recv(12), b'RFB 003.008\n')
            s.close()
        self.ok(d, 'Stop', {'name': 'screen', 'force': True})
        self.assertFalse(os.path.exists(path))
        self.assertIsNone(self.ok(d, 'Get', {'name': 'screen'})['vm'].get('display'))

    def test_forced_stop_and_kill(self):
        d = self.start_daemon()
        self.define(d, 'quick')
        _, vm = self.start(d, 'quick')
        began = time.monotonic()
        stopped = self.ok(d, 'Stop', {'name': 'quick', 'force': True})
        vm = stopped['vm']
        self.assertEqual(stopped['ended'], 'quit')
        self.assertLess(time.monotonic() - began, 5)
        self.assertEqual(vm['state'], 'stopped')
        self.assertNothingLeft('quick')

        _, vm = self.start(d, 'quick')
        pid = vm['pid']
        killed = self.ok(d, 'Kill', {'name': 'quick'})
        vm = killed['vm']
        self.assertEqual(killed['ended'], 'killed')
        self.assertEqual(vm['state'], 'stopped')
        self.assertFalse(pid_alive(pid))
        self.assertNothingLeft('quick')
        self.assertDaemonServes(d)

    def test_reset_and_reboot(self):
        # A second monitor for the test sees what QEMU does.
        own = os.path.join(self.workdir, 'own')
        os.mkdir(own)
        os.chown(own, 65534, 65534)
        monitor = os.path.join(own, 'qmp.sock')
        d = self.start_daemon()
        self.define(d, 'bouncy', f'qemu-args: [-qmp, "unix:{monitor},server=on,wait=off"]\n')
        self.assertError(self.call(d, 'Reset', {'name': 'bouncy'}), VMS + 'WrongState',
                         'only a running VM')
        self.assertError(self.call(d, 'Reboot', {'name': 'bouncy'}), VMS + 'WrongState')
        _, vm = self.start(d, 'bouncy')
        pid = vm['pid']
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(monitor)
            s.settimeout(10)
            events = s.makefile('r')
            events.readline()  # the greeting
            s.sendall(b'{"execute": "qmp_capabilities"}\n')
            self.assertIn('return', json.loads(events.readline()))

            def next_event(name):
                while True:
                    message = json.loads(events.readline())
                    if message.get('event') == name:
                        return message

            vm = self.ok(d, 'Reset', {'name': 'bouncy'})['vm']
            self.assertEqual((vm['state'], vm['pid']), ('running', pid))
            self.assertEqual(next_event('RESET')['data']['guest'], False)
            # No OS answers the power button: the call is accepted, the VM runs on.
            vm = self.ok(d, 'Reboot', {'name': 'bouncy'})['vm']
            self.assertEqual((vm['state'], vm['pid']), ('running', pid))
            self.assertEqual(next_event('POWERDOWN')['event'], 'POWERDOWN')
            time.sleep(1)
            vm = self.ok(d, 'Get', {'name': 'bouncy'})['vm']
            self.assertEqual((vm['state'], vm['pid'], vm['qmpStatus']),
                             ('running', pid, 'running'))
            events.close()
        # a stop after an unanswered reboot is a stop: QEMU exits, it does not pause
        stopped = self.ok(d, 'Stop', {'name': 'bouncy', 'timeoutSeconds': 1})
        self.assertEqual((stopped['vm']['state'], stopped['ended']), ('stopped', 'quit'))
        self.assertFalse(pid_alive(pid))
        self.assertNothingLeft('bouncy')

    def test_a_reboot_resets_a_guest_that_powers_off_and_a_power_off_still_ends_it(self):
        own = os.path.join(self.workdir, 'own')
        os.mkdir(own)
        os.chown(own, 65534, 65534)
        monitor = os.path.join(own, 'qmp.sock')
        # a reboot the guest does not answer is given up after the stop timeout
        self.config = self.config.replace('stop-timeout: 30s', 'stop-timeout: 5s')
        d = self.start_daemon()
        self.define(d, 'acpi', f'qemu-args: [-qmp, "unix:{monitor},server=on,wait=off"]\n')

        def power_off_and_watch(until):
            """Plays a guest that powers off: SLP_EN with SLP_TYP 0 written to PM1a_CNT
            (q35's PM base 0x600, which SeaBIOS set up); returns the events seen."""
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(monitor)
                s.settimeout(20)
                replies = s.makefile('r')
                replies.readline()
                s.sendall(b'{"execute": "qmp_capabilities"}\n')
                self.assertIn('return', json.loads(replies.readline()))
                s.sendall(json.dumps({'execute': 'human-monitor-command', 'arguments': {
                    'command-line': 'o /w 0x604 0x2000'}}).encode() + b'\n')
                seen = []
                try:
                    while until not in seen:
                        line = replies.readline()
                        if not line:
                            break
                        message = json.loads(line)
                        if 'event' in message:
                            seen.append(message['event'])
                finally:
                    replies.close()
                return seen

        _, vm = self.start(d, 'acpi')
        pid = vm['pid']
        time.sleep(2)  # SeaBIOS has set up the ACPI registers
        self.ok(d, 'Reboot', {'name': 'acpi'})
        events = power_off_and_watch('RESUME')
        self.assertEqual([e for e in events if e in ('SHUTDOWN', 'RESET', 'RESUME')],
                         ['SHUTDOWN', 'RESET', 'RESUME'], d.output())
        # the daemon's cont after the reset (QMP's status says running all along: the
        # shutdown's pause is not shown as one)
        wait_for(lambda: 'VM acpi rebooted' in d.output(), what='the guest to run again')
        vm = self.ok(d, 'Get', {'name': 'acpi'})['vm']
        self.assertEqual((vm['state'], vm['pid'], vm['qmpStatus']), ('running', pid, 'running'))
        # no reboot asked: the guest's power-off ends the VM, stopped
        time.sleep(1)
        power_off_and_watch('SHUTDOWN')
        wait_for(lambda: self.ok(d, 'Get', {'name': 'acpi'})['vm']['state'] == 'stopped',
                 what='the VM to end')
        self.assertFalse(pid_alive(pid))
        self.assertIsNone(self.ok(d, 'Get', {'name': 'acpi'})['vm'].get('problem'))
        self.assertNothingLeft('acpi')
        # a reboot not answered within the stop timeout (5 s) is given up: the guest's
        # power-off later ends the VM, as if no reboot had been asked
        _, vm = self.start(d, 'acpi')
        time.sleep(2)
        self.ok(d, 'Reboot', {'name': 'acpi'})
        wait_for(lambda: 'did not answer the reboot in time' in d.output(), timeout=30,
                 what='the reboot to be given up')
        power_off_and_watch('SHUTDOWN')
        wait_for(lambda: self.ok(d, 'Get', {'name': 'acpi'})['vm']['state'] == 'stopped',
                 what='the VM to end')
        self.assertFalse(pid_alive(vm['pid']))
        # a stop the guest answers in time: exit 0, nothing on stderr, ended "shutdown"
        _, vm = self.start(d, 'acpi')
        time.sleep(2)
        stop = subprocess.Popen([VFIOCTL, '--socket', d.socket, '--json', 'stop', 'acpi',
                                 '--timeout', '60'], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        wait_for(lambda: self.ok(d, 'Get', {'name': 'acpi'})['vm']['state'] == 'stopping',
                 what='the stop to begin')
        power_off_and_watch('SHUTDOWN')
        out, err = stop.communicate(timeout=30)
        self.assertEqual((stop.returncode, err), (0, ''), out)
        self.assertEqual(json.loads(out)['ended'], 'shutdown')
        self.assertFalse(pid_alive(vm['pid']))

    def test_qemu_killed_from_outside_is_a_crash(self):
        d = self.start_daemon()
        self.define(d, 'victim')
        _, vm = self.start(d, 'victim')
        os.kill(vm['pid'], signal.SIGKILL)
        wait_for(lambda: self.ok(d, 'Get', {'name': 'victim'})['vm']['state'] == 'crashed',
                 what='the VM to be seen crashed')
        vm = self.ok(d, 'Get', {'name': 'victim'})['vm']
        self.assertIn('signal 9', vm['problem'])
        self.assertIsNone(vm.get('pid'))
        self.assertNothingLeft('victim')
        # and it starts again
        _, vm = self.start(d, 'victim')
        self.assertEqual(vm['state'], 'running')
        self.assertIsNone(vm.get('problem'))
        self.ok(d, 'Stop', {'name': 'victim', 'force': True})

    def test_qemu_ending_by_itself_cleanly_is_a_stop(self):
        # A second monitor for the test plays the guest powering off: QEMU quits, status 0.
        own = os.path.join(self.workdir, 'own')
        os.mkdir(own)
        os.chown(own, 65534, 65534)
        monitor = os.path.join(own, 'qmp.sock')
        d = self.start_daemon()
        self.define(d, 'tidy',
                    f'qemu-args: [-qmp, "unix:{monitor},server=on,wait=off"]\n')
        self.start(d, 'tidy')
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(monitor)
            replies = s.makefile('r')
            replies.readline()  # the greeting
            s.sendall(b'{"execute": "qmp_capabilities"}\n')
            self.assertIn('return', json.loads(replies.readline()))
            s.sendall(b'{"execute": "quit"}\n')
            replies.readline()  # the SHUTDOWN event or the reply, as QEMU goes
            replies.close()
        wait_for(lambda: self.ok(d, 'Get', {'name': 'tidy'})['vm']['state'] == 'stopped',
                 what='the VM to be seen stopped')
        vm = self.ok(d, 'Get', {'name': 'tidy'})['vm']
        self.assertEqual((vm.get('problem'), vm.get('pid')), (None, None))
        self.assertNothingLeft('tidy')

    def test_watch_sees_every_state(self):
        d = self.start_daemon()
        self.define(d, 'seen')
        seen = []
        with Varlink(d.socket, timeout=60) as watch:
            watch.send(VMS + 'Watch', {}, more=True)
            first = watch.receive()
            self.assertEqual(first['parameters']['vm']['name'], 'seen')
            self.start(d, 'seen')
            self.ok(d, 'Stop', {'name': 'seen', 'force': True})
            while not seen or seen[-1] != 'stopped':
                reply = watch.receive()
                self.assertTrue(reply.get('continues'), reply)
                seen.append(reply['parameters']['vm']['state'])
        self.assertEqual(seen, ['starting', 'running', 'stopping', 'stopped'])
        # the watcher left: the daemon notices at the next change and goes on
        self.start(d, 'seen')
        self.ok(d, 'Stop', {'name': 'seen', 'force': True})
        self.assertDaemonServes(d)
        # a VM that goes away is said once, as undefined
        with Varlink(d.socket, timeout=60) as watch:
            watch.send(VMS + 'Watch', {}, more=True)
            self.assertEqual(watch.receive()['parameters']['vm']['state'], 'stopped')
            self.ok(d, 'Undefine', {'name': 'seen'})
            gone = watch.receive()['parameters']['vm']
            self.assertEqual((gone['name'], gone['state']), ('seen', 'undefined'))
        self.assertError(self.call(d, 'Watch'), 'org.varlink.service.ExpectedMore')


class RestartTest(VmTestCase):
    def test_daemon_killed_and_restarted_readopts_the_running_vm(self):
        d = self.start_daemon()
        self.define(d, 'survivor')
        _, vm = self.start(d, 'survivor')
        pid = vm['pid']
        d.stop(signal.SIGKILL)
        self.assertTrue(pid_alive(pid), 'QEMU must outlive the daemon')

        d = self.start_daemon()
        vm = self.ok(d, 'Get', {'name': 'survivor'})['vm']
        self.assertEqual((vm['state'], vm['pid']), ('running', pid))
        wait_for(lambda: self.ok(d, 'Get', {'name': 'survivor'})['vm'].get('qmpStatus') == 'running',
                 what='QMP to be reconnected')
        # its screen is there again, through the new daemon
        display = self.ok(d, 'Get', {'name': 'survivor'})['vm']['display']
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(display)
            self.assertEqual(s.recv(12), b'RFB 003.008\n')
        # never started twice
        self.assertError(self.call(d, 'Start', {'name': 'survivor'}), VMS + 'WrongState')
        vm = self.ok(d, 'Stop', {'name': 'survivor', 'force': True})['vm']
        self.assertEqual(vm['state'], 'stopped')
        self.assertFalse(pid_alive(pid))
        self.assertNothingLeft('survivor')

    def test_daemon_stopped_while_a_client_waits(self):
        d = self.start_daemon()
        self.define(d, 'waited')
        _, vm = self.start(d, 'waited')
        with Varlink(d.socket, timeout=60) as v:
            # no OS answers the power button: the stop waits its 30 s
            v.send(VMS + 'Stop', {'name': 'waited', 'timeoutSeconds': 30})
            time.sleep(0.2)
            self.assertEqual(d.stop(signal.SIGTERM), 0, d.output())
            reply = v.receive()
        self.assertError(reply, 'io.libvfio.Manager.InternalError', 'libvfiod is stopping')
        self.assertTrue(pid_alive(vm['pid']))
        d = self.start_daemon()
        self.assertEqual(self.ok(d, 'Get', {'name': 'waited'})['vm']['state'], 'running')
        self.ok(d, 'Stop', {'name': 'waited', 'force': True})

    def test_vm_that_ended_while_the_daemon_was_down(self):
        d = self.start_daemon()
        disk = os.path.join(self.workdir, 'lost.img')
        with open(disk, 'wb') as f:
            f.truncate(1 << 20)
        os.chmod(disk, 0o600)
        self.define(d, 'lost', f'disks: [{{path: {disk}, cache: writeback}}]\n')
        _, vm = self.start(d, 'lost')
        d.stop(signal.SIGKILL)
        # Ended as the kernel tells it through a pidfd (as the daemon looks): all of its
        # threads gone, not only the first one a zombie while the others still tear down.
        pidfd = os.pidfd_open(vm['pid'])
        os.kill(vm['pid'], signal.SIGKILL)
        self.assertTrue(select.select([pidfd], [], [], 30)[0], 'QEMU did not end')
        os.close(pidfd)
        d = self.start_daemon()
        vm = self.ok(d, 'Get', {'name': 'lost'})['vm']
        self.assertEqual(vm['state'], 'crashed')
        self.assertIn('not running', vm['problem'])
        self.assertNothingLeft('lost')
        self.assertEqual(os.stat(disk).st_uid, 0, 'the disk is given back by the next daemon')

    def test_a_start_cut_short_by_the_daemons_death_is_undone(self):
        # What a daemon killed between lending a disk and spawning QEMU leaves behind.
        disk = os.path.join(self.workdir, 'half.img')
        with open(disk, 'wb') as f:
            f.truncate(1 << 20)
        os.chown(disk, 65534, 65534)
        os.chmod(disk, 0o600)
        os.makedirs(self.vm_dir)
        with open(os.path.join(self.vm_dir, 'half.yaml'), 'w') as f:
            f.write(definition('half'))
        records = os.path.join(self.run_dir, 'vms')
        os.makedirs(records)
        with open(os.path.join(records, 'half.json'), 'w') as f:
            json.dump({'name': 'half', 'pid': 0, 'startTime': 0, 'startedAtUsec': 0,
                       'partitions': [],
                       'lent': [{'path': disk, 'uid': 0, 'gid': 0, 'mode': 0o640}]}, f)
        d = self.start_daemon()
        st = os.stat(disk)
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o777), (0, 0, 0o640))
        vm = self.ok(d, 'Get', {'name': 'half'})['vm']
        self.assertEqual((vm['state'], vm['problem']),
                         ('failed', 'Its start was cut short: libvfiod stopped before QEMU ran. '
                          'Start it again.'))
        self.assertNothingLeft('half')

    def test_helpers_left_by_a_dead_daemon_are_ended(self):
        """The daemon killed after starting swtpm, and QEMU gone before it connected
        to it: swtpm would wait for ever. The next daemon, cleaning up after that VM,
        finds it by the LIBVFIO_VM= its environment holds and ends it."""
        slow = os.path.join(self.workdir, 'slow-qemu')
        with open(slow, 'w') as f:  # a QEMU that takes its time to start
            f.write('#!/bin/sh\nsleep 30\nexec qemu-system-x86_64 "$@"\n')
        os.chmod(slow, 0o755)

        def helpers():
            found = []
            for pid in filter(str.isdigit, os.listdir('/proc')):
                try:
                    with open(f'/proc/{pid}/environ', 'rb') as f:
                        if b'LIBVFIO_VM=orphan\0' in f.read() + b'\0':
                            found.append(int(pid))
                except OSError:
                    pass
            return found
        d = self.start_daemon(f'qemu-binary: {slow}\n')
        self.define(d, 'orphan', 'tpm: true\n')
        with Varlink(d.socket, timeout=60) as v:
            v.send(VMS + 'Start', {'name': 'orphan'}, more=True)
            while True:
                reply = v.receive()
                pid = reply['parameters']['vm'].get('pid')
                if reply['parameters']['phase'] == 'connecting':
                    break
        d.stop(signal.SIGKILL)
        os.kill(pid, signal.SIGKILL)  # QEMU never got to swtpm
        left = helpers()
        self.assertEqual(len(left), 1, 'swtpm waits, with nobody to connect')

        d = self.start_daemon()
        wait_for(lambda: self.ok(d, 'Get', {'name': 'orphan'})['vm']['state'] == 'crashed',
                 what='the dead start to be cleaned up')
        wait_for(lambda: not helpers(), what='the stray swtpm to be ended')
        self.assertIn(f'VM orphan: ended pid {left[0]}, a helper left by a daemon', d.output())
        self.assertNothingLeft('orphan')

    def test_daemon_killed_before_the_guest_ran(self):
        """Killed after spawning QEMU but before its cont: QEMU waits in prelaunch
        for ever. The next daemon fails that start: QEMU is killed, everything is
        given back, and status says why."""
        slow = os.path.join(self.workdir, 'slow-qemu')
        with open(slow, 'w') as f:  # QEMU, a second late: the daemon dies before it answers
            f.write('#!/bin/sh\nsleep 1\nexec qemu-system-x86_64 "$@"\n')
        os.chmod(slow, 0o755)
        d = self.start_daemon(f'qemu-binary: {slow}\n')
        self.define(d, 'early')
        with Varlink(d.socket, timeout=60) as v:
            v.send(VMS + 'Start', {'name': 'early'}, more=True)
            while True:
                reply = v.receive()
                pid = reply['parameters']['vm'].get('pid')
                if reply['parameters']['phase'] == 'connecting':
                    break
        self.assertTrue(pid)
        self.qemu_pids.add(pid)
        d.stop(signal.SIGKILL)
        time.sleep(1.5)  # QEMU is up now, stopped before the guest's first instruction
        self.assertTrue(pid_alive(pid))

        d = self.start_daemon()
        wait_for(lambda: self.ok(d, 'Get', {'name': 'early'})['vm']['state'] == 'failed',
                 what='the cut-short start to be undone')
        vm = self.ok(d, 'Get', {'name': 'early'})['vm']
        self.assertEqual(vm['problem'], 'Its start was cut short: libvfiod stopped before the '
                         'guest ran. Start it again.')
        wait_for(lambda: not pid_alive(pid), what='QEMU to be killed')
        self.assertNothingLeft('early')
        self.assertIn('VM early did not start: Its start was cut short', d.output())
        # and it starts again for real
        _, vm = self.start(d, 'early')
        self.assertEqual(vm['state'], 'running')
        self.ok(d, 'Stop', {'name': 'early', 'force': True})

    def test_autostart_on_the_first_start_since_boot(self):
        d = self.start_daemon()
        self.define(d, 'early', 'autostart: true\n')
        self.define(d, 'late')
        d.stop()
        # a fresh runtime directory is a fresh boot
        fresh = os.path.join(self.workdir, 'run2')
        d = self.daemon(config=self.config, args=['--runtime-dir', fresh])
        wait_for(lambda: self.ok(d, 'Get', {'name': 'early'})['vm']['state'] == 'running',
                 what='the autostart VM to run')
        self.assertEqual(self.ok(d, 'Get', {'name': 'late'})['vm']['state'], 'defined')
        # a daemon restart is not a boot: nothing more is started
        self.ok(d, 'Stop', {'name': 'early', 'force': True})
        d.stop()
        d = self.daemon(config=self.config, args=['--runtime-dir', fresh])
        time.sleep(0.3)
        self.assertEqual(self.ok(d, 'Get', {'name': 'early'})['vm']['state'], 'stopped')


class ConcurrencyTest(VmTestCase):
    def test_two_clients_start_the_same_vm_at_once(self):
        d = self.start_daemon()
        self.define(d, 'once')
        connections = [Varlink(d.socket, timeout=60) for _ in range(2)]
        try:
            for c in connections:
                c.send(VMS + 'Start', {'name': 'once'})
            replies = [c.receive() for c in connections]
        finally:
            for c in connections:
                c.close()
        ok = [r for r in replies if 'error' not in r]
        refused = [r for r in replies if 'error' in r]
        self.assertEqual(len(ok), 1, replies)
        self.qemu_pids.add(ok[0]['parameters']['vm']['pid'])
        self.assertEqual(refused[0]['error'], VMS + 'WrongState')
        out = subprocess.run(['pgrep', '-f', f'guest=once,'], capture_output=True, text=True)
        self.assertEqual(len(out.stdout.split()), 1, out.stdout)
        self.ok(d, 'Stop', {'name': 'once', 'force': True})


class FailureTest(VmTestCase):
    def test_gpu_that_is_not_there(self):
        # A fixture host: the daemon there may raise QEMU's locked-memory limit (this
        # machine's root may not), so the missing GPU is what the start stops at.
        sim = self.simulated('intel-gvt-laptop')
        d = self.start_daemon(args=['--sysfs-root', sim.root])
        self.addCleanup(d.stop)
        self.define(d, 'ghost', 'gpu:\n  - mode: passthrough\n    address: 0000:7f:1f.7\n')
        reply = self.call(d, 'Start', {'name': 'ghost'})
        self.assertError(reply, 'io.libvfio.Partitions.NoSuchGPU', '0000:7f:1f.7')
        vm = self.ok(d, 'Get', {'name': 'ghost'})['vm']
        self.assertEqual((vm['state'], vm['partitions']), ('failed', []))
        self.assertNothingLeft('ghost')
        self.assertDaemonServes(d)

    def test_a_failed_start_is_failed_and_stays_so_across_a_restart(self):
        d = self.start_daemon()
        missing = os.path.join(self.workdir, 'no-such-disk.qcow2')
        self.define(d, 'broken', f'disks: [{{path: {missing}}}]\n')
        self.define(d, 'fine')
        reply = self.call(d, 'Start', {'name': 'broken'})
        self.assertError(reply, VMS + 'StartFailed', missing)
        reason = reply['parameters']['message']
        vm = self.ok(d, 'Get', {'name': 'broken'})['vm']
        self.assertEqual((vm['state'], vm.get('problem'), vm.get('pid')), ('failed', reason, None))
        self.assertNothingLeft('broken')
        result = vfioctl('status', 'broken', socket_path=d.socket)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout, r'State: +failed')
        self.assertIn(missing, result.stdout)
        shown = json.loads(vfioctl('--json', 'status', 'broken', socket_path=d.socket).stdout)
        self.assertEqual((shown['vm']['state'], shown['vm']['problem']), ('failed', reason))
        self.start(d, 'fine')
        self.ok(d, 'Stop', {'name': 'fine', 'force': True})

        # a daemon that restarts says the same, not "defined"
        d.stop()
        d = self.start_daemon()
        vms = {vm['name']: vm for vm in self.ok(d, 'List')['vms']}
        self.assertEqual((vms['broken']['state'], vms['broken']['problem']), ('failed', reason))
        self.assertEqual((vms['fine']['state'], vms['fine'].get('problem')), ('stopped', None))
        states = os.path.join(self.run_dir, 'vm-states')
        self.assertEqual(os.stat(states).st_mode & 0o777, 0o700)
        self.assertEqual(sorted(os.listdir(states)), ['broken.json', 'fine.json'])
        # a damaged record is not believed: the VM is as if never started
        with open(os.path.join(states, 'fine.json'), 'w') as f:
            f.write('{"name": "fine", "state": "running", "atUsec": 0}')
        # removing the definition removes its record, and a new one starts afresh
        self.ok(d, 'Undefine', {'name': 'broken'})
        self.assertEqual(os.listdir(states), ['fine.json'])
        d.stop()
        d = self.start_daemon()
        self.assertIn('bad state', d.output())
        self.define(d, 'broken')
        vms = {vm['name']: vm for vm in self.ok(d, 'List')['vms']}
        self.assertEqual((vms['broken']['state'], vms['broken'].get('problem')), ('defined', None))
        self.assertEqual(vms['fine']['state'], 'defined')

    def test_definitions_that_are_links_or_not_roots_are_not_read(self):
        """The daemon is root: a link in the VMs directory to a root-only file would
        show that file's first key to anyone who lists the VMs."""
        d = self.start_daemon()
        self.define(d, 'plain')
        secret = os.path.join(self.workdir, 'secret.yaml')
        with open(secret, 'w') as f:
            f.write('topsecretkey: x\n')
        os.chmod(secret, 0o600)
        os.symlink(secret, os.path.join(self.vm_dir, 'linked.yaml'))
        foreign = os.path.join(self.vm_dir, 'foreign.yaml')
        with open(foreign, 'w') as f:
            f.write(definition('foreign'))
        os.chown(foreign, 65534, 65534)
        open_to_all = os.path.join(self.vm_dir, 'open.yaml')
        with open(open_to_all, 'w') as f:
            f.write(definition('open'))
        os.chmod(open_to_all, 0o666)
        vms = {vm['name']: vm for vm in self.ok(d, 'List')['vms']}
        listing = json.dumps(vms)
        self.assertNotIn('topsecretkey', listing)
        self.assertIn('a symbolic link', vms['linked']['problem'])
        self.assertIn('not a regular file owned by root', vms['foreign']['problem'])
        self.assertIn('not a regular file owned by root', vms['open']['problem'])
        self.assertIsNone(vms['plain'].get('problem'))
        reply = self.call(d, 'Start', {'name': 'linked'})
        self.assertError(reply, VMS + 'InvalidDefinition', 'a symbolic link')
        self.assertNotIn('topsecretkey', json.dumps(reply))
        self.assertIn('Not reading', d.output())
        self.assertIn('it is a symbolic link', d.output())

    def test_qemu_refusing_its_arguments(self):
        d = self.start_daemon()
        self.define(d, 'picky', 'qemu-args: [-no-such-option]\n')
        reply = self.call(d, 'Start', {'name': 'picky'})
        self.assertError(reply, VMS + 'StartFailed', 'status 1', 'no-such-option')
        vm = self.ok(d, 'Get', {'name': 'picky'})['vm']
        self.assertEqual(vm['state'], 'failed')
        self.assertIn('no-such-option', vm['problem'])
        self.assertNothingLeft('picky')
        # Fixed, started, then killed: its problem is this run's, not the old complaint
        # that is still in the log file.
        self.define(d, 'picky')
        _, vm = self.start(d, 'picky')
        os.kill(vm['pid'], signal.SIGKILL)
        wait_for(lambda: self.ok(d, 'Get', {'name': 'picky'})['vm']['state'] == 'crashed',
                 what='the crash')
        self.assertEqual(self.ok(d, 'Get', {'name': 'picky'})['vm']['problem'],
                         'QEMU was killed by signal 9 (KILL)')

    def test_missing_qemu_user_and_binary(self):
        cfg = self.config.replace('qemu-user: nobody', 'qemu-user: no-such-user-here')
        d = self.daemon(config=cfg, args=['--runtime-dir', self.run_dir])
        self.define(d, 'orphan')
        self.assertError(self.call(d, 'Start', {'name': 'orphan'}), VMS + 'StartFailed',
                         'no-such-user-here', 'does not exist')
        d.stop()
        d = self.daemon(config=self.config + 'qemu-binary: /nonexistent/qemu\n',
                        args=['--runtime-dir', self.run_dir])
        self.assertError(self.call(d, 'Start', {'name': 'orphan'}), VMS + 'StartFailed',
                         '/nonexistent/qemu', 'not found')
        self.assertNothingLeft('orphan')

    def test_audio_reaches_the_owners_sound_server_as_the_owner(self):
        # The owner's runtime directory as logind makes it, with a sound server socket
        # that notes who connects (it speaks no PulseAudio: QEMU then gives up).
        user_run = os.path.join(self.workdir, 'user-run')
        pulse = os.path.join(user_run, '65534', 'pulse')
        os.makedirs(pulse)
        for path in (os.path.dirname(pulse), pulse):
            os.chown(path, 65534, 65534)
            os.chmod(path, 0o700)
        server = socket.socket(socket.AF_UNIX)
        self.addCleanup(server.close)
        server.bind(os.path.join(pulse, 'native'))
        os.chown(os.path.join(pulse, 'native'), 65534, 65534)
        server.listen(4)
        seen = []

        def serve():
            connection, _ = server.accept()
            with connection:
                credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                    struct.calcsize('3i'))
                pid, uid, _ = struct.unpack('3i', credentials)
                exe = os.path.basename(os.readlink(f'/proc/{pid}/exe'))
                seen.append((uid, exe, connection.recv(4)))
        threading.Thread(target=serve, daemon=True).start()

        d = self.start_daemon(f'  user-runtime-dir: {user_run}\n')
        self.define(d, 'sound', 'audio: pipewire\nowner: nobody\n')
        reply = self.call(d, 'Start', {'name': 'sound'})
        self.assertError(reply, VMS + 'StartFailed', 'PA')
        # QEMU (as nobody here too) got through, and the server saw the owner connect
        # with the PulseAudio protocol's first bytes, from the relay program (exec'd:
        # no copy of the daemon's memory in the owner's process).
        self.assertEqual(seen, [(65534, 'libvfio-audio-relay', b'\x00\x00\x01\x14')])
        # the relay ends with the VM
        wait_for(lambda: subprocess.run(['pgrep', '-f', '--', f'libvfio-audio-relay {pulse}'],
                                        capture_output=True).returncode == 1,
                 what='the audio relay to end')
        self.assertNothingLeft('sound')

        self.define(d, 'mute', 'audio: pulseaudio\n')
        self.assertError(self.call(d, 'Start', {'name': 'mute'}), VMS + 'StartFailed',
                         "add 'owner: USER'")
        self.define(d, 'away', 'audio: pulseaudio\nowner: root\n')
        self.assertError(self.call(d, 'Start', {'name': 'away'}), VMS + 'StartFailed',
                         'root has no sound server running')
        self.assertNothingLeft('away')

    def test_bridged_network_through_a_tap_the_daemon_makes(self):
        # A network namespace of its own, with a bridge: the host's network is not touched.
        d = self.daemon(config=self.config, args=['--runtime-dir', self.run_dir], start=False)
        d.args = ['unshare', '--net', 'sh', '-c',
                  'ip link add br0 type bridge && ip link set br0 up && exec "$@"', 'sh',
                  *d.args]
        d.start()

        def ports():
            out = subprocess.run(['nsenter', '-t', str(d.process.pid), '-n', 'ip', '-o',
                                  'link', 'show', 'master', 'br0'],
                                 capture_output=True, text=True, check=True).stdout
            return [line.split(':')[1].strip() for line in out.splitlines()]

        bridged = definition('bridged').replace('network: none',
                                                'network: {mode: bridge, bridge: br0}')
        self.ok(d, 'Define', {'definition': bridged})
        _, vm = self.start(d, 'bridged')
        self.assertEqual(len(ports()), 1, ports())
        self.assertTrue(ports()[0].startswith('lvtap'))
        with open(f'/proc/{vm["pid"]}/cmdline') as f:
            # after QMP's (fd 3) and the serial console's (fd 4)
            self.assertIn('tap,id=net0,fd=5', f.read().split('\0'))
        self.ok(d, 'Stop', {'name': 'bridged', 'force': True})
        self.assertEqual(ports(), [], 'the tap goes with QEMU')

        missing = definition('nobridge').replace('network: none',
                                                 'network: {mode: bridge, bridge: nobr0}')
        self.ok(d, 'Define', {'definition': missing})
        self.assertError(self.call(d, 'Start', {'name': 'nobridge'}), VMS + 'StartFailed',
                         'no bridge nobr0')
        self.assertNothingLeft('nobridge')

    def test_qemu_as_root_only_when_configured_and_with_a_warning(self):
        cfg = self.config.replace('qemu-user: nobody', 'qemu-user: root')
        d = self.daemon(config=cfg, args=['--runtime-dir', self.run_dir])
        self.define(d, 'risky')
        _, vm = self.start(d, 'risky')
        with open(f'/proc/{vm["pid"]}/status') as f:
            self.assertIn('Uid:\t0\t', f.read())
        self.assertIn('warning: VM risky: QEMU runs as root (vms.qemu-user: root)', d.output())
        self.ok(d, 'Stop', {'name': 'risky', 'force': True})

    def test_a_qemu_that_never_answers_is_given_up(self):
        # Something that takes QEMU's place and hangs before its monitor answers.
        # It starts a child of its own first, as a wrapper would: the whole process
        # group goes when the start is given up.
        fake = os.path.join(self.workdir, 'hanging-qemu')
        drop = os.path.join(self.workdir, 'drop')
        os.mkdir(drop, 0o777)
        os.chmod(drop, 0o777)
        with open(fake, 'w') as f:
            f.write(f'#!/bin/sh\nsleep 600 &\necho $! > {drop}/child\nexec sleep 600\n')
        os.chmod(fake, 0o755)
        d = self.start_daemon(f'  start-timeout: 1s\nqemu-binary: {fake}\n')
        self.define(d, 'stuck')
        began = time.monotonic()
        reply = self.call(d, 'Start', {'name': 'stuck'})
        self.assertError(reply, VMS + 'StartFailed', 'within 1 s', 'vms.start-timeout')
        self.assertLess(time.monotonic() - began, 10)
        with open(os.path.join(drop, 'child')) as f:
            child = int(f.read())
        wait_for(lambda: not pid_alive(child), timeout=5, what="the wrapper's child to go")
        self.assertNothingLeft('stuck')
        vm = self.ok(d, 'Get', {'name': 'stuck'})['vm']
        self.assertEqual(vm['state'], 'failed')
        self.assertEqual(vm['problem'], reply['parameters']['message'])  # status says why

    def test_tpm_runs_swtpm_as_the_qemu_user(self):
        d = self.start_daemon()
        self.define(d, 'win11', 'tpm: true\n')
        _, vm = self.start(d, 'win11')
        out = subprocess.run(['pgrep', '-u', 'nobody', '-f', 'swtpm socket --tpm2'],
                             capture_output=True, text=True).stdout.split()
        self.assertEqual(len(out), 1, out)
        swtpm = int(out[0])
        with open(f'/proc/{vm["pid"]}/cmdline') as f:
            self.assertIn('tpm-crb,tpmdev=tpm', f.read().split('\0'))
        self.ok(d, 'Stop', {'name': 'win11', 'force': True})
        wait_for(lambda: not pid_alive(swtpm), what='swtpm to end with QEMU')
        # the TPM's state stays with the VM, for its next start
        state = os.path.join(self.workdir, 'state', 'vms', 'win11', 'tpm')
        self.assertIn('tpm2-00.permall', os.listdir(state))
        _, vm = self.start(d, 'win11')
        self.ok(d, 'Stop', {'name': 'win11', 'force': True})


class PlantedLinkTest(VmTestCase):
    """Links planted where someone else can write must hand nothing over: in a
    VM's state directory as QEMU's user left it by an older daemon (QEMU's
    after a guest escape), and next to a disk in a directory another user can
    write (a careless admin's setup)."""

    def secret(self):
        """A root-only file and directory, and a check that they are untouched."""
        secret = os.path.join(self.workdir, 'secret')
        with open(secret, 'w') as f:
            f.write('root only\n')
        os.chmod(secret, 0o600)
        secret_dir = os.path.join(self.workdir, 'secret.d')
        os.mkdir(secret_dir, 0o700)

        def untouched():
            for path, mode in ((secret, 0o600), (secret_dir, 0o700)):
                st = os.stat(path)
                self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o777), (0, 0, mode), path)
            with open(secret) as f:
                self.assertEqual(f.read(), 'root only\n')
        return secret, secret_dir, untouched

    def test_links_in_the_state_directory_hand_nothing_over(self):
        d = self.start_daemon()
        self.ok(d, 'Define', {'definition': 'name: victim\nmemory: 64M\ncpus: 1\n'
                                            'firmware: uefi\nnetwork: none\ntpm: true\n'})
        self.start(d, 'victim')
        self.ok(d, 'Stop', {'name': 'victim', 'force': True})
        state = os.path.join(self.workdir, 'state', 'vms', 'victim')
        secret, secret_dir, untouched = self.secret()
        for name, target in (('OVMF_VARS.fd', secret), ('tpm', secret_dir)):
            # As an older daemon left it: the directory QEMU's user's, who swaps an entry.
            os.chown(state, 65534, 65534)
            os.chmod(state, 0o700)
            planted = os.path.join(state, name)
            script = (f'import os, shutil\n'
                      f'p = {planted!r}\n'
                      f'shutil.rmtree(p) if os.path.isdir(p) else os.unlink(p)\n'
                      f'os.symlink({target!r}, p)\n')
            subprocess.run(['/usr/bin/python3', '-c', script], user=65534, check=True)
            reply = self.call(d, 'Start', {'name': 'victim'})
            self.assertError(reply, VMS + 'StartFailed', 'is a link', 'follows no link')
            untouched()
            self.assertNothingLeft('victim')
            self.assertEqual(os.stat(state).st_uid, 0, 'the directory is taken back')
            os.unlink(planted)  # as the message says: removed, it is made anew
        _, vm = self.start(d, 'victim')
        self.assertEqual(vm['state'], 'running')
        self.ok(d, 'Stop', {'name': 'victim', 'force': True})

    def test_a_disk_in_a_directory_others_can_write(self):
        d = self.start_daemon()
        secret, _, untouched = self.secret()
        shared = os.path.join(self.workdir, 'shared')
        os.mkdir(shared)
        os.chmod(shared, 0o777)
        disk = os.path.join(shared, 'disk.img')
        self.define(d, 'careless', f'disks: [{{path: {disk}, cache: writeback}}]\n'
                                   f'cdrom: {disk}\n')
        # Another user (not QEMU's) swaps the image for a link to a root-only file.
        subprocess.run(['/usr/bin/python3', '-c', f'import os; os.symlink({secret!r}, {disk!r})'],
                       user=12345, check=True)
        reply = self.call(d, 'Start', {'name': 'careless'})
        self.assertError(reply, VMS + 'StartFailed', f'{disk} is a link in a directory other '
                         'users can write', 'Name the file itself')
        untouched()
        self.assertNothingLeft('careless')
        # A second name for the root-only file (where protected_hardlinks is off).
        os.unlink(disk)
        os.link(secret, disk)
        reply = self.call(d, 'Start', {'name': 'careless'})
        self.assertError(reply, VMS + 'StartFailed', 'another name (a hard link)')
        untouched()
        self.assertNothingLeft('careless')
        # A link in a directory only root can write is the admin's own: followed.
        os.unlink(disk)
        images = os.path.join(self.workdir, 'images')
        os.mkdir(images, 0o755)
        image = os.path.join(shared, 'image.raw')
        with open(image, 'wb') as f:
            f.truncate(1 << 20)
        os.symlink(image, os.path.join(images, 'disk.img'))
        self.define(d, 'careless', f'disks: [{{path: {images}/disk.img, cache: writeback}}]\n')
        _, vm = self.start(d, 'careless')
        self.assertIn(image, {os.readlink(f'/proc/{vm["pid"]}/fd/{fd}')
                              for fd in os.listdir(f'/proc/{vm["pid"]}/fd')})
        self.assertEqual(os.stat(image).st_uid, 0)
        self.ok(d, 'Stop', {'name': 'careless', 'force': True})


class FullDiskTest(VmTestCase):
    """A start that fails because a disk is full leaves nothing behind: no
    runtime record or directory, no half-made copy of the UEFI variables, and
    the VM starts once there is room again."""

    def setUp(self):
        super().setUp()
        self.small_mounts = []

    def tearDown(self):
        # Detached before the work directory is removed (a cleanup would come after it,
        # and the mount point would be left behind); the daemon stops on it all the same.
        for path in self.small_mounts:
            subprocess.run(['umount', '-l', path])
        super().tearDown()

    def mount_small(self, path, size):
        os.makedirs(path, exist_ok=True)
        subprocess.run(['mount', '-t', 'tmpfs', '-o', f'size={size},mode=0755', 'tmpfs', path],
                       check=True)
        self.small_mounts.append(path)

    def test_state_directory_full(self):
        state = os.path.join(self.workdir, 'state')
        self.mount_small(state, '64k')  # the UEFI variables are 528 KiB or more
        d = self.start_daemon()
        self.ok(d, 'Define', {'definition': 'name: full\nmemory: 64M\ncpus: 1\n'
                                            'firmware: uefi\nnetwork: none\n'})
        reply = self.call(d, 'Start', {'name': 'full'})
        self.assertError(reply, VMS + 'StartFailed', 'UEFI variables', 'No space left')
        self.assertNothingLeft('full')
        # no half-made copy of the variables (the log, without a journal, is kept)
        self.assertNotIn('OVMF_VARS.fd', os.listdir(os.path.join(state, 'vms', 'full')))
        self.assertEqual(self.ok(d, 'Get', {'name': 'full'})['vm']['state'], 'failed')
        subprocess.run(['mount', '-o', 'remount,size=16m', state], check=True)
        _, vm = self.start(d, 'full')
        self.assertEqual(vm['state'], 'running')
        self.ok(d, 'Stop', {'name': 'full', 'force': True})

    def test_runtime_directory_full(self):
        self.mount_small(self.run_dir, '16k')
        d = self.start_daemon()
        self.define(d, 'full')
        filler = os.path.join(self.run_dir, 'filler')
        with open(filler, 'wb') as f:
            try:
                f.write(b'x' * (1 << 20))
            except OSError:
                pass
        reply = self.call(d, 'Start', {'name': 'full'})
        self.assertError(reply, VMS + 'StartFailed', 'No space left',
                         'Free space there and start it again')
        self.assertNothingLeft('full')
        self.assertEqual(self.ok(d, 'Get', {'name': 'full'})['vm']['state'], 'failed')
        os.unlink(filler)
        _, vm = self.start(d, 'full')
        self.assertEqual(vm['state'], 'running')
        self.ok(d, 'Stop', {'name': 'full', 'force': True})
        self.assertNothingLeft('full')


class PartitionTest(VmTestCase):
    """A VM's GPU from the sysfs simulator (tests/simulator): the partition is
    really made, and QEMU, which cannot use a simulated device, fails; what was
    made for the VM must then be given back."""

    def test_a_start_that_fails_gives_its_partitions_back(self):
        sim = self.simulated('intel-gvt-laptop')
        d = self.start_daemon(args=['--sysfs-root', sim.root])
        self.addCleanup(d.stop)  # before the simulator: the daemon holds the mount
        before = sim.snapshot()
        self.define(d, 'gvt', 'gpu:\n  - mode: mdev\n    type: i915-GVTg_V5_8\n')
        reply = self.call(d, 'Start', {'name': 'gvt'})
        self.assertError(reply, VMS + 'StartFailed')
        # the mdev was made for the VM (held as vm:gvt), then removed
        writes = [(w['path'].rsplit('/', 1)[-1], w['value']) for w in sim.writes()]
        self.assertEqual([name for name, _ in writes], ['create', 'remove'], writes)
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])
        vm = self.ok(d, 'Get', {'name': 'gvt'})['vm']
        self.assertEqual((vm['state'], vm['partitions']), ('failed', []))
        self.assertEqual(self.call(d, 'List', {}).get('error'), None)
        with Varlink(d.socket) as v:
            held = v.call('io.libvfio.Partitions.List')['parameters']['partitions']
        self.assertEqual([p for p in held if p['holder']], [])
        self.assertNothingLeft('gvt')

    def test_an_xe_vf_gets_the_vms_share_of_gpu_time_and_gives_it_back(self):
        """On xe (sriov_admin), the VF's profile is set before its bind and put back
        after: the writes in order, and the host as it was, also when the daemon is
        killed at the profile's write."""
        sim = self.simulated('intel-xe-sriov')
        d = self.start_daemon(args=['--sysfs-root', sim.root])
        before = sim.snapshot()
        self.define(d, 'xe', 'gpu:\n  - mode: sriov\n    profile: {exec-quantum-ms: 10, '
                             'preempt-timeout-us: 20000}\n')
        self.assertError(self.call(d, 'Start', {'name': 'xe'}), VMS + 'StartFailed')
        writes = [(w['path'].split('0000:00:02.', 1)[-1], w['value'].strip())
                  for w in sim.writes()]
        self.assertEqual(writes[:4], [('0/sriov_drivers_autoprobe', '0'),
                                      ('0/sriov_numvfs', '7'),
                                      ('0/sriov_admin/vf1/profile/exec_quantum_ms', '10'),
                                      ('0/sriov_admin/vf1/profile/preempt_timeout_us', '20000')],
                         writes)
        self.assertIn(('1/driver_override', 'vfio-pci'), writes)
        undo = [w for w in writes[4:] if 'profile' in w[0]]
        self.assertEqual(undo, [('0/sriov_admin/vf1/profile/preempt_timeout_us', '0'),
                                ('0/sriov_admin/vf1/profile/exec_quantum_ms', '0')], writes)
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])
        d.stop()

        # Killed at the profile's first write, before and after it: the next daemon puts
        # the VF's share back (and the VFs, and autoprobe).
        for after in (False, True):
            with self.subTest(after=after):
                self.kill_during_start(
                    sim, 'xe', after, path='sys/devices/*/sriov_admin/vf*/profile/exec_quantum_ms')
                d = self.start_daemon(args=['--sysfs-root', sim.root])
                try:
                    self.assertEqual(Simulator.diff(before, sim.snapshot()), [], d.output())
                    self.assertNothingLeft('xe')
                finally:
                    d.stop()

    def test_an_alder_lake_vf_on_the_out_of_tree_i915_and_back(self):
        """i915-sriov-dkms: the VFs are enabled with autoprobe off, one goes to vfio-pci
        for the VM, and all of it is given back; the host as it was."""
        sim = self.simulated('alder-lake-i915-sriov')
        d = self.start_daemon(args=['--sysfs-root', sim.root])
        self.addCleanup(d.stop)
        before = sim.snapshot()
        self.define(d, 'adl', 'gpu:\n  - mode: sriov\n    vendor: intel\n'
                              '    rom: /usr/share/libvfio/adl-gop.rom\n'
                              'windows: {hyperv: true}\n')
        self.assertError(self.call(d, 'Start', {'name': 'adl'}), VMS + 'StartFailed')
        writes = [((w.get('aliases') or [w['path']])[0].split('devices/', 1)[-1],
                   w['value'].strip()) for w in sim.writes()]
        self.assertEqual(writes[:3], [('0000:00:02.0/sriov_drivers_autoprobe', '0'),
                                      ('0000:00:02.0/sriov_numvfs', '7'),
                                      ('0000:00:02.1/driver_override', 'vfio-pci')], writes)
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])
        self.assertNothingLeft('adl')

    def test_an_xe_vf_gets_the_vms_vram_and_gives_it_back(self):
        """On a discrete xe GPU, the VF's vram_quota (bytes) is set before its bind and
        put back to 0 (unprovisioned) after: the writes in order, and the host as it was,
        also when the daemon is killed at the vram_quota write."""
        sim = self.simulated('intel-xe-discrete')
        d = self.start_daemon(args=['--sysfs-root', sim.root])
        before = sim.snapshot()
        self.assertEqual(before['pci']['0000:03:00.0']['xe_profiles']['vf1']['vram_quota'], '0')
        self.assertNotIn('vram_quota', before['pci']['0000:03:00.0']['xe_profiles']['pf'])
        self.define(d, 'bmg', 'gpu:\n  - mode: sriov\n    profile: {vram-quota: 4G}\n')
        self.assertError(self.call(d, 'Start', {'name': 'bmg'}), VMS + 'StartFailed')
        writes = [(w['path'].split('0000:03:00.', 1)[-1], w['value'].strip())
                  for w in sim.writes()]
        self.assertEqual(writes[:3], [('0/sriov_drivers_autoprobe', '0'),
                                      ('0/sriov_numvfs', '4'),
                                      ('0/sriov_admin/vf1/profile/vram_quota', '4294967296')],
                         writes)
        self.assertIn(('1/driver_override', 'vfio-pci'), writes)
        self.assertLess(writes.index(('0/sriov_admin/vf1/profile/vram_quota', '4294967296')),
                        writes.index(('1/driver_override', 'vfio-pci')))
        undo = [w for w in writes[3:] if 'profile' in w[0]]
        self.assertEqual(undo, [('0/sriov_admin/vf1/profile/vram_quota', '0')], writes)
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])
        d.stop()

        # Killed at the vram_quota write, before and after it: the next daemon puts the
        # VF's VRAM back (and the VFs, and autoprobe).
        for after in (False, True):
            with self.subTest(after=after):
                self.kill_during_start(
                    sim, 'bmg', after, path='sys/devices/*/sriov_admin/vf*/profile/vram_quota')
                d = self.start_daemon(args=['--sysfs-root', sim.root])
                try:
                    self.assertEqual(Simulator.diff(before, sim.snapshot()), [], d.output())
                    self.assertNothingLeft('bmg')
                finally:
                    d.stop()

    def test_a_vram_quota_on_an_integrated_xe_gpu_is_refused(self):
        """An integrated GPU's VFs have no vram_quota: the start fails with a sentence
        saying so, and the host is as it was."""
        sim = self.simulated('intel-xe-sriov')
        d = self.start_daemon(args=['--sysfs-root', sim.root])
        self.addCleanup(d.stop)
        before = sim.snapshot()
        self.define(d, 'igpu', 'gpu:\n  - mode: sriov\n    profile: {vram-quota: 1G}\n')
        reply = self.call(d, 'Start', {'name': 'igpu'})
        self.assertEqual(reply.get('error'), 'io.libvfio.Partitions.Failed', reply)
        self.assertIn('has no vram_quota in its xe profile', reply['parameters']['message'])
        self.assertFalse([w for w in sim.writes() if 'vram_quota' in w['path']])
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])
        self.assertNothingLeft('igpu')

    def test_an_nvidia_vgpu17_vf_gets_its_type_and_gives_it_back(self):
        """NVIDIA vGPU 17 (no mdev): the VM's type goes to a VF's current_vgpu_type, the
        VF is handed to QEMU as it is (never rebound), and its type goes back to 0; also
        when the daemon is killed at that write."""
        sim = self.simulated('nvidia-l4-vgpu17')
        d = self.start_daemon(args=['--sysfs-root', sim.root])
        before = sim.snapshot()
        self.define(d, 'l4', 'gpu:\n  - type: NVIDIA L4-8Q\n')  # mode auto: mdev, then sriov
        reply = self.call(d, 'Start', {'name': 'l4'})
        # the simulator's VFIO groups are no device nodes: the start fails after the write
        self.assertError(reply, VMS + 'StartFailed')
        writes = [(w['aliases'][0].split('devices/', 1)[-1], w['value'].strip())
                  for w in sim.writes()]
        self.assertEqual(writes, [('0000:03:00.4/nvidia/current_vgpu_type', '1155'),
                                  ('0000:03:00.4/nvidia/current_vgpu_type', '0')])
        # it failed at the VF's own group (20): that device, as it is, was QEMU's
        self.assertIn('/dev/vfio/20 is not a device node', reply['parameters']['message'])
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])
        d.stop()

        for after in (False, True):
            with self.subTest(after=after):
                self.kill_during_start(sim, 'l4', after,
                                       path='sys/devices/*/nvidia/current_vgpu_type')
                d = self.start_daemon(args=['--sysfs-root', sim.root])
                try:
                    self.assertEqual(Simulator.diff(before, sim.snapshot()), [], d.output())
                    self.assertNothingLeft('l4')
                finally:
                    d.stop()

    def test_vendor_reset_is_chosen_for_the_gpu_and_put_back(self):
        """An RX 580 with vendor-reset loaded: its reset_method becomes device_specific
        before it goes to vfio-pci, and is 'bus' again after; the host as it was."""
        sim = self.simulated('polaris-vendor-reset')
        d = self.start_daemon(args=['--sysfs-root', sim.root])
        self.addCleanup(d.stop)
        before = sim.snapshot()
        self.assertEqual(before['pci']['0000:02:00.0']['reset_method'], 'bus')
        self.define(d, 'polaris', 'gpu:\n  - mode: passthrough\n    address: 02:00.0\n')
        self.assertError(self.call(d, 'Start', {'name': 'polaris'}), VMS + 'StartFailed')
        writes = [(w['path'].rsplit('/', 2)[-2:], w['value'].strip()) for w in sim.writes()]
        resets = [(w[0][0], w[1]) for w in writes if w[0][1] == 'reset_method']
        self.assertEqual(resets, [('0000:02:00.0', 'device_specific'), ('0000:02:00.0', 'bus')],
                         writes)
        first_bind = next(i for i, w in enumerate(writes) if w[0][1] == 'driver_override')
        self.assertEqual(writes[0], (['0000:02:00.0', 'reset_method'], 'device_specific'))
        self.assertGreater(first_bind, 0)
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])
        self.assertNothingLeft('polaris')

    def test_a_profile_on_a_gpu_without_sriov_admin_is_refused(self):
        sim = self.simulated('amd-sriov')
        d = self.start_daemon(args=['--sysfs-root', sim.root])
        self.addCleanup(d.stop)
        before = sim.snapshot()
        self.define(d, 'amd', 'gpu:\n  - mode: sriov\n    profile: {exec-quantum-ms: 10}\n')
        reply = self.call(d, 'Start', {'name': 'amd'})
        self.assertEqual(reply.get('error', '').rsplit('.', 1)[0],
                         'io.libvfio.Partitions', reply)
        self.assertIn("has no xe SR-IOV profile to set", reply['parameters']['message'])
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])
        self.assertNothingLeft('amd')

    def test_daemon_killed_while_making_the_partition(self):
        """Killed at the mdev's create write (before it, and once it is made):
        no QEMU ever ran. The next daemon gives the partition back, and the VM
        is stopped with the reason, not 'defined' as if never started (the lab's
        crashes.sh found this on a real kernel with an SR-IOV VF)."""
        sim = self.simulated('intel-gvt-laptop')
        before = sim.snapshot()
        d = self.start_daemon(args=['--sysfs-root', sim.root])
        self.define(d, 'cut', 'gpu:\n  - mode: mdev\n    type: i915-GVTg_V5_8\n')
        d.stop()
        for after in (False, True):
            with self.subTest(after=after):
                self.kill_during_start(sim, 'cut', after)
                d = self.start_daemon(args=['--sysfs-root', sim.root])
                try:
                    self.assertEqual(Simulator.diff(before, sim.snapshot()), [], d.output())
                    vm = self.ok(d, 'Get', {'name': 'cut'})['vm']
                    self.assertEqual((vm['state'], vm['partitions']), ('failed', []),
                                     d.output())
                    self.assertIn('start was cut short', vm.get('problem') or '')
                    self.assertNothingLeft('cut')
                finally:
                    d.stop()

    def test_a_gpu_without_free_partitions(self):
        sim = self.simulated('intel-gvt-laptop')
        d = self.start_daemon(args=['--sysfs-root', sim.root])
        self.addCleanup(d.stop)
        self.define(d, 'greedy', 'gpu:\n  - mode: sriov\n')
        reply = self.call(d, 'Start', {'name': 'greedy'})
        self.assertEqual(reply['error'].rsplit('.', 1)[0], 'io.libvfio.Partitions', reply)
        vm = self.ok(d, 'Get', {'name': 'greedy'})['vm']
        self.assertEqual(vm['state'], 'failed')
        # The engine's refusal reaches the caller, status and the log as a sentence.
        sentence = reply['parameters']['message']
        self.assertRegex(sentence, r'^\S.{20,}\.$', reply)
        self.assertEqual(vm.get('problem'), sentence)
        self.assertIn(f'VM greedy did not start: {sentence}', d.output())
        status = vfioctl('status', 'greedy', socket_path=d.socket)
        self.assertIn(sentence, status.stdout)
        self.assertNothingLeft('greedy')

    def test_locked_memory_the_daemon_cannot_give(self):
        """VFIO pins guest RAM against QEMU's RLIMIT_MEMLOCK; a daemon without
        CAP_SYS_RESOURCE and with systemd's default 8 MiB cannot raise it that far:
        the start is refused before anything is made, saying how to fix it."""
        sim = self.simulated('intel-gvt-laptop')
        status_path = os.path.join(sim.backing, 'proc/self/status')
        with open(status_path) as f:
            status = f.read()
        self.assertIn('CapEff:\t0000000001a250eb\n', status)  # the unit's, CAP_SYS_RESOURCE too
        with open(status_path, 'w') as f:
            f.write(status.replace('CapEff:\t0000000001a250eb', 'CapEff:\t0000000000a250eb'))
        d = self.start_daemon(args=['--sysfs-root', sim.root])
        self.addCleanup(d.stop)
        before = sim.snapshot()
        self.define(d, 'pinned', 'gpu:\n  - mode: mdev\n    type: i915-GVTg_V5_8\n')
        reply = self.call(d, 'Start', {'name': 'pinned'})
        self.assertError(reply, VMS + 'StartFailed')
        expected = ('QEMU needs 1088 MiB of locked memory for VFIO (guest RAM + 1 GiB), but the '
                    'daemon can give it only 8 MiB: run libvfiod with CAP_SYS_RESOURCE (the '
                    'shipped unit does) or LimitMEMLOCK=infinity.')
        self.assertEqual(reply['parameters']['message'], expected)
        self.assertEqual(self.ok(d, 'Get', {'name': 'pinned'})['vm'].get('problem'), expected)
        self.assertEqual(sim.writes(), [])  # nothing was made
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])
        check = vfioctl('check', socket_path=d.socket)
        self.assertIn('[FAIL] The daemon can give QEMU only 8 MiB of locked memory', check.stdout)
        self.assertNothingLeft('pinned')


class HugepageTest(VmTestCase):
    """hugepages: 2M on the sysfs simulator's laptop (one node, an empty 2M
    pool): the start grows node 0's pool by what the VM needs, the stop gives
    it back, and the host is exactly as before. QEMU cannot have hugetlb
    memory on this machine (no pool is configured), so a wrapper drops that
    option and the NUMA binding: the pool writes are what is tested."""

    NR = 'sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages'
    EXTRA = 'hugepages: 2M\nnuma: 0\n'

    def setUp(self):
        super().setUp()
        self.qemu = os.path.join(self.workdir, 'qemu-no-hugetlb')
        with open(self.qemu, 'w') as f:
            f.write('#!/usr/bin/python3\nimport os, re, sys\n'
                    "args = [re.sub(r',host-nodes=\\d+,policy=bind|,hugetlb=on,hugetlbsize=2M"
                    ",prealloc=on', '', a) for a in sys.argv[1:]]\n"
                    "os.execvp('qemu-system-x86_64', ['qemu-system-x86_64'] + args)\n")
        os.chmod(self.qemu, 0o755)

    def simulate(self, config=None):
        return self.simulated('intel-gvt-laptop', config=config)

    def hugepage_daemon(self, sim):
        d = self.start_daemon(f'qemu-binary: {self.qemu}\n', args=['--sysfs-root', sim.root])
        self.addCleanup(d.stop)  # before the simulator: the daemon holds the mount
        return d

    def pool_writes(self, sim):
        return [w['value'] for w in sim.writes() if w['path'] == self.NR]

    def test_a_start_reserves_and_the_stop_gives_back(self):
        sim = self.simulate()
        before = sim.snapshot()
        d = self.hugepage_daemon(sim)
        self.define(d, 'huge', self.EXTRA)
        phases, vm = self.start(d, 'huge')
        self.assertEqual(vm['state'], 'running', d.output())
        self.assertIn('hugepages', phases)
        self.assertEqual(sim.read(self.NR), '32\n')          # 64M of 2M pages
        with open(os.path.join(self.run_dir, 'vms', 'huge.json')) as f:
            record = json.load(f)
        self.assertEqual(record['hugepages'],
                         {'node': 0, 'sizeKib': 2048, 'before': 0, 'added': 32})
        # shown: the VM's reservation, and what each pool holds for VMs
        self.assertEqual(self.ok(d, 'Get', {'name': 'huge'})['vm']['hugepages'],
                         {'sizeKiB': 2048, 'node': 0, 'pagesAdded': 32, 'poolBefore': 0})
        self.assertEqual(self.held_for_vms(d), ({2048: 32, 1048576: 0}, {2048: 32, 1048576: 0}))
        status = vfioctl('status', 'huge', socket_path=d.socket).stdout
        self.assertIn("Hugepages:  32 2 MiB pages added to node 0's pool (given back when it "
                      'ends)', status)
        topology = vfioctl('topology', socket_path=d.socket).stdout
        self.assertEqual(topology.count('32 added by libvfio for VMs'), 2, topology)
        self.ok(d, 'Stop', {'name': 'huge', 'force': True})
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])
        self.assertEqual(self.pool_writes(sim), ['32', '0'])
        self.assertEqual(self.ok(d, 'Get', {'name': 'huge'})['vm'].get('hugepages'), None)
        self.assertEqual(self.held_for_vms(d), ({2048: 0, 1048576: 0}, {2048: 0, 1048576: 0}))
        self.assertNotIn('Hugepages:', vfioctl('status', 'huge', socket_path=d.socket).stdout)
        self.assertNothingLeft('huge')

    def held_for_vms(self, d):
        """GetTopology's heldForVMs by page size: node 0's pools, the system's."""
        with Varlink(d.socket) as v:
            t = v.call('io.libvfio.Host.GetTopology')['parameters']
        return ({p['sizeKiB']: p['heldForVMs'] for p in t['nodes'][0]['hugepages']},
                {p['sizeKiB']: p['heldForVMs'] for p in t['hugepages']})

    def test_a_two_socket_host_grows_the_vms_node_only(self):
        """two-socket-server: node 0 has 512 free 2M pages, the VM needs 1024
        (2G): node 0's pool grows by 512, node 1's does not change, the system's
        follows; all of it is as before once the VM stops."""
        sim = self.simulated('two-socket-server')
        before = sim.snapshot()
        d = self.hugepage_daemon(sim)
        node = 'sys/devices/system/node/node{}/hugepages/hugepages-2048kB/nr_hugepages'
        self.ok(d, 'Define', {'definition': 'name: big\nmemory: 2G\ncpus: 1\nfirmware: bios\n'
                                            'network: none\nhugepages: 2M\nnuma: 0\n'})
        _, vm = self.start(d, 'big')
        self.assertEqual(vm['state'], 'running', d.output())
        self.assertEqual((sim.read(node.format(0)), sim.read(node.format(1))),
                         ('1024\n', '512\n'))
        self.assertEqual(sim.read('sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages'),
                         '1536\n')
        self.ok(d, 'Stop', {'name': 'big', 'force': True})
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])

    def test_enough_free_pages_change_nothing(self):
        sim = self.simulate()
        sim.write(self.NR, '40')
        d = self.hugepage_daemon(sim)
        self.define(d, 'huge', self.EXTRA)
        _, vm = self.start(d, 'huge')
        self.assertEqual(vm['state'], 'running', d.output())
        self.ok(d, 'Stop', {'name': 'huge', 'force': True})
        self.assertEqual(self.pool_writes(sim), ['40'])         # the test's own
        self.assertEqual(sim.read(self.NR), '40\n')

    def test_a_pool_the_kernel_only_partly_fills(self):
        sim = self.simulate({'hugepage_memory_kib': {'0': 10 * 2048}})
        before = sim.snapshot()
        d = self.hugepage_daemon(sim)
        self.define(d, 'huge', self.EXTRA)
        reply = self.call(d, 'Start', {'name': 'huge'})
        self.assertError(reply, VMS + 'StartFailed', 'needs 32 more pages',
                         'found only 10', "node 0's 2M pool")
        self.assertEqual(Simulator.diff(before, sim.snapshot()), [])
        self.assertEqual(self.pool_writes(sim), ['32', '0'])
        vm = self.ok(d, 'Get', {'name': 'huge'})['vm']
        self.assertEqual(vm['state'], 'failed')
        self.assertNothingLeft('huge')

    def test_pages_someone_else_added_stay(self):
        sim = self.simulate()
        d = self.hugepage_daemon(sim)
        self.define(d, 'huge', self.EXTRA)
        _, vm = self.start(d, 'huge')
        self.assertEqual(vm['state'], 'running', d.output())
        sim.write(self.NR, '50')                                # another 18, not ours
        self.ok(d, 'Stop', {'name': 'huge', 'force': True})
        self.assertEqual(sim.read(self.NR), '18\n')

    def test_daemon_killed_while_the_pages_are_reserved(self):
        """Killed at the pool's write (before it lands, and once it has): the
        next daemon finds the reservation in the record and gives it back."""
        sim = self.simulate()
        before = sim.snapshot()
        for after in (False, True):
            with self.subTest(after=after):
                d = self.hugepage_daemon(sim)
                self.define(d, 'cut', self.EXTRA)
                d.stop()
                self.kill_during_start(sim, 'cut', after, path=self.NR,
                                       extra_config=f'qemu-binary: {self.qemu}\n')
                if after:
                    self.assertEqual(sim.read(self.NR), '32\n')
                d = self.hugepage_daemon(sim)
                wait_for(lambda: self.ok(d, 'Get', {'name': 'cut'})['vm']['state'] == 'failed',
                         what='the cut-short start to be undone')
                self.assertEqual(Simulator.diff(before, sim.snapshot()), [], d.output())
                self.assertNothingLeft('cut')
                d.stop()

    def test_a_timed_out_write_that_lands_later_is_given_back(self):
        """The pool's write outlives its timeout (1s; the kernel compacting): the start
        fails, the reservation stays recorded and shown while the write is under way,
        and what it adds in the end is given back, by this daemon when it ends, or
        by the next one when this one is killed in between."""
        sim = self.simulate()
        before = sim.snapshot()
        record = os.path.join(self.run_dir, 'vms', 'late.json')
        timeout = 'limits:\n  sysfs-write-timeout: 1s\n'
        for killed in (False, True):
            with self.subTest(killed=killed):
                d = self.start_daemon(f'qemu-binary: {self.qemu}\n{timeout}',
                                      args=['--sysfs-root', sim.root])
                self.define(d, 'late', self.EXTRA)
                sim.hang(self.NR, seconds=4, times=1)
                self.assertError(self.call(d, 'Start', {'name': 'late'}), VMS + 'StartFailed',
                                 'took too long')
                vm = self.ok(d, 'Get', {'name': 'late'})['vm']
                self.assertEqual((vm['state'], vm['hugepages']),
                                 ('failed', {'sizeKiB': 2048, 'node': 0, 'pagesAdded': 32,
                                              'poolBefore': 0}))
                with open(record) as f:
                    self.assertEqual(json.load(f)['hugepages']['added'], 32)
                self.assertError(self.call(d, 'Start', {'name': 'late'}), VMS + 'StartFailed',
                                 'has not ended yet')
                if not killed:
                    wait_for(lambda: not os.path.exists(record), what='the record to go')
                    self.assertEqual(Simulator.diff(before, sim.snapshot()), [], d.output())
                    self.assertIsNone(self.ok(d, 'Get', {'name': 'late'})['vm'].get('hugepages'))
                    self.assertEqual(self.pool_writes(sim)[-2:], ['32', '0'])
                    d.stop()
                    continue
                # Frozen while the write lands (it goes on in the kernel), then killed:
                # it never learns the write ended.
                d.process.send_signal(signal.SIGSTOP)
                wait_for(lambda: sim.read(self.NR) == '32\n', timeout=10,
                         what='the late write to land')
                d.stop(signal.SIGKILL)
                d = self.start_daemon(f'qemu-binary: {self.qemu}\n',
                                      args=['--sysfs-root', sim.root])
                wait_for(lambda: not os.path.exists(record), what='the record to go')
                self.assertEqual(Simulator.diff(before, sim.snapshot()), [], d.output())
                self.assertNothingLeft('late')
                d.stop()

    def test_daemon_killed_while_the_vm_runs_then_qemu_ends(self):
        sim = self.simulate()
        before = sim.snapshot()
        d = self.hugepage_daemon(sim)
        self.define(d, 'huge', self.EXTRA)
        _, vm = self.start(d, 'huge')
        self.assertEqual(vm['state'], 'running', d.output())
        d.stop(signal.SIGKILL)
        os.kill(vm['pid'], signal.SIGKILL)
        wait_for(lambda: not pid_alive(vm['pid']), what='QEMU to end')
        self.assertEqual(sim.read(self.NR), '32\n')
        d = self.hugepage_daemon(sim)
        wait_for(lambda: self.ok(d, 'Get', {'name': 'huge'})['vm']['state'] != 'running',
                 what='the ended VM to be cleaned up')
        wait_for(lambda: not Simulator.diff(before, sim.snapshot()),
                 what='the pages to be given back')
        self.assertNothingLeft('huge')


class VfioctlTest(VmTestCase):
    """The same through the real vfioctl, as a user types it."""

    def vfioctl(self, d, *args, **kw):
        return vfioctl(*args, socket_path=d.socket, **kw)

    def test_the_whole_session(self):
        d = self.start_daemon()
        path = os.path.join(self.workdir, 'desk.yaml')
        with open(path, 'w') as f:
            f.write(definition('desk'))
        result = self.vfioctl(d, 'define', path)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout, r'^Defined desk \(uuid [0-9a-f-]{36}\)\n$')

        result = self.vfioctl(d, 'start', 'desk', '--wait')
        self.assertEqual(result.returncode, 0, result.stderr + d.output())
        self.assertRegex(result.stdout, r'^desk is running \(pid [0-9]+\)\n$')
        self.assertEqual(result.stderr, '')  # no progress line without a terminal
        pid = int(result.stdout.split('pid ')[1].rstrip(')\n'))
        self.qemu_pids.add(pid)

        listed = json.loads(self.vfioctl(d, '--json', 'list').stdout)['vms']
        self.assertEqual([(vm['name'], vm['state'], vm['pid']) for vm in listed],
                         [('desk', 'running', pid)])
        # redefined while it runs: said to apply at the next start
        result = self.vfioctl(d, 'define', path)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('desk runs now; the new definition applies when it next starts.',
                      result.stdout)
        status = self.vfioctl(d, 'status', 'desk').stdout
        self.assertIn('running', status)
        self.assertIn(str(pid), status)
        self.assertEqual(self.vfioctl(d, 'pause', 'desk').returncode, 0)
        self.assertEqual(json.loads(self.vfioctl(d, '--json', 'status', 'desk').stdout)
                         ['vm']['state'], 'paused')
        self.assertEqual(self.vfioctl(d, 'resume', 'desk').returncode, 0)

        # errors: a usage error is 2 and sends nothing, a refusal is 1 and says why
        result = self.vfioctl(d, 'start', '../desk')
        self.assertEqual(result.returncode, 2, result.stderr)
        result = self.vfioctl(d, 'start', 'desk')  # started already: a success, said
        self.assertEqual((result.returncode, result.stdout, result.stderr),
                         (0, '', 'vfioctl: desk is already running.\n'))
        result = self.vfioctl(d, 'undefine', 'desk')
        self.assertEqual(result.returncode, 1)
        self.assertIn('stop it first', result.stderr)

        result = self.vfioctl(d, 'stop', 'desk', '--force')
        self.assertEqual((result.returncode, result.stdout), (0, 'desk is stopped\n'),
                         result.stderr)
        self.assertFalse(pid_alive(pid))
        self.assertEqual(self.vfioctl(d, 'undefine', 'desk').returncode, 0)
        result = self.vfioctl(d, 'status', 'desk')
        self.assertEqual(result.returncode, 1)
        self.assertIn('no VM named', result.stderr)

    def test_stop_says_when_it_had_to_quit_qemu(self):
        d = self.start_daemon()
        self.define(d, 'mute')
        self.start(d, 'mute')
        # no OS answers the power button: QEMU is told to quit, said on stderr, status 3
        result = self.vfioctl(d, 'stop', 'mute', '--timeout', '1')
        self.assertEqual((result.returncode, result.stdout), (3, 'mute is stopped\n'),
                         result.stderr)
        self.assertEqual(result.stderr, 'vfioctl: mute: the guest did not shut down in time; '
                         'QEMU was told to quit.\n')
        self.start(d, 'mute')
        result = self.vfioctl(d, '--json', 'stop', 'mute', '--timeout', '1')
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertEqual(json.loads(result.stdout)['ended'], 'quit')
        # --force asks for the quit: that is a success
        self.start(d, 'mute')
        result = self.vfioctl(d, 'stop', 'mute', '--force')
        self.assertEqual((result.returncode, result.stdout, result.stderr),
                         (0, 'mute is stopped\n', ''))
        help = self.vfioctl(d, '--help').stdout
        self.assertIn('3 stop had to quit or kill QEMU', help)

    def test_start_and_stop_are_idempotent_and_take_several_names(self):
        d = self.start_daemon()
        for name in ('one', 'two', 'three'):
            self.define(d, name)
        result = self.vfioctl(d, 'start', 'one', 'two')
        self.assertEqual(result.returncode, 0, result.stderr + d.output())
        self.assertRegex(result.stdout, r'^one is running \(pid [0-9]+\)\n'
                                        r'two is running \(pid [0-9]+\)\n$')
        for vm in self.ok(d, 'List')['vms']:
            if vm.get('pid'):
                self.qemu_pids.add(vm['pid'])
        # started already: a success with a note, and --json still prints the VM
        result = self.vfioctl(d, 'start', 'one', 'three')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, 'vfioctl: one is already running.\n')
        self.assertRegex(result.stdout, r'^three is running \(pid [0-9]+\)\n$')
        self.qemu_pids.add(self.ok(d, 'Get', {'name': 'three'})['vm']['pid'])
        result = self.vfioctl(d, '--json', 'start', 'one')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout)['vm']['state'], 'running')
        # several names: one line each, the worst status; a bad name changes nothing
        result = self.vfioctl(d, 'pause', 'one', 'nope', 'two')
        self.assertEqual(result.returncode, 1)
        self.assertRegex(result.stdout, r'^one is paused \(pid [0-9]+\)\n'
                                        r'two is paused \(pid [0-9]+\)\n$')
        self.assertIn("no VM named 'nope'", result.stderr)
        result = self.vfioctl(d, 'resume', 'one', '../x')
        self.assertEqual(result.returncode, 2)
        self.assertEqual(self.ok(d, 'Get', {'name': 'one'})['vm']['state'], 'paused')
        result = self.vfioctl(d, '--json', 'resume', 'one', 'two')
        self.assertEqual(result.returncode, 0, result.stderr)
        decoder, text, shown = json.JSONDecoder(), result.stdout.strip(), []
        while text:
            value, end = decoder.raw_decode(text)
            shown.append(value['vm']['name'])
            text = text[end:].strip()
        self.assertEqual(shown, ['one', 'two'])
        result = self.vfioctl(d, 'reset', 'one', 'two')
        self.assertEqual((result.returncode, result.stdout),
                         (0, result.stdout), result.stderr)
        self.assertRegex(result.stdout, r'^one is running \(pid [0-9]+\)\n'
                                        r'two is running \(pid [0-9]+\)\n$')
        result = self.vfioctl(d, 'reboot', 'three')
        self.assertEqual(result.returncode, 0, result.stderr)
        result = self.vfioctl(d, 'stop', '--force', 'one', 'two', 'three')
        self.assertEqual((result.returncode, result.stdout),
                         (0, 'one is stopped\ntwo is stopped\nthree is stopped\n'),
                         result.stderr)
        # stopped already: a success with a note, and --json still prints the VM
        result = self.vfioctl(d, 'stop', 'one')
        self.assertEqual((result.returncode, result.stdout, result.stderr),
                         (0, '', 'vfioctl: one is not running (stopped): nothing to stop.\n'))
        result = self.vfioctl(d, '--json', 'stop', 'one')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout)['vm']['state'], 'stopped')
        # a failed start is 1, and the others still start
        missing = os.path.join(self.workdir, 'gone.img')
        self.define(d, 'two', f'disks: [{{path: {missing}}}]\n')
        result = self.vfioctl(d, 'start', 'two', 'one')
        self.assertEqual(result.returncode, 1)
        self.assertIn(missing, result.stderr)
        self.assertRegex(result.stdout, r'^one is running')
        self.qemu_pids.add(self.ok(d, 'Get', {'name': 'one'})['vm']['pid'])
        result = self.vfioctl(d, 'status', 'one', 'two')
        self.assertEqual(result.returncode, 0, result.stderr)
        first, second = result.stdout.split('\n\n')
        self.assertRegex(first, r'^one\n +State: +running')
        self.assertRegex(second, r'^two\n +State: +failed')
        self.assertIn(missing, second)
        self.ok(d, 'Stop', {'name': 'one', 'force': True})

    def test_define_names_the_file_and_line(self):
        d = self.start_daemon()
        path = os.path.join(self.workdir, 'bad.yaml')
        with open(path, 'w') as f:
            f.write('name: bad\nmemory: 1G\ncdrom: relative.iso\n')
        result = self.vfioctl(d, 'define', path)
        self.assertEqual(result.returncode, 1)
        self.assertIn(f'{path}:3:8: cdrom', result.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.vm_dir, 'bad.yaml')))

    def test_progress_on_a_terminal_and_watch(self):
        d = self.start_daemon()
        self.define(d, 'shown')
        watch = subprocess.Popen([VFIOCTL, '--socket', d.socket,
                                  '--json', 'watch'], stdout=subprocess.PIPE, text=True)
        try:
            first = json.loads(watch.stdout.readline())
            self.assertEqual((first['vm']['name'], first['vm']['state']), ('shown', 'defined'))
            # `script` gives vfioctl a terminal: the phases are shown, then cleared
            command = f'{VFIOCTL} --socket {d.socket} start shown'
            result = subprocess.run(['script', '-qec', command, '/dev/null'],
                                    capture_output=True, timeout=60)
            self.assertEqual(result.returncode, 0, result.stdout)
                # each phase is shown, counted as the daemon goes through them
            for step, text in enumerate(['allocating the GPU partitions',
                                         'preparing its memory', 'starting QEMU',
                                         'connecting to QEMU', 'placing the vCPUs',
                                         'starting the guest'], 1):
                self.assertIn(f'Starting shown: {text} ({step}/6)...\r'.encode(),
                              result.stdout)
            self.assertIn(b'shown is running', result.stdout)
            states = [json.loads(watch.stdout.readline())['vm']['state'] for _ in range(2)]
            self.assertEqual(states, ['starting', 'running'])
        finally:
            watch.kill()
            watch.wait()
            watch.stdout.close()
        self.qemu_pids.add(self.ok(d, 'Get', {'name': 'shown'})['vm']['pid'])
        self.ok(d, 'Stop', {'name': 'shown', 'force': True})


class BadInputTest(VmTestCase):
    def test_hostile_parameters(self):
        d = self.start_daemon()
        invalid = 'org.varlink.service.InvalidParameter'
        for method, parameters, bad in [
                ('Start', {}, 'name'),
                ('Start', {'name': '../../etc/passwd'}, 'name'),
                ('Start', {'name': 'x' * 65}, 'name'),
                ('Start', {'name': 7}, 'name'),
                ('Stop', {'name': 'life\0../x'}, 'name'),
                ('Get', {'name': ''}, 'name'),
                ('Stop', {'name': 'a', 'timeoutSeconds': -5}, 'timeoutSeconds'),
                ('Stop', {'name': 'a', 'timeoutSeconds': 10 ** 12}, 'timeoutSeconds'),
                ('Stop', {'name': 'a', 'force': 'yes'}, 'force'),
                ('Define', {'definition': 5}, 'definition'),
                ('Define', {'definition': 'name: a\nmemory: 1G\n\0cpus: 99\n'}, 'definition'),
                ('Validate', {'definition': 'name: a\0'}, 'definition'),
                ('Define', {}, 'definition'),
                ('List', {'extra': 1}, 'extra')]:
            with self.subTest(method=method, parameters=parameters):
                reply = self.call(d, method, parameters)
                self.assertEqual(reply, {'error': invalid, 'parameters': {'parameter': bad}})
        self.assertError(self.call(d, 'Start', {'name': 'nope'}), VMS + 'NoSuchVM', 'nope')
        self.assertError(self.call(d, 'Stop', {'name': 'nope'}), VMS + 'NoSuchVM')

    def test_bad_definitions(self):
        d = self.start_daemon()
        reply = self.call(d, 'Define', {'definition': 'name: a\nmemroy: 1G\n'})
        self.assertError(reply, VMS + 'InvalidDefinition', '2:1', 'memroy')
        reply = self.call(d, 'Define', {'definition': 'name: a\nmemory: 1G\n' + '#' * 300000})
        self.assertEqual(reply['error'], VMS + 'InvalidDefinition', reply)
        reply = self.call(d, 'Validate', {'definition': definition('v')})
        self.assertEqual(reply, {'parameters': {'name': 'v', 'uuid': None}})
        self.assertEqual(os.listdir(self.vm_dir) if os.path.isdir(self.vm_dir) else [], [])
        # a VM of that name with another uuid is not silently replaced
        self.define(d, 'twin', 'uuid: 0b5e6a9c-1d1f-4a70-9a51-5a7cb2b0e111\n')
        reply = self.call(d, 'Define', {'definition': definition(
            'twin', 'uuid: 7c1d2a44-2a3b-4c5d-8e9f-0a1b2c3d4e5f\n')})
        self.assertError(reply, VMS + 'VMExists', '0b5e6a9c')
        self.assertDaemonServes(d)

    def test_unprivileged_users_may_look_but_not_touch(self):
        d = self.start_daemon()
        self.define(d, 'mine')
        me = {'user': 'nobody'}  # vfioctl() runs a copy nobody can reach (/root is 0700)
        for args in (['list'], ['status', 'mine']):
            result = vfioctl('--json', *args, socket_path=d.socket, **me)
            self.assertEqual(result.returncode, 0, result.stderr)
        for args in (['start', 'mine'], ['stop', 'mine'], ['reboot', 'mine'], ['reset', 'mine'],
                     ['undefine', 'mine']):
            result = vfioctl(*args, socket_path=d.socket, **me)
            self.assertEqual(result.returncode, 1, result.stdout)
            self.assertIn('polkit', result.stderr)  # what was needed and what to do
        self.assertEqual(self.ok(d, 'Get', {'name': 'mine'})['vm']['state'], 'defined')


if __name__ == '__main__':
    unittest_tap.main()
