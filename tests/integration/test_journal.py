#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Logging to a real systemd-journald: with stderr connected to the journal
(as under systemd, $JOURNAL_STREAM naming that stream), libvfiod sends
native entries with PRIORITY, CODE_* and its LIBVFIO_* fields.

journald runs in a private mount namespace (unshare -m) on tmpfs, so the
host's journal is neither read nor written. Needs root."""
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import unittest

import unittest_tap
from libvfio_test import DaemonTestCase, Varlink, LIBVFIOD, wait_for

JOURNALD = '/lib/systemd/systemd-journald'


def inside_namespace(workdir):
    """Runs in the private mount namespace: journald, the daemon, the checks' data."""
    for path in ('/run/systemd', '/run/log', '/var/log/journal'):
        if os.path.isdir(path):
            subprocess.run(['mount', '-t', 'tmpfs', 'tmpfs', path], check=True)
    os.makedirs('/run/systemd/journal', exist_ok=True)
    journald_log = os.path.join(workdir, 'journald.log')
    journald = subprocess.Popen([JOURNALD], stdout=subprocess.DEVNULL,
                                stderr=open(journald_log, 'w'),
                                env=dict(os.environ, SYSTEMD_LOG_TARGET='console'))

    def journald_listens():
        if journald.poll() is not None:
            with open(journald_log) as f:
                raise AssertionError(f'systemd-journald exited ({journald.returncode}):\n'
                                     + f.read())
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect('/run/systemd/journal/stdout')
            return True
        except OSError:
            return False

    try:
        wait_for(journald_listens, what='journald')
        sock = os.path.join(workdir, 'libvfiod.sock')
        config = os.path.join(workdir, 'libvfiod.yaml')
        with open(config, 'w') as f:
            f.write(f'vms:\n  dir: {workdir}/vms\n  qemu-user: nobody\n  accel: tcg\n')
        # Like systemd: stderr is a journal stream and $JOURNAL_STREAM names it.
        wrapper = ('export JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2); exec "$@"')
        daemon = subprocess.Popen(
            ['systemd-cat', '-t', 'libvfiod-stderr', 'sh', '-c', wrapper, 'sh', LIBVFIOD,
             '--config', config, '--socket', sock,
             '--runtime-dir', os.path.join(workdir, 'run'),
             '--state-dir', os.path.join(workdir, 'state')])
        wait_for(lambda: os.path.exists(sock), what='the socket')
        with Varlink(sock) as v:
            v.send_raw(b'[1, 2, 3]\0')  # a protocol error: a warning about this client
            v.receive()
        with Varlink(sock) as v:
            # A VM whose QEMU refuses an argument: QEMU's complaint goes to the journal.
            v.call('io.libvfio.VMs.Define', {'definition': (
                'name: jvm\nmemory: 64M\nfirmware: bios\nnetwork: none\n'
                'qemu-args: [-no-such-option]\n')})
            start = v.call('io.libvfio.VMs.Start', {'name': 'jvm'})
            assert start.get('error') == 'io.libvfio.VMs.StartFailed', start
            # And one that runs, stops, runs again and is killed from outside.
            v.call('io.libvfio.VMs.Define', {'definition': (
                'name: okvm\nmemory: 64M\nfirmware: bios\nnetwork: none\n')})
            for _ in range(2):
                start = v.call('io.libvfio.VMs.Start', {'name': 'okvm'})
                assert 'parameters' in start, start
                v.call('io.libvfio.VMs.Stop', {'name': 'okvm', 'force': True})
            pid = v.call('io.libvfio.VMs.Start', {'name': 'okvm'})['parameters']['vm']['pid']
            os.kill(pid, 9)
            wait_for(lambda: v.call('io.libvfio.VMs.Get', {'name': 'okvm'})
                     ['parameters']['vm']['state'] == 'crashed', what='the crash')
        daemon.terminate()
        daemon.wait(10)
        time.sleep(0.2)
        out = subprocess.run(['journalctl', '--no-pager', '-o', 'json', '-a'],
                             capture_output=True, text=True, check=True).stdout
        print(json.dumps([json.loads(line) for line in out.splitlines()]))
    finally:
        journald.terminate()
        journald.wait(10)


@unittest.skipUnless(os.geteuid() == 0, 'needs root for a private mount namespace')
@unittest.skipUnless(os.path.exists(JOURNALD) and shutil.which('systemd-cat'),
                     'systemd-journald or systemd-cat missing')
class JournalTest(DaemonTestCase):
    def test_native_structured_entries(self):
        result = subprocess.run(['unshare', '--mount', '--propagation', 'private',
                                 sys.executable, __file__, '--inside', self.workdir],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        entries = json.loads(result.stdout.strip().splitlines()[-1])
        ours = [e for e in entries if e.get('SYSLOG_IDENTIFIER') == 'libvfiod']
        self.assertTrue(ours, 'libvfiod wrote nothing to the journal')
        # native protocol, not lines scraped from stderr
        self.assertTrue(all(e['_TRANSPORT'] == 'journal' for e in ours), ours)
        self.assertFalse([e for e in entries if e.get('SYSLOG_IDENTIFIER') == 'libvfiod-stderr'],
                         'lines went to stderr instead of the journal')

        ready = [e for e in ours if e['MESSAGE'] == 'libvfiod 0.1.0 ready']
        self.assertEqual(len(ready), 1)
        self.assertEqual(ready[0]['PRIORITY'], '6')
        self.assertEqual(ready[0]['CODE_FILE'].rsplit('/', 1)[-1], 'daemon.c')
        self.assertEqual(ready[0]['CODE_FUNC'], 'daemon_run')

        warning = [e for e in ours if 'received JSON that is not an object' in e['MESSAGE']]
        self.assertEqual(len(warning), 1, [e['MESSAGE'] for e in ours])
        self.assertEqual(warning[0]['PRIORITY'], '4')
        self.assertEqual(warning[0]['LIBVFIO_CLIENT_UID'], '0')
        self.assertTrue(warning[0]['LIBVFIO_CLIENT_PID'].isdigit())

        exiting = [e for e in ours if e['MESSAGE'].startswith('Received Terminated')]
        self.assertEqual(len(exiting), 1)

        # QEMU's own output, under its own identifier (sd_journal_stream_fd)
        qemu = [e for e in entries if e.get('SYSLOG_IDENTIFIER') == 'qemu-jvm']
        self.assertTrue(any('no-such-option' in e['MESSAGE'] for e in qemu), qemu)
        self.assertTrue(all(e['_TRANSPORT'] == 'stdout' for e in qemu), qemu)
        # the daemon's story of that VM, by its field
        story = [e['MESSAGE'] for e in ours if e.get('LIBVFIO_VM') == 'jvm']
        self.assertIn('VM jvm is starting', story)
        # without a log file to quote, the failure says where QEMU's words are
        self.assertIn('VM jvm: QEMU exited with status 1 before the guest ran; see its log: '
                      'journalctl -t qemu-jvm', story)

        # every start, stop and crash has its MESSAGE_ID
        def events(message_id):
            return [e['MESSAGE'] for e in ours
                    if e.get('MESSAGE_ID') == message_id and e.get('LIBVFIO_VM') == 'okvm']
        self.assertEqual(len(events('b31c9fa9ee5c45bb9fa8513bc6d91613')), 3)  # started
        self.assertEqual(len(events('39075e14810e49318eb6d78eb4b62d93')), 2)  # stopped
        crashed = events('3167b398c5b44e7083d4136e9b2f64a9')
        self.assertEqual(len(crashed), 1)
        self.assertIn('signal 9', crashed[0])


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == '--inside':
        inside_namespace(sys.argv[2])
    else:
        unittest_tap.main()
