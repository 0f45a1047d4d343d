#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The real libvfiod on a private socket with the real vfioctl against it:
versions, every client-side failure message, exit codes, signals, reload,
configuration errors, and what the daemon tells the service manager."""
import json
import os
import platform
import pwd
import signal
import socket
import subprocess
import shutil
import threading
import unittest

import unittest_tap
from libvfio_test import (ConnectionsAs, DaemonTestCase, Varlink, call_once, loop_may_be_held,
                          vfioctl, wait_for, LIBVFIOD,
                          VFIOCTL)


class LoopWatchTest(DaemonTestCase):
    """The daemon's own watchdog on its event loop (LIBVFIOD_LOOP_BUDGET_MS)."""

    @loop_may_be_held('the test sets a budget every dispatch is past')
    def test_a_dispatch_past_the_budget_is_named(self):
        # A budget of 1 us: every dispatch is past it, and each line names its source.
        d = self.daemon(env={'LIBVFIOD_LOOP_BUDGET_MS': '0.001'})
        call_once(d.socket, 'io.libvfio.Manager.GetVersion')
        wait_for(lambda: any('by client connection (io.libvfio.Manager.GetVersion)' in line
                             for line in d.loop_held()), what='the GetVersion line')
        self.assertRegex(d.loop_held()[0], r'loop held [0-9.]+ ms by .* \(budget 0.001 ms; '
                                           r'[0-9.]+ ms of it on a CPU, about [0-9]+ in the '
                                           r'kernel; blocked [0-9]+ times, preempted [0-9]+, '
                                           r'[0-9]+ page faults read a disk; not counted: '
                                           r'[0-9.]+ ms waiting for a CPU\)')

    def test_a_budget_that_is_not_a_number_is_refused(self):
        for value in ('soon', '-1', '10ms', '1e9'):
            d = self.daemon(env={'LIBVFIOD_LOOP_BUDGET_MS': value}, start=False)
            d.start(wait=False)
            self.assertEqual(d.wait_exit(), 1, value)
            self.assertIn('LIBVFIOD_LOOP_BUDGET_MS must be a number of milliseconds', d.output())

    def test_unset_the_loop_is_not_timed(self):
        d = self.daemon(env={'LIBVFIOD_LOOP_BUDGET_MS': ''})
        for _ in range(20):
            call_once(d.socket, 'io.libvfio.Manager.GetVersion')
        self.assertEqual(d.loop_held(), [])


class VersionTest(DaemonTestCase):
    def daemon_with_qemu(self, name, content):
        """A daemon whose qemu-binary is the program `content` (bytes: as they are),
        made executable in the work directory; its GetVersion's qemu part."""
        fake = os.path.join(self.workdir, name)
        with open(fake, 'wb') as f:
            f.write(content if isinstance(content, bytes) else content.encode())
        os.chmod(fake, 0o755)
        d = self.daemon(config=f'qemu-binary: {fake}\n')
        return fake, call_once(d.socket, 'io.libvfio.Manager.GetVersion')['parameters']['qemu']

    def test_version_text(self):
        d = self.daemon()
        result = vfioctl('version', socket_path=d.socket)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('Client:   vfioctl 0.1.0 (protocol 1)', result.stdout)
        self.assertIn('Daemon:   libvfiod 0.1.0 (protocol 1)', result.stdout)
        self.assertIn(f'Kernel:   {platform.release()}', result.stdout)
        self.assertEqual(result.stderr, '')

    def test_version_json_matches_daemon(self):
        d = self.daemon()
        result = vfioctl('--json', 'version', socket_path=d.socket)
        self.assertEqual(result.returncode, 0, result.stderr)
        out = json.loads(result.stdout)  # stdout holds JSON and nothing else
        self.assertEqual(out['client'], {'version': '0.1.0', 'protocolVersion': '1'})
        direct = call_once(d.socket, 'io.libvfio.Manager.GetVersion')['parameters']
        self.assertEqual(out['daemon'], direct)
        self.assertEqual(direct['kernelRelease'], platform.release())

    def test_qemu_found_and_version_read(self):
        qemu = subprocess.run(['sh', '-c', 'command -v qemu-system-x86_64'],
                              capture_output=True, text=True).stdout.strip()
        if not qemu:
            self.skipTest('qemu-system-x86_64 is not installed')
        expected = subprocess.run([qemu, '--version'], capture_output=True,
                                  text=True).stdout.split()[3]
        d = self.daemon()
        reply = call_once(d.socket, 'io.libvfio.Manager.GetVersion')['parameters']
        self.assertEqual(reply['qemu'], {'binary': qemu, 'version': expected, 'problem': None})

    def test_qemu_missing_is_explained(self):
        d = self.daemon(config='qemu-binary: /nonexistent/qemu-system-x86_64\n')
        reply = call_once(d.socket, 'io.libvfio.Manager.GetVersion')['parameters']
        self.assertIsNone(reply['qemu']['binary'])
        self.assertIn('was not found', reply['qemu']['problem'])
        result = vfioctl('version', socket_path=d.socket)
        self.assertEqual(result.returncode, 0)
        self.assertIn('QEMU:     not usable: /nonexistent/qemu-system-x86_64 was not found',
                      result.stdout)

    def test_qemu_without_version_is_explained(self):
        fake, qemu = self.daemon_with_qemu('qemu-silent', '#!/bin/sh\necho something else\n')
        self.assertEqual(qemu['binary'], fake)
        self.assertIsNone(qemu['version'])
        self.assertIn('did not report a version', qemu['problem'])

    def test_qemu_that_cannot_be_run_is_explained(self):
        """A qemu-binary the kernel cannot run (no known format) says why; the probe never
        waits on the loop for its exec."""
        _, qemu = self.daemon_with_qemu('qemu-garbage', b'\x00\x01not a program\n')
        self.assertIsNone(qemu['version'])
        self.assertIn('cannot be run (exec failed: Exec format error)', qemu['problem'])

    def test_qemu_wrapper_leaving_a_job_behind_does_not_hold_the_loop(self):
        """A wrapper that exits at once but leaves a job holding its output open: its
        output is read without waiting for that job (the loop check fails otherwise)."""
        _, qemu = self.daemon_with_qemu('qemu-leaves-a-job', '#!/bin/sh\nsleep 2 &\nexit 0\n')
        self.assertIn('did not report a version', qemu['problem'])

    def test_qemu_that_hangs_is_killed_and_reaped(self):
        """A qemu-binary that never answers --version is killed after 5 s, said so, and
        reaped off the loop: no child of the daemon is left, not even a zombie (and the
        loop check holds: the kill and the reap wait for nothing there)."""
        fake, qemu = self.daemon_with_qemu('qemu-hangs', '#!/bin/sh\nexec sleep 60\n')
        self.assertEqual(qemu['binary'], fake)
        self.assertIsNone(qemu['version'])
        self.assertIn('it hung when run with --version', qemu['problem'])
        daemon = self.daemons[-1].process.pid

        def children():
            found = []
            for entry in os.listdir('/proc'):
                try:
                    with open(f'/proc/{entry}/stat') as f:
                        fields = f.read().rsplit(')', 1)[1].split()
                except (OSError, IndexError):
                    continue
                if fields[1] == str(daemon):
                    found.append((entry, fields[0]))
            return found
        wait_for(lambda: not children(), what='the hung probe to be gone and reaped')

    def test_qemu_is_probed_at_start_once_per_binary(self):
        # A stand-in QEMU that notes each run: the daemon runs it as it starts, before
        # anyone asks, and not again while the file stays the same; a new file at the
        # same path is run once more.
        fake = os.path.join(self.workdir, 'qemu-counted')
        runs = os.path.join(self.workdir, 'runs')

        def write_fake(version):
            with open(fake + '.new', 'w') as f:
                f.write(f'#!/bin/sh\necho run >> {runs}\n'
                        f'echo "QEMU emulator version {version} (test)"\n')
            os.chmod(fake + '.new', 0o755)
            os.rename(fake + '.new', fake)  # a new inode, as a package upgrade makes

        def count():
            try:
                with open(runs) as f:
                    return len(f.readlines())
            except FileNotFoundError:
                return 0
        write_fake('7.2.1')
        d = self.daemon(config=f'qemu-binary: {fake}\n')
        wait_for(lambda: count() == 1, what='the probe at start')
        for _ in range(3):
            qemu = call_once(d.socket, 'io.libvfio.Manager.GetVersion')['parameters']['qemu']
            self.assertEqual((qemu['binary'], qemu['version']), (fake, '7.2.1'))
        self.assertEqual(count(), 1, 'probed once for the same file')
        write_fake('8.0.3')
        qemu = call_once(d.socket, 'io.libvfio.Manager.GetVersion')['parameters']['qemu']
        self.assertEqual(qemu['version'], '8.0.3')
        self.assertEqual(count(), 2)

        # The next daemon (a restart, a socket-activated start, the first after a reboot)
        # takes the answer kept in the state directory without running anything while
        # the file is the same. The record is written on a worker after the answer, and
        # finished before the daemon exits: it is looked at (or damaged) only then.
        record = os.path.join(self.workdir, 'state', 'qemu-probe', 'qemu.json')

        def version_of_next_daemon(damage=None):
            d.stop()
            self.assertEqual(os.stat(record).st_mode & 0o777, 0o600)
            if damage is not None:
                with open(record, 'w') as f:
                    f.write(damage)
            d.start()
            return call_once(d.socket, 'io.libvfio.Manager.GetVersion')['parameters']['qemu']
        qemu = version_of_next_daemon()
        self.assertEqual((qemu['binary'], qemu['version']), (fake, '8.0.3'))
        self.assertEqual(count(), 2, 'a restart with the same file runs nothing')
        os.chmod(fake, 0o750)  # the same inode, size and mtime; a new ctime
        self.assertEqual(version_of_next_daemon()['version'], '8.0.3')
        wait_for(lambda: count() == 3, what='a probe after the file changed')
        # A damaged record is not believed, and not a failure.
        for damage in ('{"binary": "%s", "version": "9.9.9; rm -rf /"}' % fake, 'not json',
                       '[]', '{"binary": 1}'):
            before = count()
            self.assertEqual(version_of_next_daemon(damage)['version'], '8.0.3')
            self.assertEqual(count(), before + 1, damage)

    def test_socket_from_environment_and_option(self):
        d = self.daemon()
        result = vfioctl('version', env={'LIBVFIO_SOCKET': d.socket})
        self.assertEqual(result.returncode, 0, result.stderr)
        # --socket wins over the environment
        result = vfioctl('--socket', d.socket, 'version',
                         env={'LIBVFIO_SOCKET': '/nonexistent.sock'})
        self.assertEqual(result.returncode, 0, result.stderr)


class ClientErrorTest(DaemonTestCase):
    def test_daemon_not_running(self):
        path = os.path.join(self.workdir, 'nothing.sock')
        result = vfioctl('version', socket_path=path)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout, '')
        self.assertIn(f'libvfiod is not running (nothing listens on {path})', result.stderr)
        self.assertIn('systemctl start libvfiod.socket', result.stderr)
        self.assertEqual(len(result.stderr.splitlines()), 1)

    def test_daemon_not_running_json(self):
        result = vfioctl('--json', 'version', socket_path=self.workdir + '/x.sock')
        self.assertEqual(result.returncode, 1)
        out = json.loads(result.stdout)
        self.assertEqual(out['error'], 'io.libvfio.Client.DaemonNotRunning')
        self.assertIn('not running', out['message'])

    def test_stale_socket_file_means_not_running(self):
        path = os.path.join(self.workdir, 'stale.sock')
        s = socket.socket(socket.AF_UNIX)
        s.bind(path)
        s.close()  # the file stays, nobody listens
        result = vfioctl('version', socket_path=path)
        self.assertEqual(result.returncode, 1)
        self.assertIn('not running', result.stderr)

    def test_permission_denied(self):
        d = self.daemon()
        os.chmod(d.socket, 0o600)
        nobody = pwd.getpwnam('nobody')
        # A copy nobody can run, wherever the build tree is (/root is 0700).
        client = os.path.join(self.workdir, 'vfioctl')
        shutil.copy(VFIOCTL, client)
        result = vfioctl('version', socket_path=d.socket, user=nobody.pw_uid, binary=client)
        self.assertEqual(result.returncode, 1)
        self.assertIn(f'Permission denied opening {d.socket}', result.stderr)

    def test_daemon_that_does_not_accept(self):
        # Listens, never accepts, backlog full: a plain connect() would block forever.
        path = os.path.join(self.workdir, 'stuck.sock')
        server = socket.socket(socket.AF_UNIX)
        server.bind(path)
        server.listen(0)
        fillers = []
        try:
            while True:  # fill the backlog until the kernel says "try again"
                c = socket.socket(socket.AF_UNIX)
                c.setblocking(False)
                fillers.append(c)
                try:
                    c.connect(path)
                except BlockingIOError:
                    break
            result = vfioctl('version', socket_path=path, timeout=60)
        finally:
            for c in fillers:
                c.close()
            server.close()
        self.assertEqual(result.returncode, 1)
        self.assertIn('does not accept connections (for 10 s)', result.stderr)

    def test_protocol_error(self):
        """Something that is not libvfiod answers on the socket."""
        path = os.path.join(self.workdir, 'garbage.sock')
        server = socket.socket(socket.AF_UNIX)
        server.bind(path)
        server.listen()

        def answer_garbage():
            conn, _ = server.accept()
            conn.recv(65536)
            conn.sendall(b'HTTP/1.1 400 Bad Request\r\n\r\n\0')
            conn.close()

        t = threading.Thread(target=answer_garbage)
        t.start()
        result = vfioctl('version', socket_path=path)
        t.join()
        server.close()
        self.assertEqual(result.returncode, 1)
        self.assertIn('Protocol error', result.stderr)
        self.assertIn('Is something other than libvfiod listening there?', result.stderr)

    def test_daemon_error_sentence(self):
        """A real daemon error: the connection limit, with its sentence."""
        d = self.daemon(config='limits:\n  max-connections: 1\n')
        # root is never counted against max-connections: hold the slot as nobody
        holder = ConnectionsAs(d.socket, 1)
        self.assertEqual(holder.result['served'], 1)
        result = vfioctl('version', socket_path=d.socket, user=65534)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr.strip(),
                         'vfioctl: The daemon already serves 1 connections, its limit; '
                         'try again later.')
        result = vfioctl('--json', 'version', socket_path=d.socket, user=65534)
        self.assertEqual(json.loads(result.stdout)['error'],
                         'io.libvfio.Manager.TooManyConnections')
        holder.close()
        wait_for(lambda: vfioctl('version', socket_path=d.socket, user=65534).returncode == 0,
                 what='the slot to free up')

    def test_usage_errors_exit_2(self):
        for args in ([], ['frobnicate'], ['--bogus', 'version'], ['version', 'extra']):
            result = vfioctl(*args, socket_path='/nonexistent')
            self.assertEqual(result.returncode, 2, args)
            self.assertEqual(result.stdout, '', args)
            self.assertTrue(result.stderr.startswith('vfioctl: '), args)

    def test_help(self):
        for args in (['--help'], ['-h'], ['help']):
            result = vfioctl(*args)
            self.assertEqual(result.returncode, 0)
            self.assertIn('Usage: vfioctl', result.stdout)
            self.assertIn('version', result.stdout)
            self.assertIn('Exit status: 0 success, 1 failure', result.stdout)
        for args in (['version', '--help'], ['help', 'version'], ['-h', 'version']):
            result = vfioctl(*args)
            self.assertEqual(result.returncode, 0)
            self.assertTrue(result.stdout.startswith('Usage: vfioctl [--json] version'),
                            result.stdout)


class DaemonLifecycleTest(DaemonTestCase):
    def test_sigterm_and_sigint_exit_cleanly(self):
        for signo in (signal.SIGTERM, signal.SIGINT):
            d = self.daemon()
            d.send_signal(signo)
            self.assertEqual(d.wait_exit(), 0, d.output())
            self.assertFalse(os.path.exists(d.socket), 'socket left behind')
            self.assertIn('exiting', d.output())

    def test_stale_socket_is_replaced(self):
        path = os.path.join(self.workdir, 'libvfiod.sock')
        s = socket.socket(socket.AF_UNIX)
        s.bind(path)
        s.close()
        d = self.daemon()
        self.assertIn(f'Removing stale socket {path}', d.output())
        self.assertDaemonServes(d)

    def test_live_socket_is_not_stolen(self):
        first = self.daemon()
        second = self.daemon(start=False)
        second.start(wait=False)
        self.assertEqual(second.wait_exit(), 1)
        self.assertIn('Another daemon already answers on', second.output())
        self.assertDaemonServes(first)

    def test_socket_directory_is_created(self):
        path = os.path.join(self.workdir, 'a', 'b', 'libvfiod.sock')
        d = self.daemon(socket_path=path)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o666)
        self.assertDaemonServes(d)

    def test_non_file_socket_path_is_refused(self):
        path = os.path.join(self.workdir, 'regular-file')
        open(path, 'w').close()
        d = self.daemon(socket_path=path, start=False)
        d.start(wait=False)
        self.assertEqual(d.wait_exit(), 1)
        self.assertTrue(os.path.isfile(path), 'a regular file was removed')

    def test_bad_config_refuses_to_start(self):
        d = self.daemon(config='socket: /tmp/x.sock\nlimits:\n  max-conections: 5\n',
                        start=False)
        d.start(wait=False)
        self.assertEqual(d.wait_exit(), 1)
        self.assertIn(f'{d.config}:3: limits.max-conections: unknown key', d.output())

    def test_bad_option_exit_2(self):
        result = subprocess.run([LIBVFIOD, '--log-level', 'loud'], capture_output=True,
                                text=True)
        self.assertEqual(result.returncode, 2)
        self.assertIn("'loud' is not a log level", result.stderr)
        result = subprocess.run([LIBVFIOD, '--frobnicate'], capture_output=True, text=True)
        self.assertEqual(result.returncode, 2)

    def test_version_and_help(self):
        result = subprocess.run([LIBVFIOD, '--version'], capture_output=True, text=True)
        self.assertEqual(result.stdout, 'libvfiod 0.1.0 (protocol 1)\n')
        result = subprocess.run([LIBVFIOD, '--help'], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0)
        for option in ('--config', '--socket', '--sysfs-root', '--runtime-dir', '--state-dir',
                       '--log-level', '--version', '--help'):
            self.assertIn(option, result.stdout)

    def test_sighup_reloads_and_keeps_old_config_when_bad(self):
        d = self.daemon(config='limits:\n  max-message-size: 1MiB\n')
        big = {'interface': 'x' * 20000}

        def big_call_is_refused():
            reply = call_once(d.socket, 'org.varlink.service.GetInterfaceDescription', big)
            return reply['error'] == 'io.libvfio.Manager.MessageTooLarge'

        self.assertFalse(big_call_is_refused())
        with open(d.config, 'w') as f:
            f.write('limits:\n  max-message-size: 16KiB\nlog-level: debug\n')
        d.send_signal(signal.SIGHUP)
        wait_for(lambda: 'Configuration reloaded' in d.output(), what='the reload')
        self.assertTrue(big_call_is_refused())

        with open(d.config, 'w') as f:
            f.write('limits:\n  max-message-size: lots\n')
        d.send_signal(signal.SIGHUP)
        wait_for(lambda: 'Reload failed' in d.output(), what='the failed reload')
        self.assertIn(f"keeping the running configuration: {d.config}:2: "
                      "limits.max-message-size: 'lots' is not a size", d.output())
        self.assertTrue(big_call_is_refused())  # the 16 KiB limit still holds
        self.assertDaemonServes(d)

    def test_reload_warns_about_restart_only_settings(self):
        d = self.daemon(config='')
        with open(d.config, 'w') as f:
            f.write('sysfs-root: /var/tmp/elsewhere\n')
        d.send_signal(signal.SIGHUP)
        wait_for(lambda: 'Configuration reloaded' in d.output(), what='the reload')
        self.assertIn('sysfs-root changed to /var/tmp/elsewhere', d.output())
        self.assertIn('takes effect when libvfiod restarts', d.output())

    def test_command_line_overrides_file(self):
        d = self.daemon(config='limits:\n  max-connections: 1\nlog-level: debug\n',
                        args=['--log-level', 'warning'])
        self.assertNotIn('Connection 1 (uid', d.output())  # debug lines are off
        self.assertNotIn('ready', d.output())  # info too
        self.assertDaemonServes(d)


class ServiceManagerTest(DaemonTestCase):
    """READY=1, STATUS=, WATCHDOG=1 and STOPPING=1 as a service manager sees them."""

    def test_notify_protocol(self):
        path = os.path.join(self.workdir, 'notify.sock')
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(path)
        notify.settimeout(10)
        d = self.daemon(env={'NOTIFY_SOCKET': path, 'WATCHDOG_USEC': '200000'})
        messages = []

        def received(text):
            while not any(text in m for m in messages):
                messages.append(notify.recv(4096).decode())
            return True

        self.assertTrue(received('READY=1'))
        self.assertTrue(received('STATUS=Serving 0 client connections'))
        self.assertTrue(received('WATCHDOG=1'))
        holder = Varlink(d.socket)
        holder.call('org.varlink.service.GetInfo')
        self.assertTrue(received('STATUS=Serving 1 client connection;'))
        holder.close()
        d.send_signal(signal.SIGTERM)
        self.assertTrue(received('STOPPING=1'))
        self.assertEqual(d.wait_exit(), 0)
        notify.close()
        holder.close()

    def test_status_on_failure(self):
        path = os.path.join(self.workdir, 'notify.sock')
        notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        notify.bind(path)
        notify.settimeout(10)
        d = self.daemon(config='log-level: chatty\n', env={'NOTIFY_SOCKET': path},
                        start=False)
        d.start(wait=False)
        self.assertEqual(d.wait_exit(), 1)
        self.assertIn('STATUS=Failed to start', notify.recv(4096).decode())
        notify.close()


if __name__ == '__main__':
    unittest_tap.main()
