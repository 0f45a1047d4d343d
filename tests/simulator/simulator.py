"""Drive the sysfs simulator (sysfs-sim.py) from tests, with any python3.

    from simulator import Simulator

    with Simulator('amd-sriov') as sim:          # a fixture host name, or a host tree
        run_daemon('--sysfs-root', sim.root)
        before = sim.snapshot()
        sim.kill_at(3, daemon_pid)              # SIGKILL it when the 3rd write arrives
        ...
        assert not Simulator.diff(before, sim.snapshot())

This module uses the standard library only and never imports fusepy: it
starts `/usr/bin/python3 sysfs-sim.py` (Debian's python, which has
python3-fusepy) as a subprocess and talks to it over a unix socket.  The
snapshot and parsing helpers here are shared with sysfs-sim.py.

See README.md in this directory for the kernel behaviour and the API.
"""

import atexit
import errno as errno_mod
import json
import os
import re
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SIM_SCRIPT = os.path.join(HERE, 'sysfs-sim.py')
MAKE_FIXTURES = os.path.join(HERE, '..', 'fixtures', 'make-fixtures.py')
SIM_PYTHON = os.environ.get('SYSFS_SIM_PYTHON', '/usr/bin/python3')
RESOURCE_LINE = '0x0000000000000000 0x0000000000000000 0x0000000000000000\n'


class SimulatorError(RuntimeError):
    pass


def default_tmpdir():
    """$SYSFS_SIM_TMPDIR, else /dev/shm (copying a host tree there takes
    ~30 ms; on a busy ext4 /tmp it took 0.6 s), else the usual temp dir."""
    env = os.environ.get('SYSFS_SIM_TMPDIR')
    if env:
        return env
    if os.path.isdir('/dev/shm') and os.access('/dev/shm', os.W_OK | os.X_OK):
        return '/dev/shm'
    return None


# ---------------------------------------------------------------------------
# Helpers shared with sysfs-sim.py
# ---------------------------------------------------------------------------

def errno_value(e):
    """5, '5', 'EIO' -> 5."""
    if isinstance(e, int):
        return e
    if isinstance(e, str):
        if e.isdigit():
            return int(e)
        value = getattr(errno_mod, e.upper(), None)
        if isinstance(value, int):
            return value
    raise ValueError(f'not an errno: {e!r}')


def norm_pattern(path):
    """A path or fnmatch pattern relative to the simulated root."""
    return path.lstrip('/')


def tgid_of(tid):
    """The process a thread id belongs to (FUSE reports the writing thread)."""
    try:
        with open(f'/proc/{tid}/status') as f:
            for line in f:
                if line.startswith('Tgid:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return tid


def being_killed(tid):
    """True when thread `tid` has a SIGKILL pending (SIGKILL, or a fatal
    signal turned into a group exit) or is gone."""
    try:
        with open(f'/proc/{tid}/status') as f:
            for line in f:
                if line.startswith(('SigPnd:', 'ShdPnd:')) and \
                   int(line.split()[1], 16) & (1 << (signal.SIGKILL - 1)):
                    return True
    except OSError:
        return True
    return False


def alive(pid):
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().rsplit(')', 1)[1].split()[0] not in ('Z', 'X')
    except (OSError, IndexError):
        return False


def remove_tree(path):
    """rm -rf that copes with mode-000 directories (the damaged host)."""
    if not os.path.lexists(path):
        return
    if os.path.isdir(path) and not os.path.islink(path):
        for dirpath, dirnames, _ in os.walk(path):
            for d in dirnames:
                full = os.path.join(dirpath, d)
                try:
                    if not os.path.islink(full):
                        os.chmod(full, 0o755)
                except OSError:
                    pass
        shutil.rmtree(path, ignore_errors=True)
    else:
        os.unlink(path)


def _read(path):
    """Stripped text of a regular file; None when absent, not regular (a FIFO
    is never opened blocking) or unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, 4096).decode('utf-8', 'replace').strip()
    except OSError:
        return None
    finally:
        os.close(fd)


def _link_name(path):
    try:
        return os.path.basename(os.readlink(path))
    except OSError:
        return None


def _listdir(path):
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def _inside(root, path):
    real = os.path.realpath(path)
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)  # root may be /


def snapshot_tree(root):
    """A canonical description of the host state a partition engine changes.

    Compare two of them to assert "the host is exactly as before":
    every PCI device's driver, driver_override, IOMMU group and SR-IOV state
    (with xe's profiles and an NVIDIA VF's vGPU type and creatable types);
    every mdev; every mdev type's available_instances and instances; every
    IOMMU group's members; /dev/vfio; every PCI driver's devices; every
    hugepage pool (the system's and each node's) with the meminfo files."""
    root = os.path.realpath(root)
    j = lambda *p: os.path.join(root, *p)            # noqa: E731
    snap = {'pci': {}, 'mdev': {}, 'mdev_types': {}, 'iommu_groups': {},
            'dev_vfio': [], 'pci_drivers': {}}
    for addr in _listdir(j('sys/bus/pci/devices')):
        d = j('sys/bus/pci/devices', addr)
        if not _inside(root, d) or not os.path.isdir(d):
            snap['pci'][addr] = {'broken_link': True}
            continue
        info = {
            'driver': _link_name(os.path.join(d, 'driver')),
            'driver_override': _read(os.path.join(d, 'driver_override')),
            'iommu_group': _link_name(os.path.join(d, 'iommu_group')),
        }
        enable = _read(os.path.join(d, 'enable'))
        if enable is not None:
            info['enable'] = enable
        reset = _read(os.path.join(d, 'reset_method'))
        if reset is not None:
            info['reset_method'] = reset
        admin = os.path.join(d, 'sriov_admin')
        if os.path.isdir(admin):           # xe: each VF's share of GPU time, and of VRAM
            info['xe_profiles'] = {
                entry: {name: _read(os.path.join(admin, entry, 'profile', name))
                        for name in ('exec_quantum_ms', 'preempt_timeout_us', 'vram_quota')
                        if os.path.exists(os.path.join(admin, entry, 'profile', name))}
                for entry in _listdir(admin) if entry == 'pf' or entry[2:].isdigit()}
        nvidia = os.path.join(d, 'nvidia')
        if os.path.isdir(nvidia):          # NVIDIA vGPU 17+: the VF's type, what it can take
            info['nvidia_vgpu'] = {name: _read(os.path.join(nvidia, name))
                                   for name in ('current_vgpu_type', 'creatable_vgpu_types')}
        if os.path.lexists(os.path.join(d, 'physfn')):
            info['physfn'] = _link_name(os.path.join(d, 'physfn'))
        if os.path.lexists(os.path.join(d, 'sriov_totalvfs')):
            vfs = {}
            for name in _listdir(d):
                if name.startswith('virtfn') and name[6:].isdigit():
                    vfs[int(name[6:])] = _link_name(os.path.join(d, name))
            info['sriov'] = {
                'totalvfs': _read(os.path.join(d, 'sriov_totalvfs')),
                'numvfs': _read(os.path.join(d, 'sriov_numvfs')),
                'drivers_autoprobe': _read(os.path.join(d, 'sriov_drivers_autoprobe')),
                'virtfn': [vfs[i] for i in sorted(vfs)],
            }
        snap['pci'][addr] = info
    for uuid in _listdir(j('sys/bus/mdev/devices')):
        md = j('sys/bus/mdev/devices', uuid)
        if not os.path.isdir(md):
            snap['mdev'][uuid] = {'broken_link': True}
            continue
        snap['mdev'][uuid] = {
            'parent': os.path.basename(os.path.dirname(os.path.realpath(md))),
            'type': _link_name(os.path.join(md, 'mdev_type')),
            'iommu_group': _link_name(os.path.join(md, 'iommu_group')),
            'driver': _link_name(os.path.join(md, 'driver')),
            'remove': os.path.exists(os.path.join(md, 'remove')),
        }
    for parent in _listdir(j('sys/class/mdev_bus')):
        types = j('sys/class/mdev_bus', parent, 'mdev_supported_types')
        for t in _listdir(types):
            snap['mdev_types'][f'{parent}/{t}'] = {
                'available_instances': _read(os.path.join(types, t, 'available_instances')),
                'devices': _listdir(os.path.join(types, t, 'devices')),
            }
    for g in _listdir(j('sys/kernel/iommu_groups')):
        snap['iommu_groups'][g] = _listdir(j('sys/kernel/iommu_groups', g, 'devices'))
    snap['dev_vfio'] = _listdir(j('dev/vfio'))
    for drv in _listdir(j('sys/bus/pci/drivers')):
        snap['pci_drivers'][drv] = [n for n in _listdir(j('sys/bus/pci/drivers', drv))
                                    if n not in ('bind', 'unbind', 'new_id', 'remove_id',
                                                 'uevent', 'module')]
    snap['hugepages'] = {}
    pools = [('system', 'sys/kernel/mm/hugepages')]
    for node in _listdir(j('sys/devices/system/node')):
        if node.startswith('node') and node[4:].isdigit():
            pools.append((node, f'sys/devices/system/node/{node}/hugepages'))
            snap['hugepages'][f'{node}/meminfo'] = _read(j('sys/devices/system/node', node,
                                                           'meminfo'))
    for name, directory in pools:
        for size in _listdir(j(directory)):
            snap['hugepages'][f'{name}/{size}'] = {
                f: _read(j(directory, size, f)) for f in ('nr_hugepages', 'free_hugepages')}
    snap['hugepages']['meminfo'] = _read(j('proc/meminfo'))
    return snap


def diff_snapshots(a, b, prefix=''):
    """Human-readable differences between two snapshots ([] when equal)."""
    out = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            key = f'{prefix}.{k}' if prefix else str(k)
            if k not in a:
                out.append(f'{key}: added {b[k]!r}')
            elif k not in b:
                out.append(f'{key}: removed (was {a[k]!r})')
            else:
                out += diff_snapshots(a[k], b[k], key)
    elif a != b:
        out.append(f'{prefix}: {a!r} -> {b!r}')
    return out


# ---------------------------------------------------------------------------
# Mounts
# ---------------------------------------------------------------------------

def _unescape_mount(path):
    return (path.replace('\\040', ' ').replace('\\011', '\t').replace('\\012', '\n')
            .replace('\\134', '\\'))


def is_mounted(path):
    """True when `path` is a mount point (also a dead FUSE mount, which stat() cannot see)."""
    path = os.path.abspath(path)
    try:
        with open('/proc/self/mountinfo') as f:
            for line in f:
                if _unescape_mount(line.split()[4]) == path:
                    return True
    except OSError:
        pass
    return False


def unmount(path):
    """Detach a (possibly dead) FUSE mount."""
    for cmd in (['fusermount', '-u', '-z', path], ['umount', '-l', path]):
        if not is_mounted(path):
            return True
        try:
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            pass
    return not is_mounted(path)


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------

_fixture_cache = {}
_fixture_lock = threading.Lock()
_cache_dir = None


_stale_checked = False


def _remove_stale_dirs():
    """Remove what processes killed before their cleanup ran left in the
    temp dir: fixture caches and simulator directories (named for the pid of
    the process that made them) whose process is gone, unless still mounted
    (an orphaned simulator removes its own directory once unmounted)."""
    global _stale_checked
    if _stale_checked:
        return
    _stale_checked = True
    base = default_tmpdir() or tempfile.gettempdir()
    for name in _listdir(base):
        m = re.fullmatch(r'sysfs-sim-(?:fixtures-)?(\d+)-[^/]+', name)
        if not m or alive(int(m.group(1))):
            continue
        path = os.path.join(base, name)
        if not is_mounted(os.path.join(path, 'root')):
            remove_tree(path)


def fixture_host(name):
    """A pristine tree of fixture host `name`, made once per process by
    make-fixtures.py (generated, or laid out from a real kernel's capture: see
    CAPTURED_HOSTS there). Copy it before changing it (Simulator does)."""
    global _cache_dir
    with _fixture_lock:
        if name not in _fixture_cache:
            if _cache_dir is None:
                _remove_stale_dirs()
                _cache_dir = tempfile.mkdtemp(prefix=f'sysfs-sim-fixtures-{os.getpid()}-',
                                              dir=default_tmpdir())
                atexit.register(remove_tree, _cache_dir)
            r = subprocess.run([sys.executable, MAKE_FIXTURES, '-q', _cache_dir, name],
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise SimulatorError(f'make-fixtures.py {name}: {r.stderr.strip() or r.stdout.strip()}')
            _fixture_cache[name] = os.path.join(_cache_dir, name)
        return _fixture_cache[name]


def copy_tree(src, dst):
    """cp -a: keeps links, modes, FIFOs (shutil.copytree would open the FIFO)."""
    r = subprocess.run(['cp', '-a', src, dst], capture_output=True, text=True)
    if r.returncode != 0:
        raise SimulatorError(f'cp -a {src} {dst}: {r.stderr.strip()}')


def prerequisites():
    """None when the simulator can run here, else the reason it cannot."""
    if not os.path.exists('/dev/fuse'):
        return 'no /dev/fuse'
    if not os.access(SIM_PYTHON, os.X_OK):
        return f'no {SIM_PYTHON}'
    r = subprocess.run([SIM_PYTHON, '-c', 'import fusepy'], capture_output=True)
    if r.returncode != 0:
        r = subprocess.run([SIM_PYTHON, '-c', 'import fuse; fuse.FUSE'], capture_output=True)
        if r.returncode != 0:
            return f'{SIM_PYTHON} cannot import fusepy (apt install python3-fusepy)'
    if os.geteuid() != 0:
        return 'not root (the simulator mounts FUSE with allow_other as root)'
    return None


# ---------------------------------------------------------------------------
# The simulator
# ---------------------------------------------------------------------------

_live = set()


def _close_all():
    for sim in list(_live):
        sim.close()


atexit.register(_close_all)


class Simulator:
    """One mounted simulated host.

    `host` is a fixture host name (tests/fixtures/make-fixtures.py --list) or
    a directory holding a host tree; a directory is copied first unless
    `copy=False` (then the simulator changes it in place).

    `config` (also `configure()`):
      vf_driver           {PF address: driver}: the driver a new VF matches
                          (default: the driver most of the fixture's VFs of
                          that PF have, else the PF's own driver)
      no_sriov_configure  [driver, ...]: PF drivers without sriov_configure
                          (sriov_numvfs gives ENOENT, like the kernel)
      mdev_full_errno     {parent address or '*': errno}: create on a type
                          with available_instances 0 (default ENOSPC, what
                          drivers with get_available return; EUSERS is what
                          6.1's mdev core returns for the others)
      hugepage_memory_kib {node id or 'system': KiB}: the memory new hugepages
                          may still take (default: the fixture's MemFree);
                          a pool grows no further, as a fragmented host
    """

    def __init__(self, host, *, copy=True, config=None, tmpdir=None, start_timeout=15.0,
                 debug=False):
        self.host = host
        self.copy = copy
        self.config = config
        self.tmpdir = tmpdir
        self.start_timeout = start_timeout
        self.debug = debug
        self.workdir = self.root = self.backing = None
        self.proc = None
        self._sock = self._file = None
        self._life_w = None
        self._ctl_lock = threading.Lock()
        self.mount_seconds = None

    # -- lifecycle -----------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def start(self):
        t0 = time.monotonic()
        _remove_stale_dirs()
        self.workdir = tempfile.mkdtemp(prefix=f'sysfs-sim-{os.getpid()}-',
                                        dir=self.tmpdir or default_tmpdir())
        try:
            self._prepare_backing()
            self.root = os.path.join(self.workdir, 'root')
            os.mkdir(self.root)
            self.control_path = os.path.join(self.workdir, 'control.sock')
            self.log_path = os.path.join(self.workdir, 'writes.jsonl')
            open(self.log_path, 'w').close()
            self.stderr_path = os.path.join(self.workdir, 'sim.log')
            ready_r, ready_w = os.pipe()
            life_r, self._life_w = os.pipe()
            cmd = [SIM_PYTHON, '-B', SIM_SCRIPT, '--backing', self.backing, '--mount', self.root,
                   '--control', self.control_path, '--log', self.log_path,
                   '--ready-fd', str(ready_w), '--parent-fd', str(life_r),
                   '--workdir', self.workdir]
            if self.config:
                cmd += ['--config', json.dumps(self.config)]
            if self.debug:
                cmd.append('--debug')
            with open(self.stderr_path, 'w') as err:
                # its own session: a kill of the test's process group leaves it
                # alive to unmount when it sees the parent's pipe close
                self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=err,
                                             stderr=subprocess.STDOUT, pass_fds=(ready_w, life_r),
                                             start_new_session=True)
            os.close(ready_w)
            os.close(life_r)
            _live.add(self)
            try:
                self._wait_ready(ready_r)
            finally:
                os.close(ready_r)
            self._connect()
            self.mount_seconds = time.monotonic() - t0
        except BaseException:
            self.close()
            raise
        return self

    def _prepare_backing(self):
        if os.path.isdir(self.host):
            if self.copy:
                self.backing = os.path.join(self.workdir, 'backing')
                copy_tree(self.host, self.backing)
            else:
                self.backing = os.path.abspath(self.host)
        else:
            self.backing = os.path.join(self.workdir, 'backing')
            copy_tree(fixture_host(self.host), self.backing)

    def _wait_ready(self, fd):
        deadline = time.monotonic() + self.start_timeout
        buf = b''
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                chunk = os.read(fd, 64)
                buf += chunk
                if b'ready' in buf:
                    return
                if not chunk:
                    break
            if self.proc.poll() is not None:
                break
        raise SimulatorError(f'sysfs-sim did not come up: {self.stderr()}')

    def _connect(self):
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(60)
        self._sock.connect(self.control_path)
        self._file = self._sock.makefile('rwb', buffering=0)

    def stderr(self):
        try:
            with open(self.stderr_path) as f:
                return f.read().strip()
        except (OSError, AttributeError, TypeError):
            return ''

    def close(self):
        """Unmount, stop the simulator and remove its directory. Safe to call
        twice, and after a failure anywhere."""
        _live.discard(self)
        if self._file is not None:
            try:
                self._sock.settimeout(2)
                self._file.write(b'{"op": "shutdown"}\n')
                self._file.readline()
            except OSError:
                pass
            try:
                self._file.close()
                self._sock.close()
            except OSError:
                pass
            self._file = self._sock = None
        if self.root and is_mounted(self.root):
            unmount(self.root)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=8)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._life_w is not None:
            os.close(self._life_w)
            self._life_w = None
        if self.root and is_mounted(self.root):
            unmount(self.root)
        if self.workdir and not (self.root and is_mounted(self.root)):
            remove_tree(self.workdir)
            self.workdir = None

    # -- control -------------------------------------------------------------

    def _call(self, op, **kw):
        if self._file is None:
            raise SimulatorError('simulator not running')
        req = dict(kw, op=op)
        with self._ctl_lock:
            self._file.write((json.dumps(req) + '\n').encode())
            line = self._file.readline()
        if not line:
            raise SimulatorError(f'simulator gone: {self.stderr()}')
        answer = json.loads(line)
        if not answer.get('ok'):
            raise SimulatorError(answer.get('error'))
        return answer.get('result')

    def _rel(self, path):
        if self.root and os.path.isabs(path) and path.startswith(self.root + '/'):
            path = path[len(self.root) + 1:]
        return norm_pattern(path)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def path(self, rel):
        """Absolute path of `rel` inside the mount."""
        return os.path.join(self.root, rel.lstrip('/'))

    def ping(self):
        return self._call('ping')

    def write_count(self):
        """Writes the simulator has seen since it started."""
        return self._call('count')

    def writes(self, since=0):
        """The write log: dicts with n, path, aliases, value, errno (0: done),
        error (its name), applied, faults, pid, secs; entries with n > since."""
        out = []
        with open(self.log_path) as f:
            for line in f:
                if line.strip():
                    e = json.loads(line)
                    if e['n'] > since:
                        out.append(e)
        return sorted(out, key=lambda e: e['n'])

    def fail(self, path, err, times=None):
        """Writes to `path` (relative to the root, an alias such as
        sys/bus/pci/devices/ADDR/..., or an fnmatch pattern) fail with `err`
        (a number or a name such as 'EIO') without being applied; `times`:
        only that many. Returns the rule id."""
        return self._call('fail', path=self._rel(path), errno=errno_value(err), times=times)

    def hang(self, path, seconds=None, err=None, times=None):
        """Writes to `path` block for `seconds` (None: until unhang()), then
        are applied, or fail with `err` when given."""
        return self._call('hang', path=self._rel(path), seconds=seconds,
                          errno=errno_value(err) if err else None, times=times)

    def unhang(self, path=None):
        """Let hanging writes go on (all of them, or those of the `path` rule)."""
        self._call('unhang', path=self._rel(path) if path else None)

    def kill_at(self, n, pid=None, after=False, sig=signal.SIGKILL, path=None):
        """Send `sig` to `pid` (None: the process that writes) when the n-th
        write from now (counting only writes matching `path` when given)
        arrives: before applying it, or with `after` once it is applied and
        before the writer learns the result. Returns the rule id."""
        return self._call('kill_at', n=n, pid=pid, after=after, signal=int(sig),
                          path=self._rel(path) if path else None)

    def rules(self):
        """Fault rules not yet used up (a kill rule disappears when it fires)."""
        return self._call('rules')

    def clear(self, kind=None):
        """Drop fault rules (of one kind: fail, hang, kill) and, with no kind,
        every hold."""
        self._call('clear', kind=kind)

    def hold(self, target, mode='block'):
        """Mark an mdev UUID, an IOMMU group number or a PCI address in use by
        a VM. Then mdev remove, unbind from vfio-pci and sriov_numvfs=0 on it
        block until release() (mode 'block', what 6.1 does) or fail with EBUSY
        (mode 'ebusy', older kernels and vendor mdev drivers)."""
        self._call('hold', target=str(target), mode=mode)

    def release(self, target=None):
        """The VM lets go of `target` (None: of everything); blocked writes go on."""
        self._call('release', target=None if target is None else str(target))

    def configure(self, **settings):
        return self._call('configure', settings=settings)

    def snapshot(self):
        """The canonical host state (see snapshot_tree), taken between writes."""
        return self._call('snapshot')

    diff = staticmethod(diff_snapshots)

    # -- shell-level access --------------------------------------------------

    def write(self, rel, value):
        """One open + one write(2), like `echo VALUE > FILE` (no newline added).
        Raises OSError with the simulated errno."""
        data = value.encode() if isinstance(value, str) else value
        fd = os.open(self.path(rel), os.O_WRONLY)
        try:
            return os.write(fd, data)
        finally:
            os.close(fd)

    def read(self, rel):
        with open(self.path(rel)) as f:
            return f.read()

    def readlink(self, rel):
        return os.readlink(self.path(rel))
