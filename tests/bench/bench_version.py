#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Benchmark (meson test --benchmark): what a user feels of the foundation.

  - `vfioctl version` as a whole command (exec, connect, call, print), the
    figure to set against `virsh version` (15-28 ms);
  - one GetVersion round trip on an open connection (the daemon's own cost);
  - the daemon's resident memory after serving (libvirtd: about 25 MB).
Prints the figures; it asserts nothing about them (it is not a timed test)."""
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'integration'))
from libvfio_test import Daemon, Varlink, VFIOCTL  # noqa: E402


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def main():
    runs = int(os.environ.get('BENCH_RUNS', '300'))
    with tempfile.TemporaryDirectory(prefix='libvfio-bench-') as workdir:
        d = Daemon(workdir).start()
        try:
            env = dict(os.environ, LIBVFIO_SOCKET=d.socket)
            command = []
            for _ in range(runs):
                t = time.perf_counter()
                subprocess.run([VFIOCTL, 'version'], env=env, stdout=subprocess.DEVNULL,
                               check=True)
                command.append((time.perf_counter() - t) * 1000)

            roundtrip = []
            with Varlink(d.socket) as v:
                for _ in range(runs * 10):
                    t = time.perf_counter()
                    v.call('io.libvfio.Manager.GetVersion')
                    roundtrip.append((time.perf_counter() - t) * 1000)

            with open(f'/proc/{d.process.pid}/status') as f:
                rss = next(line.split()[1] for line in f if line.startswith('VmRSS:'))
        finally:
            d.stop()

    print(f'vfioctl version (whole command): median {statistics.median(command):.2f} ms, '
          f'p95 {percentile(command, 0.95):.2f} ms over {runs} runs (virsh: 15-28 ms)')
    print(f'GetVersion round trip on an open connection: median '
          f'{statistics.median(roundtrip) * 1000:.0f} us, p95 '
          f'{percentile(roundtrip, 0.95) * 1000:.0f} us over {runs * 10} calls')
    print(f'libvfiod resident memory: {int(rss) / 1024:.1f} MiB (libvirtd: about 25 MB)')


if __name__ == '__main__':
    main()
