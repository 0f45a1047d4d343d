#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Benchmark (meson test --benchmark): what starting and stopping a VM costs
on top of QEMU itself (issue 5's targets; libvirt takes about 10x to start).

  start: `vfioctl start --wait` until QMP says "running", against the same
         argv launched by hand (as the same user, QEMU making its own QMP
         socket, polled every 1 ms; qmp_capabilities, cont, query-status
         "running"). Target: 1.25x.
  stop:  the Stop call with force on an open connection, from the call to
         its reply (QEMU reaped, everything released), and `vfioctl stop
         --force` as a whole command (exec, connect, call), against QEMU's
         own floor: SIGTERM by hand until the process is reaped (and, for
         reference, QMP "quit" by hand until reaped). Target (issue 15): the
         call in 2x the SIGTERM floor or less.

The VM is TCG, 64 MiB, no disk: QEMU's own start is then mostly exec and
device setup, which is the hardest case for the ratio. Prints the figures; it
asserts nothing (it is not a timed test)."""
import json
import os
import pwd
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'integration'))
from libvfio_test import Daemon, Varlink, VFIOCTL  # noqa: E402

DEFINITION = 'name: bench\nmemory: 64M\ncpus: 1\nfirmware: bios\nnetwork: none\n'


def qmp_call(sock, reader, command):
    sock.sendall(json.dumps({'execute': command}).encode() + b'\n')
    while True:
        message = json.loads(reader.readline())
        if 'return' in message or 'error' in message:
            return message


def hand_launch(argv, qmp_path, user, stop='quit'):
    """QEMU from the same argv, by hand: spawn to QMP "running", then stopped by QMP
    "quit" or by SIGTERM (`stop`) until reaped. Returns both times in ms."""
    def drop():
        os.setgroups([])
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)
    began = time.perf_counter()
    qemu = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, preexec_fn=drop, close_fds=True)
    while True:
        try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(qmp_path)
            break
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            time.sleep(0.001)
    reader = sock.makefile('r')
    reader.readline()  # greeting
    qmp_call(sock, reader, 'qmp_capabilities')
    qmp_call(sock, reader, 'cont')
    assert qmp_call(sock, reader, 'query-status')['return']['status'] == 'running'
    start_ms = (time.perf_counter() - began) * 1000

    began = time.perf_counter()
    if stop == 'quit':
        sock.sendall(b'{"execute": "quit"}\n')
    else:
        qemu.send_signal(signal.SIGTERM)
    qemu.wait()
    stop_ms = (time.perf_counter() - began) * 1000
    reader.close()
    sock.close()
    return start_ms, stop_ms


def hand_argv(d, workdir, user, vfioctl, name='bench'):
    """The argv daemon `d` builds for VM `name`, to launch by hand as `user` with
    its sockets in WORKDIR/hand (bench_suite.py uses it too). Returns (argv, qmp_path)."""
    vfioctl('start', name)
    with Varlink(d.socket) as v:
        pid = v.call('io.libvfio.VMs.Get', {'name': name})['parameters']['vm']['pid']
    with open(f'/proc/{pid}/cmdline') as f:
        argv = f.read().rstrip('\0').split('\0')
    vfioctl('stop', '--force', name)
    hand_dir = os.path.join(workdir, 'hand')
    os.makedirs(hand_dir, exist_ok=True)
    os.chown(hand_dir, user.pw_uid, user.pw_gid)
    qmp_path = os.path.join(hand_dir, 'qmp.sock')
    # The daemon passes QMP's and the console's sockets as fds 3 and 4; by hand,
    # QEMU makes them itself.
    console_path = os.path.join(hand_dir, 'console.sock')
    return [a.replace('socket,id=qmp,fd=3,', f'socket,id=qmp,path={qmp_path},')
            .replace('socket,id=console,fd=4,', f'socket,id=console,path={console_path},')
            for a in argv], qmp_path


def main():
    runs = int(os.environ.get('BENCH_RUNS', '15'))
    user = pwd.getpwnam('nobody')
    with tempfile.TemporaryDirectory(prefix='libvfio-bench-') as workdir:
        os.chmod(workdir, 0o755)
        config = (f'vms:\n  dir: {workdir}/vms\n  qemu-user: nobody\n  accel: tcg\n'
                  'log-level: warning\n')
        d = Daemon(workdir, config=config).start()
        try:
            env = dict(os.environ, LIBVFIO_SOCKET=d.socket)
            with Varlink(d.socket) as v:
                assert 'parameters' in v.call('io.libvfio.VMs.Define',
                                              {'definition': DEFINITION})

            def vfioctl(*args):
                subprocess.run([VFIOCTL, *args], env=env, stdout=subprocess.DEVNULL,
                               check=True)

            argv, qmp_path = hand_argv(d, workdir, user, vfioctl)

            daemon_start, daemon_stop, hand_start, hand_stop, hand_term = [], [], [], [], []
            call_stop = []
            for _ in range(runs):  # interleaved, so both see the same machine
                t = time.perf_counter()
                vfioctl('start', '--wait', 'bench')
                daemon_start.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                vfioctl('stop', '--force', 'bench')
                daemon_stop.append((time.perf_counter() - t) * 1000)

                vfioctl('start', '--wait', 'bench')
                with Varlink(d.socket) as v:
                    t = time.perf_counter()
                    reply = v.call('io.libvfio.VMs.Stop', {'name': 'bench', 'force': True})
                    call_stop.append((time.perf_counter() - t) * 1000)
                    assert reply['parameters']['vm']['state'] == 'stopped', reply

                start_ms, stop_ms = hand_launch(argv, qmp_path, user)
                hand_start.append(start_ms)
                hand_stop.append(stop_ms)
                hand_term.append(hand_launch(argv, qmp_path, user, stop='sigterm')[1])
        finally:
            d.stop()

    ds, hs = statistics.median(daemon_start), statistics.median(hand_start)
    dq, hq = statistics.median(daemon_stop), statistics.median(hand_stop)
    ht = statistics.median(hand_term)
    dc = statistics.median(call_stop)
    print(f'start to running, median of {runs}: vfioctl start --wait {ds:.1f} ms, '
          f'QEMU by hand {hs:.1f} ms: ratio {ds / hs:.2f}x (target 1.25x; libvirt ~10x)')
    print(f'stop --force to gone and released, median of {runs}: Stop call {dc:.1f} ms, '
          f'QEMU by hand SIGTERM to reaped {ht:.1f} ms: ratio {dc / ht:.2f}x (target 2x); '
          f'whole vfioctl stop --force {dq:.1f} ms: {dq / ht:.2f}x; '
          f'QMP quit by hand to reaped {hq:.1f} ms')


if __name__ == '__main__':
    main()
