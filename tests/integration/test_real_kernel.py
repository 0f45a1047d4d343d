#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The fast tests against the layout of a real kernel: the lab's sysfs, captured by
tests/lab/scenarios/capture.sh into tests/fixtures/lab/ (see tests/lab/capture-sysfs.py).

- libvfiod, pointed at that tree, lists the GPUs exactly as it did on the real kernel;
- the sysfs simulator, started on that tree and given the same writes the lab made
  (SR-IOV VFs with autoprobe off, a VF and a display function onto vfio-pci, an mdev
  on mbochs, a virtual parent), ends in the state the real kernel ended in.
"""
import json
import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'simulator'))
sys.path.insert(0, os.path.join(HERE, '..', 'fixtures'))
import unittest_tap  # noqa: E402
from libvfio_test import DaemonTestCase, Varlink  # noqa: E402
from lab_capture import load, materialize  # noqa: E402
from simulator import Simulator, prerequisites  # noqa: E402

CAPTURE = os.path.join(HERE, '..', 'fixtures', 'lab')


def captured(name):
    return load(os.path.join(CAPTURE, name))


def without_free_memory(value):
    """The answer less the NUMA nodes' free memory, which moved between the manifest's
    capture and the daemon's answer in the lab."""
    if isinstance(value, dict):
        return {k: without_free_memory(v) for k, v in value.items() if k != 'memoryFreeKiB'}
    if isinstance(value, list):
        return [without_free_memory(v) for v in value]
    return value


class RealKernelTest(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix='libvfio-real-kernel-', dir='/dev/shm')
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.tree = materialize(os.path.join(CAPTURE, 'before.json'),
                                os.path.join(self.tmp, 'host'))

    def test_discovery_matches_the_real_kernel(self):
        d = self.daemon(args=['--sysfs-root', self.tree])
        with Varlink(d.socket) as v:
            reply = v.call('io.libvfio.Host.ListGPUs')
        self.assertIn('parameters', reply, reply)
        self.maxDiff = None
        self.assertEqual(json.dumps(without_free_memory(reply['parameters']), indent=1,
                                    sort_keys=True),
                         json.dumps(without_free_memory(captured('gpus.json')), indent=1,
                                    sort_keys=True))

    def test_the_simulator_makes_what_the_kernel_made(self):
        missing = prerequisites()
        if missing:
            self.skipTest(missing)
        sim = Simulator(self.tree)
        sim.start()
        self.addCleanup(sim.close)
        for path, value in captured('writes.json'):
            sim.write(path, value)
        after = captured('after.json')
        # what the capture holds: one made before snapshots had hugepage pools has none
        snapshot = {k: v for k, v in sim.snapshot().items() if k in after}
        self.assertEqual(Simulator.diff(after, snapshot), [])


if __name__ == '__main__':
    unittest_tap.main()
