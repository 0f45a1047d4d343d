#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Real socket activation: systemd-socket-activate holds the listening socket
and starts libvfiod on the first connection, as libvfiod.socket does."""
import os
import shutil
import signal
import subprocess
import unittest

import unittest_tap
from libvfio_test import DaemonTestCase, LIBVFIOD, vfioctl, wait_for


@unittest.skipUnless(shutil.which('systemd-socket-activate'), 'systemd-socket-activate missing')
class SocketActivationTest(DaemonTestCase):
    def activate(self, *daemon_args):
        self.socket = os.path.join(self.workdir, 'activated.sock')
        self.log_path = os.path.join(self.workdir, 'activate.log')
        self.log = open(self.log_path, 'w')
        env = dict(os.environ)
        env.pop('NOTIFY_SOCKET', None)
        self.process = subprocess.Popen(
            ['systemd-socket-activate', '-l', self.socket, LIBVFIOD,
             '--config', os.path.join(self.workdir, 'none.yaml'),
             '--runtime-dir', os.path.join(self.workdir, 'run'), *daemon_args],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        wait_for(lambda: os.path.exists(self.socket), what='the activation socket')

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def tearDown(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()
        super().tearDown()

    def test_first_connection_starts_the_daemon(self):
        self.activate()
        self.assertNotIn('libvfiod', self.output())  # nothing started yet
        result = vfioctl('--json', 'version', socket_path=self.socket)
        self.assertEqual(result.returncode, 0, result.stderr + self.output())
        self.assertIn('Listening on 1 socket passed by systemd', self.output())
        # later clients reach the same daemon
        for _ in range(3):
            self.assertEqual(vfioctl('version', socket_path=self.socket).returncode, 0)
        self.assertEqual(self.output().count('ready'), 1)

    def test_activated_daemon_ignores_socket_setting_and_exits_cleanly(self):
        self.activate('--socket', os.path.join(self.workdir, 'elsewhere.sock'))
        self.assertEqual(vfioctl('version', socket_path=self.socket).returncode, 0)
        self.assertFalse(os.path.exists(os.path.join(self.workdir, 'elsewhere.sock')))
        self.process.send_signal(signal.SIGTERM)
        self.assertEqual(self.process.wait(10), 0)
        self.assertIn('exiting', self.output())


if __name__ == '__main__':
    unittest_tap.main()
