#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Benchmark (meson test --benchmark) on a generated host of 64 SR-IOV GPUs
with 31 VFs each (over 2,000 PCI functions):

- exec to first `vfioctl gpus`: from starting libvfiod to `vfioctl gpus`
  having printed its table (the daemon's start, its one discovery, the
  client's whole process). Target: under 50 ms.
- io.libvfio.Host.ListGPUs with refresh: a full rediscovery, from sending
  the call to having the whole reply (this script's JSON parsing not
  counted).

Medians of repeated runs (BENCH_RUNS, BENCH_EXEC_RUNS). Prints the figures;
asserts nothing about them."""
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))
from libvfio_test import LIBVFIOD, VFIOCTL, Daemon, Varlink  # noqa: E402


def exec_to_first_gpus(workdir, root):
    """Milliseconds from exec of libvfiod to `vfioctl gpus` done."""
    sock = os.path.join(workdir, 'exec.sock')
    args = [LIBVFIOD, '--socket', sock, '--config', os.path.join(workdir, 'none.yaml'),
            '--runtime-dir', os.path.join(workdir, 'run-exec'),
            '--state-dir', os.path.join(workdir, 'state-exec'), '--sysfs-root', root]
    env = dict(os.environ)
    env.pop('NOTIFY_SOCKET', None)
    start = time.perf_counter()
    daemon = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=env)
    try:
        # The first moment the socket takes a connection, the client runs.
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(sock)
                break
            except OSError:
                if daemon.poll() is not None:
                    raise RuntimeError('libvfiod exited')
                time.sleep(0.0002)
            finally:
                s.close()
        result = subprocess.run([VFIOCTL, '--socket', sock, 'gpus'], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env=env)
        elapsed = (time.perf_counter() - start) * 1000
        if result.returncode != 0:
            raise RuntimeError(result.stderr.decode())
        return elapsed
    finally:
        daemon.terminate()
        daemon.wait()


def median_line(what, times, target):
    times = sorted(times)
    return (f'{what}: median {statistics.median(times):.1f} ms, '
            f'p95 {times[min(len(times) - 1, int(len(times) * 0.95))]:.1f} ms, '
            f'best {times[0]:.1f} ms over {len(times)} runs (target: {target})')


def main():
    runs = int(os.environ.get('BENCH_RUNS', '50'))
    exec_runs = int(os.environ.get('BENCH_EXEC_RUNS', '21'))
    with tempfile.TemporaryDirectory(prefix='libvfio-bench-host-') as workdir:
        root = os.path.join(workdir, 'large')
        subprocess.run([sys.executable, os.path.join(HERE, '..', 'fixtures', 'make-fixtures.py'),
                        '--generate-large', root, '--gpus', '64', '--vfs', '31'],
                       check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(workdir, 'none.yaml'), 'w'):
            pass
        functions = len(os.listdir(os.path.join(root, 'sys/bus/pci/devices')))
        exec_times = [exec_to_first_gpus(workdir, root) for _ in range(exec_runs)]

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
    print(median_line(f'exec to first vfioctl gpus, {functions} PCI functions', exec_times,
                      'under 50 ms'))
    print(median_line(f'ListGPUs with full rediscovery, {functions} PCI functions, {gpus} GPUs',
                      times, 'under 50 ms'))


if __name__ == '__main__':
    main()
