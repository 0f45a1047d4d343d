#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""varlink_rtt, the benchmark suite's C client (tests/bench/varlink_rtt.c),
against the real daemon: its figures agree with each other and with the reply
it timed, and it fails, saying why, on an error reply, on parameters that are
not one object, and on a peer that is not speaking Varlink as it should (a
stand-in server for the cases the daemon never produces).

$VARLINK_RTT names the binary; else it is found beside $LIBVFIOD's build
directory (build/tests/bench/varlink_rtt), as bench_suite.py finds it."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
import unittest_tap  # noqa: E402
from libvfio_test import LIBVFIOD, DaemonTestCase, Varlink  # noqa: E402
from bench_suite import find_varlink_rtt  # noqa: E402

VARLINK_RTT = os.environ.get('VARLINK_RTT') or find_varlink_rtt(
    os.path.dirname(os.path.dirname(os.path.abspath(LIBVFIOD))))

DEFINITION = 'name: {name}\nmemory: 64M\ncpus: 1\nfirmware: bios\nnetwork: none\n'


def run(*args):
    return subprocess.run([VARLINK_RTT, *args], capture_output=True, text=True, timeout=60)


class VarlinkRttTest(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.assertTrue(VARLINK_RTT and os.access(VARLINK_RTT, os.X_OK),
                        f'varlink_rtt not built (looked for {VARLINK_RTT}): ninja -C BUILD')
        vms = os.path.join(self.workdir, 'vms')
        os.makedirs(vms)
        for name in ('vm0', 'vm1'):
            with open(os.path.join(vms, name + '.yaml'), 'w') as f:
                f.write(DEFINITION.format(name=name))
        self.d = self.daemon(f'vms:\n  dir: {vms}\n  qemu-user: nobody\n  accel: tcg\n')

    def test_figures_of_a_call(self):
        result = run(self.d.socket, 'io.libvfio.VMs.Get', '{"name": "vm1"}', '--calls', '200',
                     '--warmup', '3', '--samples')
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads(result.stdout)
        self.assertEqual((report['method'], report['calls'], report['warmup']),
                         ('io.libvfio.VMs.Get', 200, 3))
        self.assertEqual(len(report['samples_us']), 200)
        self.assertGreater(report['min_us'], 0)
        self.assertLessEqual(report['min_us'], report['p50_us'])
        self.assertLessEqual(report['p50_us'], report['p90_us'])
        self.assertLessEqual(report['p90_us'], report['p99_us'])
        self.assertLessEqual(report['p99_us'], report['max_us'])
        samples = sorted(report['samples_us'])
        self.assertEqual((samples[0], samples[99], samples[179], samples[197], samples[-1]),
                         (report['min_us'], report['p50_us'], report['p90_us'],
                          report['p99_us'], report['max_us']))
        # The reply it timed is the one the daemon gives any client.
        with Varlink(self.d.socket) as v:
            v.send('io.libvfio.VMs.Get', {'name': 'vm1'})
            reply = v.receive_raw()
        self.assertIn(b'"vm1"', reply)
        self.assertEqual(report['reply_bytes'], len(reply.rstrip(b'\0')))

    def test_no_parameters_and_no_samples(self):
        result = run(self.d.socket, 'io.libvfio.VMs.List', '--calls', '5')
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads(result.stdout)
        self.assertEqual(report['calls'], 5)
        self.assertNotIn('samples_us', report)

    def test_error_reply_fails(self):
        result = run(self.d.socket, 'io.libvfio.VMs.Get', '{"name": "nosuch"}')
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout, '')
        self.assertIn('answered with the error io.libvfio.VMs.NoSuchVM', result.stderr)

    def test_bad_usage(self):
        for args, says in ((['io.libvfio.VMs.Get', '[1]'], 'one JSON object'),
                           (['io.libvfio.VMs.Get', '{} {}'], 'one JSON object'),
                           (['io.libvfio.VMs.Get', '{"name": '], 'one JSON object'),
                           (['not a method'], 'not a method name'),
                           (['io.libvfio.VMs.List', '--calls', '0'], 'from 1 to'),
                           (['io.libvfio.VMs.List', '--warmup', '-1'], 'from 0 to')):
            with self.subTest(args=args):
                result = run(self.d.socket, *args)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(says, result.stderr)
        result = run(os.path.join(self.workdir, 'nothing.sock'), 'io.libvfio.VMs.List')
        self.assertEqual(result.returncode, 1)
        self.assertIn('cannot connect', result.stderr)


class BadPeerTest(unittest.TestCase):
    """A stand-in server that answers each call with `answer`, then closes."""

    def serve(self, answer):
        directory = tempfile.mkdtemp(prefix='libvfio-test-')
        self.addCleanup(shutil.rmtree, directory, True)
        path = os.path.join(directory, 'bad.sock')
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(listener.close)
        listener.bind(path)
        listener.listen(1)

        def answer_once():
            connection, _ = listener.accept()
            with connection:
                data = b''
                while not data.endswith(b'\0'):
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                connection.sendall(answer)

        thread = threading.Thread(target=answer_once, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 10)
        return path

    def test_bad_peers(self):
        for answer, says in ((b'{"parameters":{}}\0{"parameters":{}}\0', 'bytes after the reply'),
                             (b'{"parameters":{}', 'closed the connection'),
                             (b'{"parameters":[]}\0', 'not a Varlink reply'),
                             (b'{"parameters":{}}}\0', 'not a Varlink reply')):
            with self.subTest(answer=answer):
                result = run(self.serve(answer), 'io.libvfio.Manager.GetVersion', '--warmup',
                             '0', '--calls', '1')
                self.assertEqual(result.returncode, 1, result.stdout)
                self.assertIn(says, result.stderr)

    def test_good_peer(self):
        result = run(self.serve(b'{"parameters":{"x":1}}\0'), 'io.libvfio.Manager.GetVersion',
                     '--warmup', '0', '--calls', '1')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout)['reply_bytes'], 22)


if __name__ == '__main__':
    unittest_tap.main()
