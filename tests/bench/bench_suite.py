#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every measure of issue 15, side by side with QEMU's own floor and, when it is
installed, with libvirt, in one run on one machine.

    python3 tests/bench/bench_suite.py [--build DIR] [--smoke | --full] [--json FILE]
                                       [--varlink-rtt PATH|python]

With 1, 100 and 1,000 VMs defined (--smoke: 1 and 100) and on the generated host
of 2,141 PCI functions (tests/fixtures/make-fixtures.py --generate-large):

  - `vfioctl list`, the whole process; `List` on an open connection (p50, p90);
    `Get` of one VM (p50), beside the round-trip floor: `GetVersion`;
  - the daemon's exec to its first answer (a first `List`, a first `GetVersion`);
  - the first `vfioctl version` after the daemon starts;
  - the daemon's exec to the first `vfioctl gpus` on the 2,141-function host;
  - `vfioctl stop --force` until QEMU is gone and released (the whole process,
    and the Stop call on an open connection), against QEMU's own SIGTERM (and
    QMP `quit`) to reaped on the same argv launched by hand;
  - `vfioctl start --wait` against the same argv launched by hand to "running";
  - the daemon's anonymous memory (RssAnon, and Private_Dirty of smaps_rollup)
    idle, and idle again after N calls (List, Get, GetVersion).

libvirt, when `libvirtd` and `virsh` are installed, is run by the suite as root
in a private mount namespace: its own /etc/libvirt, /run and /var (so nothing
of the host's libvirt is read or touched), its socket in the suite's directory.
The same measures where libvirt has them: `virsh list --all` with as many
domains defined (minimal TCG XML), `list --all` on one open `virsh`, the
daemon's exec to its first answer, `virsh version`, and libvirtd's anonymous
memory idle and after as many calls.

The calls on an open connection are timed by varlink_rtt (tests/bench/varlink_rtt.c,
found in the build directory) when it is built: a C client whose own cost is a
few microseconds, where Python's is about 100 us a call here. Without it they are
timed from Python, and the table and the JSON say which client measured.

Runs of the two sides are interleaved (A, B, A, B...) and each figure is the
median of its runs; ratios come from the same run. Prints a table, and with
--json writes it with the machine's description. Exit status 1 only when a
measure could not be taken; a figure, however bad, never fails the run.
"""
import argparse
import json
import os
import platform
import pwd
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'integration'))


# --- settings ----------------------------------------------------------------------------

MODES = {
    # counts of VMs, runs of each whole-process measure, calls on an open connection,
    # calls between the two memory readings, runs of start/stop, runs of daemon execs,
    # rounds the calls on an open connection are split in (interleaved with libvirt's)
    'smoke': dict(counts=[1, 100], runs=3, calls=50, memory_calls=300, vm_runs=2,
                  exec_runs=2, rounds=2, libvirt=False),
    'default': dict(counts=[1, 100, 1000], runs=11, calls=500, memory_calls=10_000,
                    vm_runs=7, exec_runs=9, rounds=5, libvirt=True),
    'full': dict(counts=[1, 100, 1000], runs=21, calls=2000, memory_calls=100_000,
                 vm_runs=15, exec_runs=15, rounds=10, libvirt=True),
}

DEFINITION = 'name: {name}\nuuid: {uuid}\nmemory: 64M\ncpus: 1\nfirmware: bios\nnetwork: none\n'
DOMAIN_XML = ("<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory>"
              "<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>"
              "<devices><emulator>{qemu}</emulator></devices></domain>\n")
IDLE_SECONDS = 2.5
QEMU = shutil.which('qemu-system-x86_64') or '/usr/bin/qemu-system-x86_64'

# Issue 15's targets, by measure: (value, unit), shown beside the figures.
TARGETS = {
    'vfioctl list': '<= 10 ms',
    'List, open connection, p50': '<= 1 ms',
    'Get one VM, open connection, p50': '<= 0.05 ms',
    'exec to first List answer': '< 20 ms',
    'exec to first GetVersion answer': '< 20 ms',
    'first vfioctl version after start': '< 20 ms',
    'exec to first vfioctl gpus, 2,141 functions': '< 50 ms',
    'stop --force to QEMU gone': '<= 2x floor',
    'Stop with force, open connection': '<= 2x floor',
    'start --wait to running': '<= 1.25x floor',
    'memory idle (RssAnon)': '<= 2 MiB',
    'memory idle after calls (RssAnon)': 'no growth',
}


class MeasureFailed(Exception):
    pass


def ms_since(began):
    return (time.perf_counter() - began) * 1000


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def summary(values):
    return {'median': statistics.median(values), 'p90': percentile(values, 0.9),
            'min': min(values), 'runs': len(values)}


def anonymous_memory(pid):
    """(RssAnon, Private_Dirty) of process `pid` in KiB."""
    with open(f'/proc/{pid}/status') as f:
        rss_anon = next(int(line.split()[1]) for line in f if line.startswith('RssAnon:'))
    private_dirty = None
    try:
        with open(f'/proc/{pid}/smaps_rollup') as f:
            private_dirty = next(int(line.split()[1]) for line in f
                                 if line.startswith('Private_Dirty:'))
    except OSError:
        pass
    return rss_anon, private_dirty


def terminate(process, timeout=30):
    """SIGTERM to a daemon the suite started, then SIGKILL after `timeout` s. False when
    it had to be killed; True when it exited (or there was none)."""
    if not process or process.poll() is not None:
        return True
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
        return True
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return False


def connect_when_listening(path, process, began, timeout=30.0):
    """A socket connected to `path` as soon as something listens there (polled
    every 0.2 ms); fails when `process` exits first."""
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
            return sock
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
        if process.poll() is not None:
            raise MeasureFailed(f'{process.args[0]} exited with {process.returncode} '
                                'before it listened')
        if time.perf_counter() - began > timeout:
            raise MeasureFailed(f'nothing listened on {path} within {timeout} s')
        time.sleep(0.0002)


def varlink_call(sock, method, parameters=None):
    """One call on a raw Varlink socket; returns the reply's bytes."""
    message = {'method': method}
    if parameters is not None:
        message['parameters'] = parameters
    sock.sendall(json.dumps(message).encode() + b'\0')
    data = b''
    while not data.endswith(b'\0'):
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise MeasureFailed(f'the daemon closed the connection during {method}')
        data += chunk
    if data.startswith(b'{"error"'):
        raise MeasureFailed(f'{method}: {data[:200]!r}')
    return data


def find_varlink_rtt(build_dir):
    """BUILD_DIR/tests/bench/varlink_rtt when it is built there, else None."""
    path = os.path.join(build_dir, 'tests', 'bench', 'varlink_rtt')
    return path if os.access(path, os.X_OK) else None


def time_calls(path, method, parameters, calls):
    """Milliseconds of `calls` calls of `method` on one connection to `path` (after
    10 untimed), each from its send to the end of its reply: by varlink_rtt when
    VARLINK_RTT names it, else from Python. Any error reply fails the measure."""
    if VARLINK_RTT:
        argv = [VARLINK_RTT, path, method, '--calls', str(calls), '--warmup', '10',
                '--samples']
        if parameters is not None:
            argv.insert(3, json.dumps(parameters))
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=600)
        if done.returncode != 0:
            raise MeasureFailed(f'varlink_rtt {method}: exit {done.returncode}: '
                                f'{done.stderr.decode(errors="replace").strip()}')
        samples = json.loads(done.stdout)['samples_us']
        if len(samples) != calls:
            raise MeasureFailed(f'varlink_rtt {method}: {len(samples)} times, not {calls}')
        return [us / 1000 for us in samples]
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(path)
        for _ in range(10):
            varlink_call(sock, method, parameters)
        times = []
        for _ in range(calls):
            began = time.perf_counter()
            varlink_call(sock, method, parameters)
            times.append(ms_since(began))
        return times


def rtt_client():
    """Which client times the calls on an open connection, for the table and the JSON."""
    return 'varlink_rtt' if VARLINK_RTT else 'python'


# --- libvfio -----------------------------------------------------------------------------

class Libvfio:
    """libvfiod with COUNT VM definitions written in its VMs directory."""

    def __init__(self, workdir, count, extra_args=()):
        self.workdir = workdir
        self.socket = os.path.join(workdir, 'libvfiod.sock')
        vms = os.path.join(workdir, 'vms')
        os.makedirs(vms, exist_ok=True)
        for i in range(count):
            name = f'vm{i:04}'
            path = os.path.join(vms, name + '.yaml')
            if not os.path.exists(path):
                with open(path, 'w') as f:
                    f.write(DEFINITION.format(name=name, uuid=uuid.uuid4()))
        self.config = os.path.join(workdir, 'libvfiod.yaml')
        with open(self.config, 'w') as f:
            f.write(f'vms:\n  dir: {vms}\n  qemu-user: nobody\n  accel: tcg\n'
                    'log-level: warning\n')
        # What the suite wrote is on disk before anything is timed: the kernel's
        # writeback of a thousand new files is not the daemon's start.
        os.sync()
        self.argv = [LIBVFIOD, '--config', self.config, '--socket', self.socket,
                     '--runtime-dir', os.path.join(workdir, 'run'),
                     '--state-dir', os.path.join(workdir, 'state'), *extra_args]
        self.env = dict(os.environ, LIBVFIO_SOCKET=self.socket)
        self.env.pop('NOTIFY_SOCKET', None)
        self.process = None
        self.log = os.path.join(workdir, 'libvfiod.log')

    def spawn(self):
        """Execs the daemon; returns the time of the exec and a connected socket."""
        if os.path.exists(self.socket):
            os.unlink(self.socket)
        log = open(self.log, 'a')
        began = time.perf_counter()
        self.process = subprocess.Popen(self.argv, stdout=log, stderr=log, env=self.env)
        log.close()
        return began, connect_when_listening(self.socket, self.process, began)

    def start(self):
        _, sock = self.spawn()
        varlink_call(sock, 'org.varlink.service.GetInfo')
        sock.close()
        return self

    def stop(self):
        process, self.process = self.process, None
        if not terminate(process):
            raise MeasureFailed('libvfiod did not exit within 30 s of SIGTERM')

    def vfioctl(self, *args):
        """Runs vfioctl; returns its whole time in ms."""
        began = time.perf_counter()
        done = subprocess.run([VFIOCTL, *args], env=self.env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
        elapsed = ms_since(began)
        if done.returncode != 0:
            raise MeasureFailed(f'vfioctl {" ".join(args)}: exit {done.returncode}: '
                                f'{done.stderr.decode(errors="replace").strip()}')
        return elapsed


# --- libvirt -----------------------------------------------------------------------------

LIBVIRT_NAMESPACE_SCRIPT = '''set -e
W="$1"
mount --bind "$W/etc" /etc/libvirt
mount --bind "$W/passwd" /etc/passwd
mount --bind "$W/group" /etc/group
mount --bind "$W/run" /run
mount --bind "$W/var" /var
exec "$2" --config "$W/libvirtd.conf"
'''


def libvirt_installed():
    return bool(shutil.which('virsh') and shutil.which('libvirtd') and shutil.which('unshare')
                and os.path.isdir('/etc/libvirt') and os.geteuid() == 0)


class Libvirt:
    """libvirtd as root in a private mount namespace: its configuration, /run and
    /var are the suite's directories, its socket WORKDIR/libvirt-sock. The QEMU
    capabilities it probes on its first start are kept in WORKDIR for the next."""

    def __init__(self, workdir):
        self.workdir = workdir
        for d in ('etc', 'run', 'var/lib/libvirt', 'var/cache/libvirt', 'var/log/libvirt',
                  'var/tmp'):
            os.makedirs(os.path.join(workdir, d), exist_ok=True)
        os.symlink('/run', os.path.join(workdir, 'var/run'))
        shutil.copytree('/etc/libvirt', os.path.join(workdir, 'etc'), dirs_exist_ok=True)
        # Debian's libvirtd wants its QEMU user, libvirt-qemu, to exist even when it
        # starts nothing: the namespace's own passwd and group have it. QEMU as root
        # (it never runs here): as any user who may not open a /dev/kvm that exists,
        # libvirt finds its probe of QEMU outdated at each lookup and probes again
        # (4 s each on this machine, for every define and `virsh version`).
        with open(os.path.join(workdir, 'etc/qemu.conf'), 'w') as f:
            f.write('user = "root"\ngroup = "root"\n')
        for name, line in (('passwd', 'libvirt-qemu:x:64055:64055::/nonexistent:'
                                      '/usr/sbin/nologin\n'),
                           ('group', 'libvirt-qemu:x:64055:\nkvm:x:64056:\n')):
            with open(f'/etc/{name}') as f:
                text = f.read()
            with open(os.path.join(workdir, name), 'w') as f:
                f.write(text + ''.join(entry + '\n' for entry in line.splitlines()
                                       if f'\n{entry.split(":")[0]}:' not in '\n' + text))
        with open(os.path.join(workdir, 'libvirtd.conf'), 'w') as f:
            f.write(f'unix_sock_dir = "{workdir}"\nlisten_tls = 0\nlisten_tcp = 0\n'
                    'log_outputs = "3:stderr"\n')
        self.script = os.path.join(workdir, 'namespace.sh')
        with open(self.script, 'w') as f:
            f.write(LIBVIRT_NAMESPACE_SCRIPT)
        self.socket = os.path.join(workdir, 'libvirt-sock')
        self.uri = f'qemu+unix:///system?socket={self.socket}'
        self.argv = ['unshare', '-m', '--propagation', 'private', 'sh', self.script, workdir,
                     shutil.which('libvirtd')]
        self.env = dict(os.environ, LIBVIRT_DEFAULT_URI=self.uri)
        self.process = None
        self.log = os.path.join(workdir, 'libvirtd.log')
        self.defined = 0

    def spawn(self):
        for path in (self.socket, self.socket.replace('libvirt-sock', 'libvirt-sock-ro'),
                     self.socket.replace('libvirt-sock', 'libvirt-admin-sock')):
            if os.path.exists(path):
                os.unlink(path)
        log = open(self.log, 'a')
        began = time.perf_counter()
        self.process = subprocess.Popen(self.argv, stdout=log, stderr=log, env=self.env)
        log.close()
        return began, connect_when_listening(self.socket, self.process, began, timeout=120)

    def start(self):
        _, sock = self.spawn()
        sock.close()
        self.virsh('list', '--all', timeout=300)
        return self

    def stop(self):
        process, self.process = self.process, None
        terminate(process)  # libvirtd slow to stop is not what is measured

    def virsh(self, *args, stdin=None, timeout=120):
        began = time.perf_counter()
        done = subprocess.run(['virsh', '-q', '-c', self.uri, *args], env=self.env,
                              input=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              timeout=timeout)
        elapsed = ms_since(began)
        if done.returncode != 0:
            raise MeasureFailed(f'virsh {" ".join(args)}: exit {done.returncode}: '
                                f'{done.stderr.decode(errors="replace").strip()[:300]}')
        return elapsed

    def define_up_to(self, count):
        """Defines domains until COUNT are, in one virsh (one connection)."""
        if count <= self.defined:
            return
        xml_dir = os.path.join(self.workdir, 'xml')
        os.makedirs(xml_dir, exist_ok=True)
        commands = []
        for i in range(self.defined, count):
            path = os.path.join(xml_dir, f'vm{i:04}.xml')
            with open(path, 'w') as f:
                f.write(DOMAIN_XML.format(name=f'vm{i:04}', qemu=QEMU))
            commands.append(f'define {path}\n')
        self.virsh(stdin=''.join(commands).encode(), timeout=600)
        self.defined = count


class Interactive:
    """One process speaking line commands on stdin and answering on stdout; a
    marker command after each one says where its answer ends (virsh's `echo`)."""

    def __init__(self, argv, env):
        # virsh's stdout to a pipe is block-buffered: stdbuf makes it line-buffered.
        self.process = subprocess.Popen(['stdbuf', '-oL', *argv], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, env=env)

    def time(self, command):
        began = time.perf_counter()
        self.process.stdin.write(f'{command}\necho @@done@@\n'.encode())
        self.process.stdin.flush()
        # virsh echoes each command after its prompt, and prints the marker on a
        # line of its own with the next prompt after it, no newline.
        output = b''
        while b'\n@@done@@' not in output:
            data = os.read(self.process.stdout.fileno(), 65536)
            if not data:
                raise MeasureFailed(f'virsh ended during {command}')
            output += data
        return ms_since(began)

    def close(self):
        self.process.stdin.close()
        self.process.wait(30)


# --- the measures ------------------------------------------------------------------------

class Results:
    def __init__(self):
        self.rows = []
        self.failures = []

    def add(self, measure, vms, ours, unit='ms', peer=None, peer_name=None, note=None,
            client=None):
        """A figure; `client` names what timed calls on an open connection."""
        row = {'measure': measure, 'vms': vms, 'unit': unit, 'libvfio': ours,
               'peer_name': peer_name, 'peer': peer, 'target': TARGETS.get(measure),
               'note': note}
        if client:
            row['client'] = client
        if peer and ours:
            key = 'value' if unit == 'KiB' else 'median'
            row['ratio'] = ours[key] / peer[key]
        self.rows.append(row)
        print(format_row(row), flush=True)

    def fail(self, measure, error):
        self.failures.append({'measure': measure, 'error': str(error)})
        print(f'FAILED: {measure}: {error}', file=sys.stderr, flush=True)


def run_measure(results, measure, function, *args):
    try:
        function(results, *args)
    except (MeasureFailed, OSError, subprocess.SubprocessError, AssertionError, KeyError,
            ValueError) as e:
        results.fail(measure, f'{type(e).__name__}: {e}')


def measure_count(results, settings, workdir, count, libvirt):
    """Everything that depends on how many VMs are defined, for COUNT."""
    runs, calls = settings['runs'], settings['calls']
    ours = Libvfio(os.path.join(workdir, 'libvfio'), count)
    if libvirt:
        libvirt.define_up_to(count)

    # Exec to first answer: each run a fresh daemon. Interleaved with libvirtd's.
    first = {'List': [], 'GetVersion': [], 'version': []}
    peer_first = []
    for i in range(settings['exec_runs']):
        for method in ('io.libvfio.VMs.List', 'io.libvfio.Manager.GetVersion'):
            began, sock = ours.spawn()
            varlink_call(sock, method)
            first[method.rsplit('.', 1)[1]].append(ms_since(began))
            sock.close()
            ours.stop()
        _, sock = ours.spawn()
        sock.close()
        first['version'].append(ours.vfioctl('version'))
        ours.stop()
        if libvirt and i < max(2, settings['exec_runs'] // 2):
            libvirt.stop()
            began, sock = libvirt.spawn()
            sock.close()
            libvirt.virsh('list', '--all')
            peer_first.append(ms_since(began))
    results.add('exec to first List answer', count, summary(first['List']),
                peer=summary(peer_first) if peer_first else None,
                peer_name='libvirtd exec to first virsh list --all' if peer_first else None)
    results.add('exec to first GetVersion answer', count, summary(first['GetVersion']))
    results.add('first vfioctl version after start', count, summary(first['version']))
    if libvirt:
        libvirt.stop()
        libvirt.start()

    ours.start()
    try:
        # Whole processes, interleaved.
        mine, theirs = [], []
        for _ in range(runs):
            mine.append(ours.vfioctl('list'))
            if libvirt:
                theirs.append(libvirt.virsh('list', '--all'))
        results.add('vfioctl list', count, summary(mine),
                    peer=summary(theirs) if theirs else None,
                    peer_name='virsh list --all' if theirs else None)

        # On an open connection: List, Get and GetVersion (the floor of any round
        # trip) in rounds, each of its own connection, with libvirt's between them.
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(ours.socket)
            reply = json.loads(varlink_call(sock, 'io.libvfio.VMs.List')[:-1])
        if len(reply['parameters']['vms']) != count:
            raise MeasureFailed(f'List gave {len(reply["parameters"]["vms"])} VMs, not {count}')
        name = f'vm{count // 2:04}'
        rounds = settings['rounds']
        per_round = max(1, calls // rounds)
        peer_per_round = max(1, max(runs, calls // 10) // rounds)
        listed, got, floor, theirs = [], [], [], []
        shell = Interactive(['virsh', '-q', '-c', libvirt.uri], libvirt.env) if libvirt else None
        try:
            for _ in range(rounds):
                listed += time_calls(ours.socket, 'io.libvfio.VMs.List', None, per_round)
                got += time_calls(ours.socket, 'io.libvfio.VMs.Get', {'name': name}, per_round)
                floor += time_calls(ours.socket, 'io.libvfio.Manager.GetVersion', None,
                                    per_round)
                if shell:
                    theirs += [shell.time('list --all') for _ in range(peer_per_round)]
        finally:
            if shell:
                shell.close()
        client = rtt_client()
        results.add('List, open connection, p50', count, summary(listed),
                    peer=summary(theirs) if theirs else None,
                    peer_name='list --all in one virsh' if theirs else None, client=client)
        floor = summary(floor)
        results.add('Get one VM, open connection, p50', count, summary(got), peer=floor,
                    peer_name='round-trip floor: GetVersion', client=client)
        results.add('round-trip floor: GetVersion', count, floor, client=client)

        # Memory: idle, then idle again after many calls. Idle is 2.5 s without a
        # call: the daemon gives free heap pages back 1 to 1.5 s after its last.
        time.sleep(IDLE_SECONDS)
        before = anonymous_memory(ours.process.pid)
        peer_before = anonymous_memory(libvirt.process.pid) if libvirt else None
        n = settings['memory_calls']
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.connect(ours.socket)
            methods = [('io.libvfio.VMs.List', None), ('io.libvfio.Manager.GetVersion', None),
                       ('io.libvfio.VMs.Get', {'name': 'vm0000'})]
            for i in range(n):
                varlink_call(sock, *methods[i % 3])
        if libvirt:
            shell = Interactive(['virsh', '-q', '-c', libvirt.uri], libvirt.env)
            try:
                for i in range(min(n, 1000)):
                    shell.time('list --all' if i % 2 else 'dominfo vm0000')
            finally:
                shell.close()
        time.sleep(IDLE_SECONDS)
        after = anonymous_memory(ours.process.pid)
        peer_after = anonymous_memory(libvirt.process.pid) if libvirt else None
        kib = {'unit': 'KiB'}
        results.add('memory idle (RssAnon)', count, dict(kib, value=before[0],
                                                         private_dirty=before[1]),
                    unit='KiB', peer=dict(kib, value=peer_before[0]) if libvirt else None,
                    peer_name='libvirtd' if libvirt else None)
        results.add('memory idle after calls (RssAnon)', count,
                    dict(kib, value=after[0], private_dirty=after[1], calls=n), unit='KiB',
                    peer=dict(kib, value=peer_after[0], calls=min(n, 1000)) if libvirt else None,
                    peer_name='libvirtd' if libvirt else None,
                    note=f'after {n} calls (libvirt: {min(n, 1000)})')
    finally:
        ours.stop()


def measure_gpus(results, settings, workdir):
    root = os.path.join(workdir, 'large')
    subprocess.run([sys.executable, os.path.join(HERE, '..', 'fixtures', 'make-fixtures.py'),
                    '--generate-large', root, '--gpus', '64', '--vfs', '31'],
                   check=True, stdout=subprocess.DEVNULL)
    os.sync()  # as for the definitions (Libvfio)
    functions = len(os.listdir(os.path.join(root, 'sys/bus/pci/devices')))
    if functions != 2141:
        raise MeasureFailed(f'the generated host has {functions} PCI functions, not 2,141')
    ours = Libvfio(os.path.join(workdir, 'libvfio-gpus'), 0, ['--sysfs-root', root])
    times = []
    for _ in range(settings['exec_runs']):
        began, sock = ours.spawn()
        sock.close()
        try:
            ours.vfioctl('gpus')
            times.append(ms_since(began))
        finally:
            ours.stop()
    results.add('exec to first vfioctl gpus, 2,141 functions', None, summary(times))


def measure_vm(results, settings, workdir):
    from bench_vm import hand_argv, hand_launch
    user = pwd.getpwnam('nobody')
    directory = os.path.join(workdir, 'vm')
    os.makedirs(directory)
    os.chmod(directory, 0o755)
    ours = Libvfio(directory, 0)
    with open(os.path.join(directory, 'vms', 'bench.yaml'), 'w') as f:
        f.write(DEFINITION.format(name='bench', uuid=uuid.uuid4()))
    ours.start()
    try:
        argv, qmp_path = hand_argv(ours, directory, user, ours.vfioctl)
        starts, stops, call_stops, hand_starts, sigterm_stops, quit_stops = [], [], [], [], [], []
        for i in range(settings['vm_runs']):  # interleaved
            starts.append(ours.vfioctl('start', '--wait', 'bench'))
            stops.append(ours.vfioctl('stop', '--force', 'bench'))
            ours.vfioctl('start', '--wait', 'bench')
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.connect(ours.socket)
                began = time.perf_counter()
                reply = varlink_call(sock, 'io.libvfio.VMs.Stop', {'name': 'bench',
                                                                   'force': True})
                call_stops.append(ms_since(began))
                if b'"stopped"' not in reply:
                    raise MeasureFailed(f'Stop with force: {reply[:200]!r}')
            start_ms, stop_ms = hand_launch(argv, qmp_path, user, stop='sigterm')
            hand_starts.append(start_ms)
            sigterm_stops.append(stop_ms)
            start_ms, stop_ms = hand_launch(argv, qmp_path, user, stop='quit')
            hand_starts.append(start_ms)
            quit_stops.append(stop_ms)
    finally:
        ours.stop()
    results.add('start --wait to running', None, summary(starts), peer=summary(hand_starts),
                peer_name='QEMU by hand to QMP running')
    results.add('stop --force to QEMU gone', None, summary(stops), peer=summary(sigterm_stops),
                peer_name='QEMU by hand: SIGTERM to reaped')
    results.add('stop --force to QEMU gone', None, summary(stops), peer=summary(quit_stops),
                peer_name='QEMU by hand: QMP quit to reaped')
    results.add('Stop with force, open connection', None, summary(call_stops),
                peer=summary(sigterm_stops), peer_name='QEMU by hand: SIGTERM to reaped')


def measure_libvirt_version(results, settings, libvirt):
    """`virsh version`: the first after libvirtd starts, then again."""
    libvirt.stop()
    libvirt.start()
    first = libvirt.virsh('version', timeout=300)
    again = [libvirt.virsh('version', timeout=300) for _ in range(2)]
    results.add('first vfioctl version after start', None, None,
                peer={'median': first, 'runs': 1}, peer_name='first virsh version after start')
    results.add('vfioctl version', None, None, peer=summary(again),
                peer_name='virsh version, again')


def measure_version(results, settings, workdir):
    ours = Libvfio(os.path.join(workdir, 'libvfio-version'), 0).start()
    try:
        ours.vfioctl('version')
        times = [ours.vfioctl('version') for _ in range(settings['runs'])]
    finally:
        ours.stop()
    results.add('vfioctl version', None, summary(times))


# --- output ------------------------------------------------------------------------------

def figure(value, unit):
    if value is None:
        return '-'
    if unit == 'KiB':
        return f'{value["value"] / 1024:.2f} MiB'
    median = value['median']
    text = f'{median * 1000:.0f} us' if median < 1 else f'{median:.1f} ms'
    if value.get('runs', 0) > 1:
        p90 = value['p90']
        text += f' (p90 {p90 * 1000:.0f} us)' if median < 1 else f' (p90 {p90:.1f})'
    return text


def format_row(row):
    vms = '' if row['vms'] is None else f'{row["vms"]:>5}'
    ours = figure(row['libvfio'], row['unit'])
    peer = (f'{row["peer_name"]}: {figure(row["peer"], row["unit"])}'
            if row['peer'] is not None else '')
    ratio = (f'{row["ratio"]:.2f}x' if row['ratio'] >= 0.1 else f'{row["ratio"]:.3f}x'
             ) if row.get('ratio') else ''
    return (f'{row["measure"]:46} {vms:>5}  {ours:>22}  {ratio:>7}  {peer}'
            + (f'  [target {row["target"]}]' if row['target'] else '')
            + (f'  [by {row["client"]}]' if row.get('client') else ''))


def command_output(argv):
    try:
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=30).stdout.decode(errors='replace').splitlines()[0].strip()
    except (OSError, subprocess.SubprocessError, IndexError):
        return None


def machine(build_dir):
    cpu = None
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    buildtype = None
    if build_dir:
        try:
            with open(os.path.join(build_dir, 'meson-info', 'intro-buildoptions.json')) as f:
                options = {o['name']: o['value'] for o in json.load(f)}
            buildtype = options.get('buildtype')
            if options.get('b_sanitize', 'none') != 'none':
                buildtype += f' (sanitize={options["b_sanitize"]})'
        except (OSError, ValueError, KeyError):
            pass
    debian = None
    if os.path.exists('/etc/debian_version'):
        with open('/etc/debian_version') as f:
            debian = f.read().strip()
    with open('/proc/meminfo') as f:
        memory = int(f.readline().split()[1]) // 1024
    return {
        'cpu': cpu, 'cores': os.cpu_count(), 'memory_mib': memory,
        'kernel': platform.release(), 'debian': debian,
        'qemu': command_output([QEMU, '--version']),
        'libvirt': command_output(['libvirtd', '--version']) if shutil.which('libvirtd')
        else 'not installed',
        'build_type': buildtype,
        'libvfio': command_output([LIBVFIOD, '--version']),
        'date': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
    }


def main():
    global LIBVFIOD, VFIOCTL, VARLINK_RTT
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--build', help='meson build directory (default: $LIBVFIOD, $VFIOCTL, '
                    'else build/)')
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument('--smoke', action='store_true', help='a few runs, 1 and 100 VMs, '
                      'no libvirt (under a minute)')
    mode.add_argument('--full', action='store_true', help='more runs, 100,000 calls '
                      'between the memory readings')
    ap.add_argument('--no-libvirt', action='store_true', help='leave libvirt out')
    ap.add_argument('--json', metavar='FILE', help='write the results and the machine here')
    ap.add_argument('--varlink-rtt', metavar='PATH', help='the C client that times calls on '
                    'an open connection (default: tests/bench/varlink_rtt of the build '
                    'directory, when built); "python" to time them from Python')
    args = ap.parse_args()

    if args.build:
        os.environ['LIBVFIOD'] = os.path.join(args.build, 'daemon', 'libvfiod')
        os.environ['VFIOCTL'] = os.path.join(args.build, 'client', 'vfioctl')
    os.environ.setdefault('LIBVFIOD', 'build/daemon/libvfiod')
    os.environ.setdefault('VFIOCTL', 'build/client/vfioctl')
    LIBVFIOD = os.path.abspath(os.environ['LIBVFIOD'])
    VFIOCTL = os.path.abspath(os.environ['VFIOCTL'])
    os.environ['LIBVFIOD'], os.environ['VFIOCTL'] = LIBVFIOD, VFIOCTL
    build_dir = os.path.dirname(os.path.dirname(LIBVFIOD))
    if args.varlink_rtt == 'python':
        VARLINK_RTT = None
    elif args.varlink_rtt:
        VARLINK_RTT = os.path.abspath(args.varlink_rtt)
        if not os.access(VARLINK_RTT, os.X_OK):
            ap.error(f'--varlink-rtt {args.varlink_rtt}: no program there; build it '
                     f'(ninja -C BUILD tests/bench/varlink_rtt) or say "python"')
    else:
        VARLINK_RTT = find_varlink_rtt(build_dir)

    mode_name = 'smoke' if args.smoke else 'full' if args.full else 'default'
    settings = MODES[mode_name]
    results = Results()
    description = machine(build_dir)
    print(f'libvfio benchmark suite ({mode_name}): ' + ', '.join(
        f'{k} {v}' for k, v in description.items()), flush=True)

    use_libvirt = settings['libvirt'] and not args.no_libvirt
    if not libvirt_installed():
        libvirt_state = 'not installed' if not shutil.which('libvirtd') else 'needs root'
        use_libvirt = False
    elif not use_libvirt:
        libvirt_state = f'not measured ({"--smoke" if args.smoke else "--no-libvirt"})'
    else:
        libvirt_state = description['libvirt']
    print(f'libvirt: {libvirt_state}', flush=True)
    why = '--varlink-rtt python' if args.varlink_rtt == 'python' else 'varlink_rtt not built'
    print(f'calls on an open connection timed by: {VARLINK_RTT or f"python ({why})"}',
          flush=True)

    # SIGTERM (meson's timeout) unwinds like ^C: the daemons are stopped, the
    # directory removed.
    signal.signal(signal.SIGTERM, lambda signo, frame: sys.exit(128 + signo))
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix='libvfio-bench-suite-') as workdir:
        os.chmod(workdir, 0o755)
        libvirt = None
        if use_libvirt:
            try:
                libvirt = Libvirt(os.path.join(workdir, 'libvirt'))
                print('libvirt: starting libvirtd (its first start probes QEMU)', flush=True)
                libvirt.start()
                libvirt.virsh('version', timeout=300)  # the probe, cached for the runs
            except (MeasureFailed, OSError, subprocess.SubprocessError) as e:
                results.fail('libvirtd start', e)
                libvirt = None
        try:
            run_measure(results, 'vfioctl version', measure_version, settings, workdir)
            if libvirt:
                run_measure(results, 'virsh version', measure_libvirt_version, settings,
                            libvirt)
            for count in settings['counts']:
                run_measure(results, f'{count} VMs', measure_count, settings, workdir, count,
                            libvirt)
            run_measure(results, 'vfioctl gpus', measure_gpus, settings, workdir)
            run_measure(results, 'start and stop', measure_vm, settings, workdir)
        finally:
            if libvirt:
                libvirt.stop()

    print(f'{len(results.rows)} figures in {time.monotonic() - began:.0f} s; '
          f'{len(results.failures)} measures could not be taken', flush=True)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'machine': description, 'mode': mode_name, 'libvirt': libvirt_state,
                       'open_connection_client': rtt_client(),
                       'results': results.rows, 'failures': results.failures}, f, indent=1)
            f.write('\n')
    return 1 if results.failures else 0


LIBVFIOD = VFIOCTL = VARLINK_RTT = None

if __name__ == '__main__':
    sys.exit(main())
