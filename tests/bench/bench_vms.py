#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Benchmark (meson test --benchmark): what the VM table costs with 1, 100 and
1,000 VMs defined.

  - `List` on an open connection: from sending the call to having the whole
    reply (this script's JSON parsing is not counted);
  - `Get` of one VM on an open connection, the same way, beside
    `GetVersion`, the floor of any round trip;
  - `vfioctl list` as a whole command (exec, connect, call, print);
  - daemon exec to the first `List` answer: the listening socket is handed to
    libvfiod as systemd would (socket activation), the call is already
    waiting in it when the daemon execs, and the clock stops at the reply.

`python3 tests/bench/bench_vms.py [COUNTS...]` prints a table (medians; p95
of the calls); LIBVFIOD and VFIOCTL choose the binaries, BENCH_RUNS_SCALE
scales the number of runs (1: 200 Lists, 2,000 Gets, 50 commands, 20 daemon
starts), BENCH_JSON=FILE also writes the figures as JSON. Other benchmarks
call measure() for one count. Asserts nothing about the figures."""
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'integration'))
from libvfio_test import LIBVFIOD, VFIOCTL, Daemon  # noqa: E402

VMS = 'io.libvfio.VMs.'


def definition(name):
    return (f'name: {name}\nmemory: 64M\ncpus: 1\nfirmware: bios\nnetwork: none\n'
            f'owner: root\nautostart: false\n')


def populate(vm_dir, count):
    """`count` definitions vm-0000.yaml... in `vm_dir`, as an admin writes them (0644)."""
    os.makedirs(vm_dir, exist_ok=True)
    names = [f'vm-{i:04d}' for i in range(count)]
    for name in names:
        path = os.path.join(vm_dir, name + '.yaml')
        with open(path, 'w') as f:
            f.write(definition(name))
        os.chmod(path, 0o644)
    return names


class Connection:
    """A bare Varlink connection that times a call to its whole reply."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(path)

    def call_raw(self, method, parameters=None):
        message = {'method': method, 'parameters': parameters or {}}
        self.sock.sendall(json.dumps(message).encode() + b'\0')
        data = bytearray()
        while not data.endswith(b'\0'):
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError('libvfiod closed the connection')
            data += chunk
        return bytes(data[:-1])

    def close(self):
        self.sock.close()


def timed_calls(path, method, parameters, runs):
    """Milliseconds of `runs` calls on one connection, after a warm-up call; and a reply."""
    c = Connection(path)
    try:
        reply = json.loads(c.call_raw(method, parameters))
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            c.call_raw(method, parameters)
            times.append((time.perf_counter() - t) * 1000)
    finally:
        c.close()
    return times, reply


def timed_vfioctl_list(path, runs, vfioctl=VFIOCTL):
    env = dict(os.environ, LIBVFIO_SOCKET=path)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([vfioctl, 'list'], env=env, stdout=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - t) * 1000)
    return times


def first_answer(workdir, config, runs, libvfiod=LIBVFIOD):
    """Milliseconds from exec of libvfiod (socket-activated) to its first List reply."""
    times = []
    for i in range(runs):
        path = os.path.join(workdir, f'activated-{i}.sock')
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(path)
        listener.listen(16)
        client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        client.settimeout(60)
        client.connect(path)  # queued by the kernel until libvfiod accepts
        client.sendall(json.dumps({'method': VMS + 'List', 'parameters': {}}).encode() + b'\0')
        fd = listener.fileno()

        def hand_over():
            os.dup2(fd, 3)
            os.environ['LISTEN_FDS'] = '1'
            os.environ['LISTEN_PID'] = str(os.getpid())

        args = [libvfiod, '--config', config, '--runtime-dir', os.path.join(workdir, 'run'),
                '--state-dir', os.path.join(workdir, 'state'), '--socket', path]
        env_before = dict(os.environ)
        os.environ.pop('NOTIFY_SOCKET', None)
        t = time.perf_counter()
        process = subprocess.Popen(args, pass_fds=(fd,), preexec_fn=hand_over,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            data = bytearray()
            while not data.endswith(b'\0'):
                chunk = client.recv(1 << 20)
                if not chunk:
                    raise ConnectionError('libvfiod closed the connection')
                data += chunk
            times.append((time.perf_counter() - t) * 1000)
            if 'parameters' not in json.loads(data[:-1]):
                raise AssertionError(f'List failed: {bytes(data[:200])}')
        finally:
            os.environ.clear()
            os.environ.update(env_before)
            process.terminate()
            process.wait(10)
            client.close()
            listener.close()
            os.unlink(path)
    return times


def median(values):
    return statistics.median(values)


def p95(values):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * 0.95))]


def measure(count, runs=1.0, libvfiod=LIBVFIOD, vfioctl=VFIOCTL):
    """The four measures with `count` VMs defined: a dict of lists of milliseconds."""
    with tempfile.TemporaryDirectory(prefix='libvfio-bench-vms-') as workdir:
        os.chmod(workdir, 0o755)
        vm_dir = os.path.join(workdir, 'vms')
        names = populate(vm_dir, count)
        config_text = f'vms:\n  dir: {vm_dir}\n'
        d = Daemon(workdir, config=config_text, args=['--runtime-dir',
                                                      os.path.join(workdir, 'run')])
        d.args[0] = libvfiod
        d.start()
        try:
            results = {}
            n = max(20, int(runs * 200 * (1 if count < 1000 else 0.5)))
            results['list'], reply = timed_calls(d.socket, VMS + 'List', {}, n)
            listed = len(reply['parameters']['vms'])
            if listed != count:
                raise AssertionError(f'List shows {listed} VMs, not {count}')
            results['get'], reply = timed_calls(d.socket, VMS + 'Get',
                                                {'name': names[len(names) // 2]},
                                                max(50, int(runs * 2000)))
            if reply['parameters']['vm']['name'] != names[len(names) // 2]:
                raise AssertionError(f'Get: {reply}')
            results['floor'], _ = timed_calls(d.socket, 'io.libvfio.Manager.GetVersion', {},
                                              max(50, int(runs * 2000)))
            results['vfioctl_list'] = timed_vfioctl_list(d.socket, max(10, int(runs * 50)),
                                                         vfioctl)
            with open(f'/proc/{d.process.pid}/status') as f:
                status = dict(line.split(':', 1) for line in f)
            results['rss_anon_kib'] = int(status.get('RssAnon', '0 kB').split()[0])
        finally:
            d.stop()
        results['first_answer'] = first_answer(workdir, d.config, max(5, int(runs * 20)),
                                               libvfiod)
    return results


def main():
    counts = [int(a) for a in sys.argv[1:]] or [1, 100, 1000]
    runs = float(os.environ.get('BENCH_RUNS_SCALE', '1'))
    everything = {}
    print(f'libvfiod: {LIBVFIOD}\nvfioctl:  {VFIOCTL}')
    print('| VMs | List p50 (p95) | Get p50 (p95) | GetVersion p50 | vfioctl list p50 '
          '| exec to first List p50 | anon memory |')
    print('|---|---|---|---|---|---|---|')
    for count in counts:
        r = measure(count, runs)
        everything[count] = r
        print(f'| {count} | {median(r["list"]):.3f} ms ({p95(r["list"]):.3f}) '
              f'| {median(r["get"]) * 1000:.0f} µs ({p95(r["get"]) * 1000:.0f}) '
              f'| {median(r["floor"]) * 1000:.0f} µs '
              f'| {median(r["vfioctl_list"]):.2f} ms '
              f'| {median(r["first_answer"]):.1f} ms '
              f'| {r["rss_anon_kib"] / 1024:.1f} MiB |', flush=True)
    if os.environ.get('BENCH_JSON'):
        with open(os.environ['BENCH_JSON'], 'w') as f:
            json.dump(everything, f, indent=1)


if __name__ == '__main__':
    main()
