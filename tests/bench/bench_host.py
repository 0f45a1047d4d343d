#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Benchmark (meson test --benchmark): io.libvfio.Host.ListGPUs with a full
rediscovery on a generated host of 64 SR-IOV GPUs with 31 VFs each (over
2,000 PCI functions). The target is an answer in under 50 ms: the time from
sending the call to having the whole reply (this script's own JSON parsing
is not counted). Prints the figures; asserts nothing about them."""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
from libvfio_test import Daemon, Varlink  # noqa: E402


def main():
    runs = int(os.environ.get('BENCH_RUNS', '50'))
    with tempfile.TemporaryDirectory(prefix='libvfio-bench-host-') as workdir:
        root = os.path.join(workdir, 'large')
        subprocess.run([sys.executable, os.path.join(HERE, '..', 'fixtures', 'make-fixtures.py'),
                        '--generate-large', root, '--gpus', '64', '--vfs', '31'],
                       check=True, stdout=subprocess.DEVNULL)
        functions = len(os.listdir(os.path.join(root, 'sys/bus/pci/devices')))
        d = Daemon(workdir, args=['--sysfs-root', root]).start()
        try:
            times = []
            with Varlink(d.socket, timeout=60) as v:
                for _ in range(runs):
                    t = time.perf_counter()
                    v.send('io.libvfio.Host.ListGPUs', {'refresh': True})
                    raw = v.receive_raw()
                    times.append((time.perf_counter() - t) * 1000)
            reply = json.loads(raw)
            gpus = len(reply['parameters']['gpus'])
        finally:
            d.stop()
    times.sort()
    print(f'ListGPUs with full rediscovery, {functions} PCI functions, {gpus} GPUs: '
          f'median {statistics.median(times):.1f} ms, p95 {times[int(len(times) * 0.95)]:.1f} ms, '
          f'best {times[0]:.1f} ms over {runs} calls (target: under 50 ms)')


if __name__ == '__main__':
    main()
