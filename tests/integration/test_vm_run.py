#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""vfioctl run, the main process of libvfio-vm@.service (Type=notify), with the
real daemon and a real QEMU (TCG): it starts a VM or attaches to one that runs,
says READY=1 on $NOTIFY_SOCKET once QEMU runs the guest, and exits when the VM
ends: 0 on a stop, 1 with the reason when QEMU is killed or the start fails. It
follows the VM across a restart of the daemon. vfioctl stop, the unit's
ExecStop=, succeeds on a VM that does not run."""
import os
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import unittest_tap  # noqa: E402
from libvfio_test import VFIOCTL, vfioctl  # noqa: E402
from test_vm_lifecycle import VmTestCase, pid_alive  # noqa: E402


class RunTest(VmTestCase):
    def setUp(self):
        super().setUp()
        self.runs = []
        # systemd's side of sd_notify: a datagram socket named by $NOTIFY_SOCKET
        self.notify_path = os.path.join(self.workdir, 'notify')
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        self.addCleanup(self.notify.close)

    def tearDown(self):
        for process in self.runs:
            if process.poll() is None:
                process.kill()
            process.communicate()
        super().tearDown()

    def run_vm(self, d, name):
        env = dict(os.environ, NOTIFY_SOCKET=self.notify_path)
        env.pop('LIBVFIO_SOCKET', None)
        process = subprocess.Popen([VFIOCTL, '--socket', d.socket, 'run', name],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env=env)
        self.runs.append(process)
        return process

    def notifications(self, until, timeout=60):
        """The sd_notify messages up to the one containing `until`."""
        seen = []
        self.notify.settimeout(timeout)
        while not any(until in m for m in seen):
            seen.append(self.notify.recv(4096).decode())
        return seen

    def finish(self, process, timeout=60):
        out, err = process.communicate(timeout=timeout)
        return process.returncode, out, err

    def running_pid(self, d, name):
        vm = self.ok(d, 'Get', {'name': name})['vm']
        self.assertEqual(vm['state'], 'running', vm)
        self.qemu_pids.add(vm['pid'])
        return vm['pid']

    def test_starts_then_ready_then_exits_0_on_a_stop(self):
        d = self.start_daemon()
        self.define(d, 'unit')
        run = self.run_vm(d, 'unit')
        notes = self.notifications('READY=1')
        # READY=1 only once QEMU runs the guest; the phases went to STATUS= before
        self.assertTrue(any('STATUS=' in n for n in notes[:-1]), notes)
        pid = self.running_pid(d, 'unit')
        time.sleep(0.5)
        self.assertIsNone(run.poll(), 'vfioctl run must stay while the VM runs')
        # an outside stop (vfioctl stop, the guest powering off) ends it with 0
        result = vfioctl('stop', 'unit', '--force', socket_path=d.socket)
        self.assertEqual(result.returncode, 0, result.stderr)
        rc, out, err = self.finish(run)
        self.assertEqual(rc, 0, out + err + d.output())
        self.assertIn('unit is running (pid', out)
        self.assertIn('unit stopped', out)
        self.assertFalse(pid_alive(pid))
        # ExecStop= runs after that too: a stop of a stopped VM succeeds
        result = vfioctl('stop', 'unit', socket_path=d.socket)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual((result.stdout, result.stderr),
                         ('', 'vfioctl: unit is not running (stopped): nothing to stop.\n'))

    def test_attaches_to_a_vm_that_runs(self):
        d = self.start_daemon()
        self.define(d, 'already')
        _, vm = self.start(d, 'already')
        run = self.run_vm(d, 'already')
        self.notifications('READY=1')
        time.sleep(0.5)
        self.assertIsNone(run.poll())
        # the same QEMU: attached, not started twice
        self.assertEqual(self.running_pid(d, 'already'), vm['pid'])
        self.ok(d, 'Stop', {'name': 'already', 'force': True})
        rc, out, err = self.finish(run)
        self.assertEqual(rc, 0, out + err)
        self.assertIn('already is already running: following it.', out)

    def test_qemu_killed_is_a_failure_with_the_reason(self):
        d = self.start_daemon()
        self.define(d, 'doomed')
        run = self.run_vm(d, 'doomed')
        self.notifications('READY=1')
        os.kill(self.running_pid(d, 'doomed'), signal.SIGKILL)
        rc, out, err = self.finish(run)
        self.assertEqual(rc, 1, out + err)
        self.assertIn('vfioctl: doomed crashed: QEMU was killed by signal 9 (KILL)', err)
        # the unit's ExecStop= after the crash succeeds; the unit stays failed by the 1
        result = vfioctl('stop', 'doomed', socket_path=d.socket)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('not running (crashed)', result.stderr)

    def test_a_start_that_fails_is_a_failure_before_ready(self):
        d = self.start_daemon()
        self.define(d, 'picky', 'qemu-args: [-no-such-option]\n')
        run = self.run_vm(d, 'picky')
        rc, out, err = self.finish(run)
        self.assertEqual(rc, 1, out + err)
        self.assertIn('no-such-option', err)
        self.notify.settimeout(0.1)
        notes = []
        try:
            while True:
                notes.append(self.notify.recv(4096).decode())
        except socket.timeout:
            pass
        self.assertFalse(any('READY=1' in n for n in notes), notes)
        # no such VM: a failure too
        rc, out, err = self.finish(self.run_vm(d, 'nobody-here'))
        self.assertEqual(rc, 1, out + err)
        self.assertIn("no VM named 'nobody-here'", err)

    def test_follows_the_vm_across_a_daemon_restart(self):
        d = self.start_daemon()
        self.define(d, 'steady')
        run = self.run_vm(d, 'steady')
        self.notifications('READY=1')
        pid = self.running_pid(d, 'steady')
        d.stop(signal.SIGKILL)
        self.notifications('STATUS=Waiting for libvfiod')
        time.sleep(1.5)  # a few attempts against no daemon at all
        self.assertIsNone(run.poll(), 'vfioctl run must wait for the daemon to come back')
        d = self.start_daemon()
        self.notifications('STATUS=steady is running')  # the new daemon's watch
        self.assertIsNone(run.poll())
        self.assertEqual(self.running_pid(d, 'steady'), pid)
        # a clean SIGTERM of the daemon is a restart too
        self.assertEqual(d.stop(signal.SIGTERM), 0, d.output())
        self.notifications('STATUS=Waiting for libvfiod')
        d = self.start_daemon()
        self.notifications('STATUS=steady is running')
        self.ok(d, 'Stop', {'name': 'steady', 'force': True})
        rc, out, err = self.finish(run)
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(err.count('lost libvfiod while following steady'), 2, err)
        self.assertEqual(err.count('libvfiod is back; steady is running.'), 2, err)
        self.assertFalse(pid_alive(pid))

    def test_stop_still_fails_on_a_vm_that_does_not_exist(self):
        d = self.start_daemon()
        result = vfioctl('stop', 'ghost', socket_path=d.socket)
        self.assertEqual(result.returncode, 1)
        self.assertIn("no VM named 'ghost'", result.stderr)


if __name__ == '__main__':
    unittest_tap.main()
