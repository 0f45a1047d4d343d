#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Benchmark (meson test --benchmark): the worst definitions any local user may send.

io.libvfio.VMs.Validate parses on the event loop, so what it costs everyone else
waits for. Each input is at most the 256 KiB a definition may have; the figure is
the whole round trip, median and worst of 20. libyaml alone took 52 s for the
deepest before the bounds (yaml_doc.h). Prints the figures; asserts nothing."""
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'integration'))
from libvfio_test import Daemon, Varlink  # noqa: E402

INPUTS = {
    'flow nesting, 100,000 levels': 'name: deep\nqemu-args: ' + '[' * 100000 + ']' * 100000,
    'block nesting, 700 levels': 'name: deep\n' + ''.join(f'{" " * i}k:\n' for i in range(700)),
    '15,000 anchors': 'name: a\n' + ''.join(f'k{i}: &a{i} v\n' for i in range(15000)),
    '64 aliases of a 64-level list': ('name: a\nx: &x ' + '[' * 62 + ']' * 62 + '\n'
                                      + ''.join(f'y{i}: *x\n' for i in range(64))),
    '20,000 unknown keys': 'name: a\n' + ''.join(f'k{i}: v\n' for i in range(20000)),
    'a valid definition': 'name: ok\nmemory: 4G\ncpus: 4\nfirmware: uefi\n',
}


def main():
    runs = int(os.environ.get('BENCH_RUNS', '20'))
    with tempfile.TemporaryDirectory(prefix='libvfio-bench-') as workdir:
        d = Daemon(workdir).start()
        try:
            print(f'{"input":34} {"bytes":>8} {"median ms":>10} {"worst ms":>9}  answer')
            with Varlink(d.socket, timeout=120) as v:
                for label, text in INPUTS.items():
                    times = []
                    for _ in range(runs):
                        t = time.perf_counter()
                        reply = v.call('io.libvfio.VMs.Validate', {'definition': text})
                        times.append((time.perf_counter() - t) * 1000)
                    answer = reply.get('error', 'valid').rsplit('.', 1)[-1]
                    message = reply.get('parameters', {}).get('message', '')
                    print(f'{label:34} {len(text):8} {statistics.median(times):10.2f} '
                          f'{max(times):9.2f}  {answer} {message[:60]}')
        finally:
            d.stop()


if __name__ == '__main__':
    main()
