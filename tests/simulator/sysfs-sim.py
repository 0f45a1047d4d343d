#!/usr/bin/python3
"""sysfs-sim: a FUSE file system that serves a fixture host tree and plays the
kernel's part for the sysfs writes libvfiod makes.

Run it with Debian's /usr/bin/python3 (it needs the `python3-fusepy` package);
the tests start it through tests/simulator/simulator.py, which works with any
python3.  See tests/simulator/README.md for the behaviour and the control API.

    /usr/bin/python3 sysfs-sim.py --backing TREE --mount MNT --control SOCK --log WRITES.jsonl

Reads, readdir, readlink and getattr pass through to TREE.  A write to one of
the attributes below changes TREE the way the kernel changes sysfs, or fails
with the errno the kernel (6.1, measured in ../shared/lab) returns:

    sys/bus/pci/drivers_probe                     sys/bus/pci/drivers/NAME/{bind,unbind}
    PCI_DEV/{driver_override,sriov_numvfs,sriov_drivers_autoprobe}
    PARENT/mdev_supported_types/TYPE/create       PARENT/UUID/remove
    PF/sriov_admin/{pf,vfN}/profile/{exec_quantum_ms,preempt_timeout_us,sched_priority}
    PF/sriov_admin/vfN/profile/vram_quota
    PCI_DEV/reset_method

Every other file opened for writing fails with EACCES, as a sysfs attribute
without a store method does.
"""

import argparse
import ctypes
import errno
import fnmatch
from fractions import Fraction
import json
import logging
import os
import re
import select
import shutil
import signal
import socket
import stat
import sys
import threading
import time

try:
    import fusepy as fuse          # Debian's python3-fusepy
except ImportError:                # pragma: no cover - upstream name
    import fuse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, HERE)
import simulator as simlib         # noqa: E402  (standard library only: snapshot, parsing)

log = logging.getLogger('sysfs-sim')

PAGE_SIZE = 4096
ADDR_RE = re.compile(r'[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]')
UUID_RE = re.compile(r'[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}')
PCI_ATTRS = ('driver_override', 'sriov_numvfs', 'sriov_drivers_autoprobe', 'reset_method')
RESET_METHODS = ('device_specific', 'acpi', 'flr', 'af_flr', 'pm', 'bus')   # pci.c, 6.1
NODE_DIR = 'sys/devices/system/node'
# A line of an NVIDIA VF's creatable_vgpu_types: "1155 : NVIDIA L40S-4Q"
VGPU_LINE_RE = re.compile(r'^\s*(\d+)\s*:\s*(.+?)\s*$', re.M)


def vgpu_framebuffer_gib(line):
    """The GiB in an NVIDIA vGPU type's name ("NVIDIA L4-4Q": 4); 0 when it names none."""
    m = re.search(r'-(\d+)[A-Z]\s*$', line)
    return int(m.group(1)) if m else 0


HUGEPAGE_POOL_RE = re.compile(
    r'(?:sys/devices/system/node/node(\d+)|sys/kernel/mm)/hugepages/hugepages-(\d+)kB/nr_hugepages')
GROUPS = 'sys/kernel/iommu_groups'
PCI_DEVICES = 'sys/bus/pci/devices'
PCI_DRIVERS = 'sys/bus/pci/drivers'
MDEV_DEVICES = 'sys/bus/mdev/devices'
MDEV_DRIVERS = 'sys/bus/mdev/drivers'
VFIO_PCI = 'vfio-pci'
# The mdev driver a parent's instances bind to, by the parent's PCI driver,
# when the fixture has no instance to copy it from.
MDEV_DRIVER_OF_PARENT = {'i915': 'intel_vgpu_mdev', 'nvidia': 'nvidia-vgpu-vfio'}


class MdevBudget:
    """The resources of one mdev parent, shared by its types, as on real hardware:
    creating an mbochs-large made mbochs-medium go 16 -> 12 and mbochs-small
    64 -> 48 (lab, 6.1); GVT-g's types share the aperture, vendor vGPU types the
    framebuffer, mdpy's its instance count. Each type is taken to cost its share
    of what was free when the budget was first looked at (1 / its count then); its
    available_instances is the whole number of such shares still free.

    A type that had none free at the start has no known cost: only its own count
    moves, by one, when an instance of it comes or goes."""

    def __init__(self, kernel, types_dir, counts):
        self.k = kernel
        self.types_dir = types_dir
        self.counts = counts                   # type -> available_instances at the start
        self.used = Fraction(0)

    def _settle(self):
        for t, n0 in self.counts.items():
            if n0 <= 0:
                continue                       # no cost known: left as the write set it
            n = (1 - self.used) * n0
            self.k.put(f'{self.types_dir}/{t}/available_instances', f'{max(0, int(n))}\n')

    def take(self, t):
        if self.counts.get(t, 0) > 0:
            self.used += Fraction(1, self.counts[t])
            self._settle()

    def give(self, t):
        if self.counts.get(t, 0) > 0:
            self.used -= Fraction(1, self.counts[t])
            self._settle()


class KernelError(Exception):
    """A write the kernel refuses: carries the errno the write(2) returns."""

    def __init__(self, err, why=''):
        super().__init__(err, why)
        self.errno = err
        self.why = why


class Blocked(Exception):
    """The write has to wait until the holder of `targets` lets go (6.1:
    vfio_unregister_group_dev blocks until the user closes the device)."""

    def __init__(self, targets):
        super().__init__(targets)
        self.targets = targets


# ---------------------------------------------------------------------------
# Kernel string parsing (lib/kstrtox.c, lib/string.c)
# ---------------------------------------------------------------------------

def kstrtoull(buf, base=0):
    """kstrtoull(): the whole buffer is the number, one trailing newline allowed.
    Raises KernelError(EINVAL) or KernelError(ERANGE)."""
    s = buf.split(b'\0', 1)[0]
    if s.startswith(b'+'):
        s = s[1:]
    if base == 0:
        if s[:2].lower() == b'0x' and len(s) > 2 and chr(s[2]) in '0123456789abcdefABCDEF':
            base, s = 16, s[2:]
        elif s.startswith(b'0'):
            base = 8
        else:
            base = 10
    digits = b''
    for c in s:
        ch = chr(c).lower()
        if ch.isdigit() and int(ch) < base or (base == 16 and ch in 'abcdef'):
            digits += bytes([c])
        else:
            break
    if not digits:
        raise KernelError(errno.EINVAL, 'not a number')
    rest = s[len(digits):]
    if rest == b'\n':
        rest = b''
    if rest:
        raise KernelError(errno.EINVAL, 'trailing characters')
    value = int(digits, base)
    if value >= 1 << 64:
        raise KernelError(errno.ERANGE, 'overflow')
    return value


def kstrtobool(buf):
    s = buf.split(b'\0', 1)[0]
    if not s:
        raise KernelError(errno.EINVAL, 'empty')
    c = chr(s[0])
    if c in 'yYtT1':
        return True
    if c in 'nNfF0':
        return False
    if c in 'oO' and len(s) > 1:
        if chr(s[1]) in 'nN':
            return True
        if chr(s[1]) in 'fF':
            return False
    raise KernelError(errno.EINVAL, 'not a boolean')


def sysfs_name(buf):
    """The device name a bind/unbind/drivers_probe write names: sysfs_streq()
    compares up to a NUL and allows one trailing newline."""
    s = buf.split(b'\0', 1)[0]
    if s.endswith(b'\n'):
        s = s[:-1]
    return s.decode('utf-8', 'replace')


# ---------------------------------------------------------------------------
# The kernel
# ---------------------------------------------------------------------------

class Kernel:
    """The host's state lives in the backing tree; this class changes it the
    way the kernel changes sysfs, one write at a time."""

    def __init__(self, root, log_path=None, config=None):
        self.root = os.path.realpath(root)
        self.lock = threading.RLock()          # one sysfs write at a time
        self.cv = threading.Condition()        # holds released, hangs released, shutdown
        self.shutdown = False
        self.natural = {}                      # PCI address -> driver it matches without override
        self.mdev_drivers = {}                 # parent address -> mdev driver name
        self.mdev_budgets = {}                 # parent dir -> MdevBudget, from its first create
        self.vgpu_supported = {}               # NVIDIA PF dir -> its VFs' types while empty
        self.reset_defaults = {}               # reset_method path -> its methods at the first write
        self.boot_vf_driver = {}               # PF address -> driver of its fixture VFs
        self.config = {
            'vf_driver': {},                   # PF address -> driver VFs match (default: see vf_driver())
            'no_sriov_configure': [],          # PCI drivers without .sriov_configure (ENOENT)
            'mdev_full_errno': {},             # parent address or '*' -> errno when available_instances is 0
            'hugepage_memory_kib': {},         # node id or 'system' -> KiB new hugepages may take
        }
        if config:
            self.configure(config)
        self.holds = {}                        # target -> 'block' | 'ebusy'
        self.rules = []                        # fault rules, see add_rule()
        self.rule_seq = 0
        self.nwrites = 0
        self.ctl_lock = threading.Lock()       # counters, rules, log
        self.log_file = open(log_path, 'a', buffering=1) if log_path else None
        # True when the writer of the request this thread serves is being
        # killed: set by the file system
        self.interrupted = lambda: False

    # -- configuration -------------------------------------------------------

    def configure(self, cfg):
        for key, value in cfg.items():
            if key not in self.config:
                raise ValueError(f'unknown setting {key!r}')
            if key == 'hugepage_memory_kib':
                self.config[key].update({str(k): int(v) for k, v in value.items()})
            elif key == 'mdev_full_errno':
                value = {k: simlib.errno_value(v) for k, v in value.items()}
                self.config[key].update(value)
            elif key == 'vf_driver':
                self.config[key].update(value)
            else:
                self.config[key] = list(value)

    # -- paths ---------------------------------------------------------------

    def p(self, rel):
        return os.path.join(self.root, rel)

    def inside(self, abspath):
        return abspath == self.root or abspath.startswith(self.root + os.sep)

    def resolve(self, rel):
        """The tree-relative real path of `rel` (symlinks followed), or None
        when it leads outside the tree or does not exist."""
        real = os.path.realpath(self.p(rel))
        if not self.inside(real) or not os.path.lexists(real):
            return None
        return os.path.relpath(real, self.root) if real != self.root else ''

    def read(self, rel):
        """Text of a regular file (never opens a FIFO), or None."""
        path = self.p(rel)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError:
            return None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            return os.read(fd, 1 << 16).decode('utf-8', 'replace')
        except OSError:
            return None
        finally:
            os.close(fd)

    def read_int(self, rel, base=10):
        text = self.read(rel)
        try:
            return int(text.strip(), base)
        except (AttributeError, ValueError):
            return None

    def put(self, rel, data, mode=None):
        path = self.p(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            st = os.lstat(path)
            # never write through a link; the large fixture host makes equal
            # attribute files hard links of one another
            if not stat.S_ISREG(st.st_mode) or st.st_nlink > 1:
                os.unlink(path)
        except FileNotFoundError:
            pass
        if isinstance(data, str):
            data = data.encode()
        # otherwise write in place (keeps the inode: an open reader sees the new value)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644 if mode is None else mode)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        if mode is not None:
            os.chmod(path, mode)

    def link(self, rel, target_rel):
        path = self.p(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(os.path.relpath(target_rel, os.path.dirname(rel)), path)

    def unlink(self, rel):
        path = self.p(rel)
        if os.path.lexists(path) and not (os.path.isdir(path) and not os.path.islink(path)):
            os.unlink(path)

    def rmtree(self, rel):
        path = self.p(rel)
        real = os.path.realpath(path)
        if not rel or not self.inside(real) or real == self.root:
            raise RuntimeError(f'refusing to remove {rel!r}')
        if os.path.islink(path):
            os.unlink(path)
        elif os.path.isdir(path):
            for dirpath, dirnames, _ in os.walk(path):
                for d in dirnames:
                    full = os.path.join(dirpath, d)
                    if not os.path.islink(full):
                        os.chmod(full, 0o755)
            shutil.rmtree(path)

    def readlink_name(self, rel):
        try:
            return os.path.basename(os.readlink(self.p(rel)))
        except OSError:
            return None

    # -- PCI model -----------------------------------------------------------

    def dev_dir(self, addr):
        """sys/devices/... directory of a PCI device on the bus, or None."""
        if not ADDR_RE.fullmatch(addr or ''):
            return None
        rel = self.resolve(f'{PCI_DEVICES}/{addr}')
        if rel is None or not os.path.isdir(self.p(rel)):
            return None
        return rel

    def bus_devices(self):
        try:
            names = os.listdir(self.p(PCI_DEVICES))
        except OSError:
            return {}
        out = {}
        for name in sorted(names):
            d = self.dev_dir(name)
            if d is not None:
                out[name] = d
        return out

    def driver_of(self, d):
        return self.readlink_name(f'{d}/driver')

    def group_of(self, d):
        g = self.readlink_name(f'{d}/iommu_group')
        return g if g is not None and g.isdigit() else None

    def override_of(self, d):
        text = self.read(f'{d}/driver_override')
        if text is None:
            return None
        text = text.rstrip('\n')
        return None if text == '(null)' else text

    def is_bridge(self, d):
        try:
            with open(self.p(f'{d}/config'), 'rb') as f:
                hdr = f.read(0x10)
            if len(hdr) > 0x0e:
                return hdr[0x0e] & 0x7f == 1
        except OSError:
            pass
        cls = self.read_int(f'{d}/class', 16)
        return cls is not None and cls >> 8 == 0x0604

    def matches(self, addr, d, drv):
        """pci_bus_match(): driver_override names the only driver that may
        bind; without it the device's own driver (the fixture's) matches."""
        override = self.override_of(d)
        if override is not None:
            return override == drv
        return self.natural.get(addr) == drv

    def vf_driver(self, pf_addr, pf_dir):
        """The driver a new VF of this PF matches: configured, else the one
        most of the fixture's VFs of this PF had at boot (not vfio-pci), else
        the PF's own driver."""
        cfg = self.config['vf_driver']
        if pf_addr in cfg:
            return cfg[pf_addr] or None
        if pf_addr in self.boot_vf_driver:
            return self.boot_vf_driver[pf_addr]
        return self.driver_of(pf_dir)

    def vfs_of(self, pf_dir):
        """(address, directory) of every VF of the PF: its virtfnN links that
        stay inside the tree, and every bus device whose physfn is the PF."""
        found = {}
        try:
            names = os.listdir(self.p(pf_dir))
        except OSError:
            names = []
        for name in names:
            if re.fullmatch(r'virtfn\d+', name):
                rel = self.resolve(f'{pf_dir}/{name}')
                if rel and os.path.isdir(self.p(rel)) and ADDR_RE.fullmatch(os.path.basename(rel)):
                    found[os.path.basename(rel)] = rel
        for addr, d in self.bus_devices().items():
            if self.resolve(f'{d}/physfn') == pf_dir:
                found[addr] = d
        return sorted(found.items())

    def group_members(self, g):
        try:
            return sorted(os.listdir(self.p(f'{GROUPS}/{g}/devices')))
        except OSError:
            return []

    def alloc_group(self):
        """iommu_group_alloc(): the lowest free id (an IDA; the lab saw ids reused)."""
        try:
            used = {int(n) for n in os.listdir(self.p(GROUPS)) if n.isdigit()}
        except OSError:
            used = set()
        g = 0
        while g in used:
            g += 1
        os.makedirs(self.p(f'{GROUPS}/{g}/devices'))
        return str(g)

    def remove_group_member(self, g, name):
        if g is None:
            return
        self.unlink(f'{GROUPS}/{g}/devices/{name}')
        if not self.group_members(g) and os.path.isdir(self.p(f'{GROUPS}/{g}')):
            self.rmtree(f'{GROUPS}/{g}')
            self.unlink(f'dev/vfio/{g}')

    # -- holds ---------------------------------------------------------------

    def held(self, *targets):
        return [t for t in targets if t is not None and t in self.holds]

    def check_vfio_users(self, targets):
        """A device a VM holds: 6.1 blocks the write until the VM lets go
        ('block', the default); 'ebusy' fails it as older kernels and vendor
        mdev drivers did."""
        held = self.held(*targets)
        if not held:
            return
        if any(self.holds[t] == 'ebusy' for t in held):
            raise KernelError(errno.EBUSY, f'in use: {", ".join(held)}')
        raise Blocked(held)

    def pci_users(self, addr, d):
        """Hold targets that make a vfio-pci device busy."""
        if self.driver_of(d) != VFIO_PCI:
            return [addr] if addr in self.holds else []
        return [addr, self.group_of(d)]

    # -- binding -------------------------------------------------------------

    def probe(self, addr, d, drv):
        """really_probe(): link the device and the driver. Raises KernelError
        when the driver's probe fails."""
        if drv == VFIO_PCI:
            if self.is_bridge(d):
                raise KernelError(errno.EINVAL, 'vfio-pci does not bind bridges')
            if self.group_of(d) is None:
                raise KernelError(errno.EINVAL, 'no IOMMU group')
        ddir = f'{PCI_DRIVERS}/{drv}'
        self.link(f'{d}/driver', ddir)
        self.link(f'{ddir}/{addr}', d)
        # A driver's probe enables its device; vfio-pci's does not: the device is
        # enabled when a user opens it (lab: a VF and a display on vfio-pci read 0).
        if drv != VFIO_PCI and os.path.isfile(self.p(f'{d}/enable')):
            self.put(f'{d}/enable', '1\n')
        if drv == VFIO_PCI:
            g = self.group_of(d)
            if not os.path.exists(self.p(f'dev/vfio/{g}')):
                self.put(f'dev/vfio/{g}', '')

    def release_driver(self, addr, d):
        drv = self.driver_of(d)
        if drv is None:
            return
        self.unlink(f'{d}/driver')
        self.unlink(f'{PCI_DRIVERS}/{drv}/{addr}')
        if os.path.isfile(self.p(f'{d}/enable')):
            self.put(f'{d}/enable', '0\n')
        if drv == VFIO_PCI:
            g = self.group_of(d)
            if g is not None:
                still = []
                for name in self.group_members(g):
                    md = self.dev_dir(name)
                    if md and name != addr and self.driver_of(md) == VFIO_PCI:
                        still.append(name)
                if not still:
                    self.unlink(f'dev/vfio/{g}')

    def attach(self, addr, d):
        """device_attach() for drivers_probe and VF autoprobe: bind to the
        override, else to the natural driver; a probe failure leaves the
        device unbound and is not reported."""
        if self.driver_of(d) is not None:
            return
        override = self.override_of(d)
        drv = override if override is not None else self.natural.get(addr)
        if not drv or not os.path.isdir(self.p(f'{PCI_DRIVERS}/{drv}')):
            return
        try:
            self.probe(addr, d, drv)
        except KernelError as e:
            log.info('probe of %s by %s failed: %s', addr, drv, e.why)

    def w_drivers_probe(self, rel, buf):
        addr = sysfs_name(buf)
        d = self.dev_dir(addr)
        if d is None:
            raise KernelError(errno.ENODEV, f'no device {addr!r}')
        self.attach(addr, d)

    def w_bind(self, rel, buf):
        drv = rel.split('/')[4]
        addr = sysfs_name(buf)
        d = self.dev_dir(addr)
        if d is None or not self.matches(addr, d, drv):
            raise KernelError(errno.ENODEV, f'{drv} does not match {addr!r}')
        if self.driver_of(d) is not None:
            raise KernelError(errno.EBUSY, f'{addr} already bound')
        self.probe(addr, d, drv)

    def w_unbind(self, rel, buf):
        drv = rel.split('/')[4]
        addr = sysfs_name(buf)
        d = self.dev_dir(addr)
        if d is None or self.driver_of(d) != drv:
            raise KernelError(errno.ENODEV, f'{addr!r} is not bound to {drv}')
        if drv == VFIO_PCI:
            self.check_vfio_users(self.pci_users(addr, d))
        self.release_driver(addr, d)

    def w_driver_override(self, rel, buf):
        d = os.path.dirname(rel)
        # driver_set_override(): len >= PAGE_SIZE - 1 is refused, the value
        # ends at a NUL or the first newline, an empty value clears it
        if len(buf) >= PAGE_SIZE - 1:
            raise KernelError(errno.EINVAL, 'override too long')
        s = buf.split(b'\0', 1)[0].split(b'\n', 1)[0]
        self.put(f'{d}/driver_override', s + b'\n' if s else b'(null)\n')

    # -- SR-IOV --------------------------------------------------------------

    def w_autoprobe(self, rel, buf):
        value = kstrtobool(buf)
        self.put(rel, '1\n' if value else '0\n')

    def w_numvfs(self, rel, buf):
        pf_dir = os.path.dirname(rel)
        pf_addr = os.path.basename(pf_dir)
        # sriov_numvfs_store() in 6.1, in its order
        try:
            n = kstrtoull(buf, 0)
        except KernelError:
            raise KernelError(errno.EINVAL, 'not a number')
        if n > 0xffff:
            raise KernelError(errno.EINVAL, 'not a u16')
        total = self.read_int(f'{pf_dir}/sriov_totalvfs')
        if total is None or n > total:
            raise KernelError(errno.ERANGE, f'{n} > sriov_totalvfs {total}')
        vfs = self.vfs_of(pf_dir)
        cur = self.read_int(f'{pf_dir}/sriov_numvfs')
        if cur is None:
            cur = len(vfs)
        if n == cur:
            return
        drv = self.driver_of(pf_dir)
        if drv is None or not os.path.isdir(self.p(f'{PCI_DRIVERS}/{drv}')):
            raise KernelError(errno.ENOENT, 'no driver bound to the PF')
        if drv in self.config['no_sriov_configure']:
            raise KernelError(errno.ENOENT, f'{drv} has no sriov_configure')
        if n == 0:
            users = []
            for addr, d in vfs:
                users += self.pci_users(addr, d)
            self.check_vfio_users(users)
            self.disable_vfs(pf_dir, vfs)
        elif cur:
            raise KernelError(errno.EBUSY, f'{cur} VFs already enabled')
        else:
            self.enable_vfs(pf_addr, pf_dir, n)

    def enable_vfs(self, pf_addr, pf_dir, n):
        dom, bus = int(pf_addr[0:4], 16), int(pf_addr[5:7], 16)
        devfn = int(pf_addr[8:10], 16) << 3 | int(pf_addr[11], 16)
        offset = self.read_int(f'{pf_dir}/sriov_offset')
        stride = self.read_int(f'{pf_dir}/sriov_stride')
        offset = 1 if offset is None else offset
        stride = 1 if stride is None else stride
        vf_device = self.read_int(f'{pf_dir}/sriov_vf_device', 16) or 0
        pf_group = self.group_of(pf_dir)
        autoprobe = (self.read(f'{pf_dir}/sriov_drivers_autoprobe') or '1').strip() != '0'
        vf_drv = self.vf_driver(pf_addr, pf_dir)
        try:
            with open(self.p(f'{pf_dir}/config'), 'rb') as f:
                config = bytearray(f.read(256).ljust(256, b'\0'))
        except OSError:
            config = bytearray(256)
        # the VF's own config space: its device ID, type-0 header, not
        # multi-function, no command bits, no INTx (as make-fixtures.py writes VFs)
        config[2:4] = vf_device.to_bytes(2, 'little')
        config[4:6] = b'\0\0'
        config[0x0e] = 0
        config[0x3c] = config[0x3d] = 0
        cls = self.read_int(f'{pf_dir}/class', 16) or 0
        parent = os.path.dirname(pf_dir)
        group_type = self.read(f'{GROUPS}/{pf_group}/type') if pf_group else None
        reserved = self.read(f'{GROUPS}/{pf_group}/reserved_regions') if pf_group else None
        addrs = []
        for i in range(n):
            rid = (bus << 8 | devfn) + offset + i * stride
            addr = f'{dom:04x}:{rid >> 8 & 0xff:02x}:{rid >> 3 & 0x1f:02x}.{rid & 7:x}'
            if rid > 0xffff or os.path.lexists(self.p(f'{parent}/{addr}')) or \
               os.path.lexists(self.p(f'{PCI_DEVICES}/{addr}')):
                raise KernelError(errno.EEXIST, f'VF {addr} collides with an existing device')
            addrs.append(addr)
        created = []
        for i, addr in enumerate(addrs):
            d = f'{parent}/{addr}'
            os.makedirs(self.p(d))
            for name in ('vendor', 'subsystem_vendor', 'subsystem_device', 'class',
                         'revision', 'numa_node', 'local_cpulist'):
                text = self.read(f'{pf_dir}/{name}')
                if text is not None:
                    self.put(f'{d}/{name}', text)
            self.put(f'{d}/device', f'0x{vf_device:04x}\n')
            self.put(f'{d}/irq', '0\n')
            self.put(f'{d}/config', bytes(config))
            self.put(f'{d}/resource', simlib.RESOURCE_LINE * 13)
            self.put(f'{d}/enable', '0\n')
            self.put(f'{d}/driver_override', '(null)\n')
            if cls >> 8 == 0x0300:
                self.put(f'{d}/boot_vga', '0\n')
            self.link(f'{PCI_DEVICES}/{addr}', d)
            if pf_group is not None:
                g = self.alloc_group()
                self.link(f'{GROUPS}/{g}/devices/{addr}', d)
                self.put(f'{GROUPS}/{g}/type', group_type or 'DMA\n')
                self.put(f'{GROUPS}/{g}/reserved_regions', reserved or '')
                self.link(f'{d}/iommu_group', f'{GROUPS}/{g}')
            self.link(f'{d}/physfn', pf_dir)
            self.link(f'{pf_dir}/virtfn{i}', d)
            if os.path.isdir(self.p(f'{pf_dir}/sriov_admin/vf{i + 1}')):
                self.link(f'{pf_dir}/sriov_admin/vf{i + 1}/device', d)   # xe
            self.natural[addr] = vf_drv
            created.append((addr, d))
        self.put(f'{pf_dir}/sriov_numvfs', f'{n}\n')
        if autoprobe:
            for addr, d in created:
                self.attach(addr, d)

    def disable_vfs(self, pf_dir, vfs):
        for addr, d in vfs:
            self.release_driver(addr, d)
            self.remove_group_member(self.group_of(d), addr)
            if self.resolve(f'{PCI_DEVICES}/{addr}') == d:
                self.unlink(f'{PCI_DEVICES}/{addr}')
            self.rmtree(d)
            self.natural.pop(addr, None)
        for name in os.listdir(self.p(pf_dir)):
            if re.fullmatch(r'virtfn\d+', name):
                self.unlink(f'{pf_dir}/{name}')
        admin = f'{pf_dir}/sriov_admin'
        if os.path.isdir(self.p(admin)):                 # xe: the VFs' links go
            for name in os.listdir(self.p(admin)):
                if re.fullmatch(r'vf\d+', name) and os.path.islink(self.p(f'{admin}/{name}/device')):
                    self.unlink(f'{admin}/{name}/device')
        self.put(f'{pf_dir}/sriov_numvfs', '0\n')

    # -- reset_method (drivers/pci/pci.c, 6.1: reset_method_store) ----------

    def w_reset_method(self, rel, buf):
        """Space-separated method names in the order to try them; "default" puts back what
        the device can do; "" disables every reset. A name the kernel does not know, or a
        method this device cannot do, is skipped with a warning, not refused: a list of
        only those disables every reset. device_specific is what a quirk or vendor-reset
        (sys/module/vendor_reset) provides."""
        text = buf.split(b'\0', 1)[0].decode('latin-1')
        if len(buf) >= PAGE_SIZE - 1:
            raise KernelError(errno.EINVAL, 'too long')
        default = self.reset_defaults.setdefault(rel, (self.read(rel) or '').split())
        supported = set(default)
        if os.path.isdir(self.p('sys/module/vendor_reset')):
            supported.add('device_specific')
        if text.strip() == 'default':
            chosen = default
        else:
            chosen = []
            for name in text.split():
                if name in RESET_METHODS and name in supported and name not in chosen:
                    chosen.append(name)
        self.put(rel, ' '.join(chosen) + '\n' if chosen else '')

    # -- xe's SR-IOV profiles (drivers/gpu/drm/xe/xe_sriov_pf_sysfs.c, 6.19; vram_quota 7.0) --

    def w_xe_profile(self, rel, buf):
        """exec_quantum_ms, preempt_timeout_us: a u32 (kstrtou32, base 0). sched_priority:
        low or normal (and high for the PF), but only the PF's: a VF's is EOPNOTSUPP.
        vram_quota (Linux 7.0, a discrete GPU's VFs only): bytes, a u64 (kstrtou64, base
        0). The kernel "might align" it per HW/FW; the ABI gives no rule, so it is kept
        exactly as written here."""
        parts = rel.split('/')
        entry, name = parts[-3], parts[-1]
        if name == 'vram_quota':
            self.put(rel, f'{kstrtoull(buf, 0)}\n')  # kstrtoull: EINVAL, ERANGE past u64
            return
        if name == 'sched_priority':
            if entry != 'pf':
                raise KernelError(errno.EOPNOTSUPP, 'only the PF\'s priority can change')
            choice = buf.split(b'\0', 1)[0].rstrip(b'\n').decode('latin-1')
            names = ['low', 'normal', 'high']
            if choice not in names:
                raise KernelError(errno.EINVAL, 'no such priority')
            self.put(rel, ' '.join(f'[{n}]' if n == choice else n for n in names) + '\n')
            return
        value = kstrtoull(buf, 0)
        if value > 0xffffffff:
            raise KernelError(errno.ERANGE, 'not a u32')
        self.put(rel, f'{value}\n')

    # -- NVIDIA vGPU 17+ on a VF (the vendor-specific VFIO framework) ---------

    def vgpu_vfs(self, vf_dir):
        """The VFs of `vf_dir`'s PF that have NVIDIA's vGPU files, and the types they
        could all take while the GPU was empty (first seen: the mount's lists)."""
        pf_dir = self.resolve(f'{vf_dir}/physfn')
        vfs = [d for _, d in self.vfs_of(pf_dir)
               if os.path.isdir(self.p(f'{d}/nvidia'))] if pf_dir else [vf_dir]
        if pf_dir not in self.vgpu_supported:
            self.vgpu_supported[pf_dir] = self.read(f'{vf_dir}/nvidia/creatable_vgpu_types') or ''
        return vfs, self.vgpu_supported[pf_dir]

    def vgpu_settle(self, vfs, supported):
        """What each VF can take now. An empty GPU: every type. Otherwise the driver keeps
        one type per GPU (as NVIDIA's does for time-sliced vGPUs by default): a free VF
        lists the type in use while the framebuffer has room for one more, a VF with a
        vGPU lists nothing."""
        lines = {int(m.group(1)): f'{m.group(1)} : {m.group(2)}'
                 for m in VGPU_LINE_RE.finditer(supported)}
        total = max((vgpu_framebuffer_gib(line) for line in lines.values()), default=0)
        used = [int(self.read(f'{d}/nvidia/current_vgpu_type') or '0') for d in vfs]
        in_use = [t for t in used if t]
        for d, t in zip(vfs, used):
            if t:
                text = ''
            elif not in_use:
                text = supported
            else:
                line = lines.get(in_use[0], '')
                size = vgpu_framebuffer_gib(line)
                text = line + '\n' if size and (len(in_use) + 1) * size <= total else ''
            self.put(f'{d}/nvidia/creatable_vgpu_types', text)

    def w_current_vgpu_type(self, rel, buf):
        """An id from the VF's creatable_vgpu_types makes its vGPU; 0 releases it. NVIDIA
        publishes no errno list: a type the VF does not list here is EINVAL, a second type
        on a VF EBUSY, and a release while a VM has the VF open EPERM (as reported from the
        field: "error writing '0' to current_vgpu_type: Operation not permitted")."""
        vf_dir = os.path.dirname(os.path.dirname(rel))
        value = kstrtoull(buf, 0)
        if value > 0xffffffff:
            raise KernelError(errno.ERANGE, 'not a u32')
        vfs, supported = self.vgpu_vfs(vf_dir)
        current = int(self.read(rel) or '0')
        if value == 0:
            if current and self.held(os.path.basename(vf_dir), self.group_of(vf_dir)):
                raise KernelError(errno.EPERM, 'a VM has the VF open')
        elif current:
            raise KernelError(errno.EBUSY, 'the VF has a vGPU')
        else:
            creatable = self.read(f'{vf_dir}/nvidia/creatable_vgpu_types') or ''
            if value not in {int(m.group(1)) for m in VGPU_LINE_RE.finditer(creatable)}:
                raise KernelError(errno.EINVAL, f'type {value} is not creatable here')
        self.put(rel, f'{value}\n')
        self.vgpu_settle(vfs, supported)

    # -- mdev ----------------------------------------------------------------

    def mdev_driver(self, parent_dir):
        addr = os.path.basename(parent_dir)
        if addr in self.mdev_drivers:
            return self.mdev_drivers[addr]
        drv = None
        try:
            names = sorted(os.listdir(self.p(parent_dir)))
        except OSError:
            names = []
        for name in names:
            if UUID_RE.fullmatch(name) and os.path.islink(self.p(f'{parent_dir}/{name}/driver')):
                drv = self.readlink_name(f'{parent_dir}/{name}/driver')
                break
        if drv is None and not parent_dir.startswith('sys/devices/virtual/'):
            drv = MDEV_DRIVER_OF_PARENT.get(self.driver_of(parent_dir) or '', 'vfio_mdev')
        elif drv is None:
            # A parent outside PCI is a sample driver's own device, and its
            # mdevs bind to the mdev_driver it registers under its own name
            # (samples/vfio-mdev/mbochs.c: .driver.name = "mbochs").
            drv = addr
        self.mdev_drivers[addr] = drv
        return drv

    def w_create(self, rel, buf):
        type_dir = os.path.dirname(rel)
        parent_dir = os.path.dirname(os.path.dirname(type_dir))
        # create_store(): 36 or 37 bytes, the first 36 a UUID in any case
        if len(buf) not in (36, 37):
            raise KernelError(errno.EINVAL, 'not a UUID')
        text = buf[:36].decode('ascii', 'replace')
        if not UUID_RE.fullmatch(text):
            raise KernelError(errno.EINVAL, 'not a UUID')
        uuid = text.lower()
        if os.path.lexists(self.p(f'{MDEV_DEVICES}/{uuid}')) or \
           os.path.lexists(self.p(f'{parent_dir}/{uuid}')):
            raise KernelError(errno.EEXIST, f'{uuid} exists')
        avail = self.read_int(f'{type_dir}/available_instances')
        budget = self.mdev_budget(parent_dir)
        if avail is not None and avail <= 0:
            full = self.config['mdev_full_errno']
            err = full.get(os.path.basename(parent_dir), full.get('*', errno.ENOSPC))
            raise KernelError(err, 'no instance available')
        mdrv = self.mdev_driver(parent_dir)
        md = f'{parent_dir}/{uuid}'
        os.makedirs(self.p(md))
        self.link(f'{md}/mdev_type', type_dir)
        self.put(f'{md}/remove', '', mode=0o200)
        self.link(f'{MDEV_DEVICES}/{uuid}', md)
        self.link(f'{type_dir}/devices/{uuid}', md)
        g = self.alloc_group()
        self.link(f'{GROUPS}/{g}/devices/{uuid}', md)
        self.put(f'{GROUPS}/{g}/type', 'unknown\n')
        self.put(f'{GROUPS}/{g}/reserved_regions', '')
        self.link(f'{md}/iommu_group', f'{GROUPS}/{g}')
        # bound to its vendor's mdev driver, which registers the vfio device
        self.link(f'{md}/driver', f'{MDEV_DRIVERS}/{mdrv}')
        self.link(f'{MDEV_DRIVERS}/{mdrv}/{uuid}', md)
        self.put(f'dev/vfio/{g}', '')
        if avail is not None:
            self.put(f'{type_dir}/available_instances', f'{avail - 1}\n')
            budget.take(os.path.basename(type_dir))

    def w_remove(self, rel, buf):
        md = os.path.dirname(rel)
        uuid = os.path.basename(md)
        value = kstrtoull(buf, 0)          # remove_store(): kstrtoul, EINVAL
        if not value:
            return
        g = self.group_of(md)
        self.check_vfio_users([uuid, g])
        type_dir = self.resolve(f'{md}/mdev_type')
        if type_dir:  # the shares as they are before this instance's come back
            budget = self.mdev_budget(os.path.dirname(os.path.dirname(type_dir)))
        mdrv = self.readlink_name(f'{md}/driver')
        if type_dir:
            self.unlink(f'{type_dir}/devices/{uuid}')
        if mdrv:
            self.unlink(f'{MDEV_DRIVERS}/{mdrv}/{uuid}')
        self.unlink(f'{MDEV_DEVICES}/{uuid}')
        self.remove_group_member(g, uuid)
        self.rmtree(md)
        if type_dir:
            avail = self.read_int(f'{type_dir}/available_instances')
            if avail is not None:
                self.put(f'{type_dir}/available_instances', f'{avail + 1}\n')
                budget.give(os.path.basename(type_dir))

    def mdev_budget(self, parent_dir):
        """The resources a parent's types share (see MdevBudget), as they were at
        the parent's first create or remove."""
        if parent_dir not in self.mdev_budgets:
            types = f'{parent_dir}/mdev_supported_types'
            counts = {}
            try:
                names = sorted(os.listdir(self.p(types)))
            except OSError:
                names = []
            for t in names:
                n = self.read_int(f'{types}/{t}/available_instances')
                if n is not None:
                    counts[t] = n
            self.mdev_budgets[parent_dir] = MdevBudget(self, types, counts)
        return self.mdev_budgets[parent_dir]

    # -- hugepage pools -----------------------------------------------------

    def nodes(self):
        out = []
        try:
            names = os.listdir(self.p(NODE_DIR))
        except OSError:
            return out
        for name in names:
            m = re.fullmatch(r'node(\d+)', name)
            if m and os.path.isdir(self.p(f'{NODE_DIR}/{name}')):
                out.append(int(m.group(1)))
        return sorted(out)

    def adjust_meminfo(self, rel, key, delta):
        """Adds `delta` to the `key:` line of a meminfo file, keeping its layout."""
        text = self.read(rel)
        if text is None:
            return
        def repl(m):           # the column stays where it was, as the kernel's printf
            width = len(m.group(2)) + len(m.group(3))
            return m.group(1) + (' ' + str(int(m.group(3)) + delta)).rjust(width)
        new = re.sub(rf'^((?:Node \d+ )?{re.escape(key)}:)(\s*)(\d+)', repl, text, count=1,
                     flags=re.M)
        if new != text:
            self.put(rel, new)

    def pool_room(self, node, size_kib):
        """How many new pages of `size_kib` the kernel can find: the memory knob, or the
        node's (or the system's) MemFree."""
        key = 'system' if node is None else str(node)
        knob = self.config['hugepage_memory_kib'].get(key)
        if knob is not None:
            return max(knob, 0) // size_kib
        rel = 'proc/meminfo' if node is None else f'{NODE_DIR}/node{node}/meminfo'
        m = re.search(r'MemFree:\s*(\d+)', self.read(rel) or '')
        return int(m.group(1)) // size_kib if m else 0

    def pool_change(self, node, size_kib, delta):
        """`delta` pages more (or fewer, all free) in a pool, with everything that shows
        them: the node's and the system's nr/free, meminfo, the memory knob."""
        if delta == 0:
            return
        dirs = [f'sys/kernel/mm/hugepages/hugepages-{size_kib}kB']
        if node is not None:
            dirs.append(f'{NODE_DIR}/node{node}/hugepages/hugepages-{size_kib}kB')
        for d in dirs:
            for name in ('nr_hugepages', 'free_hugepages'):
                value = self.read_int(f'{d}/{name}')
                if value is not None:
                    self.put(f'{d}/{name}', f'{value + delta}\n')
        kib = delta * size_kib
        key = 'system' if node is None else str(node)
        if key in self.config['hugepage_memory_kib']:
            self.config['hugepage_memory_kib'][key] -= kib
        self.adjust_meminfo('proc/meminfo', 'MemFree', -kib)
        self.adjust_meminfo('proc/meminfo', 'MemAvailable', -kib)
        if node is not None:
            nm = f'{NODE_DIR}/node{node}/meminfo'
            self.adjust_meminfo(nm, 'MemFree', -kib)
            self.adjust_meminfo(nm, 'MemUsed', kib)
            if size_kib == 2048:
                self.adjust_meminfo(nm, 'HugePages_Total', delta)
                self.adjust_meminfo(nm, 'HugePages_Free', delta)
        if size_kib == 2048:
            self.adjust_meminfo('proc/meminfo', 'HugePages_Total', delta)
            self.adjust_meminfo('proc/meminfo', 'HugePages_Free', delta)
            self.adjust_meminfo('proc/meminfo', 'Hugetlb', kib)

    def w_nr_hugepages(self, rel, buf):
        # nr_hugepages_store_common() in 6.1: kstrtoul(buf, 10), then
        # set_max_huge_pages(): grows as far as memory allows (no error for a
        # short pool), shrinks free pages only (in-use ones stay, as surplus).
        n = kstrtoull(buf, 10)       # EINVAL, or ERANGE past an unsigned long
        m = HUGEPAGE_POOL_RE.fullmatch(rel)
        size_kib = int(m.group(2))
        cur = self.read_int(rel) or 0
        nodes = self.nodes()
        if m.group(1) is not None:
            targets = [int(m.group(1))]
        else:
            targets = nodes or [None]   # the system pool: spread over the nodes
        def free_of(t):
            d = (f'{NODE_DIR}/node{t}/hugepages/hugepages-{size_kib}kB' if t is not None
                 else f'sys/kernel/mm/hugepages/hugepages-{size_kib}kB')
            return self.read_int(f'{d}/free_hugepages') or 0
        if n > cur:      # grows where memory has room
            self.spread_pool_change(targets, size_kib, n - cur,
                                    lambda t: self.pool_room(t, size_kib), 1)
        elif n < cur:    # shrinks by free pages only
            self.spread_pool_change(targets, size_kib, cur - n, free_of, -1)

    def spread_pool_change(self, targets, size_kib, amount, room_of, sign):
        """Adds (sign 1) or removes (-1) `amount` pages round robin over the nodes
        `targets` while room_of(node) allows, as the kernel interleaves."""
        while amount > 0:
            rooms = [(t, room_of(t)) for t in targets]
            rooms = [(t, r) for t, r in rooms if r > 0]
            if not rooms:
                break
            share = max(1, amount // len(rooms))
            for t, room in rooms:
                take = min(share, room, amount)
                self.pool_change(t, size_kib, sign * take)
                amount -= take
                if amount == 0:
                    break

    # -- dispatch ------------------------------------------------------------

    def handler(self, rel):
        """The store method of `rel`, or None when it has none."""
        if rel == 'sys/bus/pci/drivers_probe':
            return self.w_drivers_probe
        if HUGEPAGE_POOL_RE.fullmatch(rel) and os.path.isfile(self.p(rel)):
            return self.w_nr_hugepages
        parts = rel.split('/')
        if len(parts) == 6 and rel.startswith(PCI_DRIVERS + '/') and parts[5] in ('bind', 'unbind'):
            return self.w_bind if parts[5] == 'bind' else self.w_unbind
        name, parent = parts[-1], '/'.join(parts[:-1])
        base = parts[-2] if len(parts) > 1 else ''
        if name in PCI_ATTRS and ADDR_RE.fullmatch(base) and self.dev_dir(base) == parent:
            return {'driver_override': self.w_driver_override,
                    'sriov_numvfs': self.w_numvfs,
                    'sriov_drivers_autoprobe': self.w_autoprobe,
                    'reset_method': self.w_reset_method}[name]
        if name == 'create' and len(parts) >= 4 and parts[-3] == 'mdev_supported_types':
            return self.w_create
        if name in ('exec_quantum_ms', 'preempt_timeout_us', 'sched_priority',
                    'vram_quota') and \
           len(parts) >= 5 and parts[-2] == 'profile' and parts[-4] == 'sriov_admin' and \
           re.fullmatch(r'pf|vf[1-9]\d*', parts[-3]) and \
           ADDR_RE.fullmatch(parts[-5]) and self.dev_dir(parts[-5]) == '/'.join(parts[:-4]):
            return self.w_xe_profile
        if name == 'current_vgpu_type' and base == 'nvidia' and len(parts) >= 3 and \
           ADDR_RE.fullmatch(parts[-3]) and self.dev_dir(parts[-3]) == '/'.join(parts[:-2]) \
           and os.path.lexists(self.p(f'{"/".join(parts[:-2])}/physfn')):
            return self.w_current_vgpu_type
        if name == 'remove' and UUID_RE.fullmatch(base) and \
           os.path.islink(self.p(f'{parent}/mdev_type')):
            return self.w_remove
        return None

    def aliases(self, rel):
        """Other names of `rel` a test may use: the bus and class links."""
        out = []
        parts = rel.split('/')
        for i in range(len(parts) - 1, 0, -1):
            name, rest = parts[i - 1], '/'.join(parts[i:])
            head = '/'.join(parts[:i])
            if UUID_RE.fullmatch(name) and os.path.islink(self.p(f'{head}/mdev_type')):
                out.append(f'{MDEV_DEVICES}/{name}/{rest}')
            elif ADDR_RE.fullmatch(name) and self.dev_dir(name) == head:
                out.append(f'{PCI_DEVICES}/{name}/{rest}')
                if os.path.isdir(self.p(f'{head}/mdev_supported_types')):
                    out.append(f'sys/class/mdev_bus/{name}/{rest}')
                break                  # the nearest PCI device names it
            elif head.startswith('sys/devices/virtual/') and \
                    os.path.isdir(self.p(f'{head}/mdev_supported_types')) and \
                    self.resolve(f'sys/class/mdev_bus/{name}') == head:
                out.append(f'sys/class/mdev_bus/{name}/{rest}')   # a parent outside PCI
                break
        return out

    # -- faults --------------------------------------------------------------

    def add_rule(self, kind, **kw):
        with self.ctl_lock:
            self.rule_seq += 1
            rule = dict(kw, kind=kind, id=self.rule_seq, seen=0, event=threading.Event())
            pattern = rule.get('path')
            rule['path'] = simlib.norm_pattern(pattern) if pattern else None
            self.rules.append(rule)
            return rule['id']

    def clear_rules(self, kind=None):
        with self.ctl_lock:
            keep = []
            for r in self.rules:
                if kind is None or r['kind'] == kind:
                    r['event'].set()
                else:
                    keep.append(r)
            self.rules = keep

    def release_hangs(self, pattern=None):
        with self.ctl_lock:
            for r in self.rules:
                if r['kind'] == 'hang' and (pattern is None or r['path'] == simlib.norm_pattern(pattern)):
                    r['event'].set()
                    r['released'] = True

    def rule_list(self):
        with self.ctl_lock:
            return [{k: v for k, v in r.items() if k != 'event'} for r in self.rules]

    @staticmethod
    def _matches(rule, names):
        pattern = rule.get('path')
        return pattern is None or any(fnmatch.fnmatchcase(n, pattern) for n in names)

    def _take_rules(self, names):
        """Rules that fire on this write (counters advance here)."""
        fired = []
        with self.ctl_lock:
            self.nwrites += 1
            n = self.nwrites
            for r in list(self.rules):
                if r.get('released') or not self._matches(r, names):
                    continue
                r['seen'] += 1
                if r['kind'] == 'kill':
                    if r['seen'] == r['n']:
                        fired.append(r)
                        self.rules.remove(r)
                else:
                    fired.append(r)
                    if r.get('times') is not None and r['seen'] >= r['times']:
                        self.rules.remove(r)
        return n, fired

    def kill(self, rule, writer_pid):
        # Not waiting for the death: a writer whose request has reached us
        # sleeps uninterruptibly until we answer (fs/fuse/dev.c
        # request_wait_answer), and dies on the way out of write(2) without
        # running another instruction of its own.
        pid = rule.get('pid') or simlib.tgid_of(writer_pid)
        try:
            os.kill(pid, rule.get('signal', signal.SIGKILL))
        except ProcessLookupError:
            pass
        return pid

    def wait(self, seconds, event):
        """Sleep `seconds` (None: for ever) unless `event`, shutdown or the
        writer is interrupted (then KernelError)."""
        deadline = None if seconds is None else time.monotonic() + seconds
        while not event.is_set():
            self.check_abandoned()
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return
            event.wait(0.05 if left is None else min(left, 0.05))

    def check_abandoned(self):
        """A blocked write ends when the simulator stops, or when its writer is
        killed. (The real kernel keeps a writer blocked in
        vfio_unregister_group_dev even through SIGKILL until the device is
        released, and then applies the write; the simulator gives the write up,
        unapplied, so that a killed test never waits on a simulator that waits
        on it. Other signals leave the write blocked, as in the kernel.)"""
        if self.shutdown:
            raise KernelError(errno.EIO, 'simulator shutting down')
        if self.interrupted():
            raise KernelError(errno.EINTR, 'writer killed while blocked')

    # -- the write -----------------------------------------------------------

    def write(self, rel, buf, writer_pid=0):
        buf = bytes(buf[:PAGE_SIZE])
        names = [rel] + self.aliases(rel)
        n, fired = self._take_rules(names)
        entry = {'n': n, 'path': rel, 'value': buf.decode('utf-8', 'backslashreplace'),
                 'pid': simlib.tgid_of(writer_pid), 'applied': False}
        if entry['pid'] != writer_pid:
            entry['tid'] = writer_pid
        if len(names) > 1:
            entry['aliases'] = names[1:]
        faults = []
        t0 = time.monotonic()
        try:
            for r in fired:
                if r['kind'] == 'fail':
                    faults.append(f"fail#{r['id']}")
                    raise KernelError(r['errno'], 'injected failure')
            for r in fired:
                if r['kind'] == 'hang':
                    faults.append(f"hang#{r['id']}")
                    self.wait(r.get('seconds'), r['event'])
                    if r.get('errno'):
                        raise KernelError(r['errno'], 'injected failure after hang')
            kills = [r for r in fired if r['kind'] == 'kill']
            for r in kills:
                if not r.get('after'):
                    faults.append(f"kill-before#{r['id']}")
                    entry['killed'] = self.kill(r, writer_pid)
                    raise KernelError(errno.EINTR, 'writer killed before the write')
            self.apply(rel, buf)
            entry['applied'] = True
            for r in kills:
                faults.append(f"kill-after#{r['id']}")
                entry['killed'] = self.kill(r, writer_pid)
            entry['errno'] = 0
            return len(buf)
        except KernelError as e:
            entry['errno'] = e.errno
            entry['error'] = errno.errorcode.get(e.errno, str(e.errno))
            if e.why:
                entry['why'] = e.why
            raise
        finally:
            if faults:
                entry['faults'] = faults
            entry['secs'] = round(time.monotonic() - t0, 4)
            self.log_write(entry)

    def apply(self, rel, buf):
        handler = self.handler(rel)
        if handler is None:
            raise KernelError(errno.EACCES, 'no store method')
        while True:
            with self.lock:
                try:
                    return handler(rel, buf)
                except Blocked as b:
                    targets = b.targets
            with self.cv:
                while any(self.holds.get(t) == 'block' for t in targets):
                    self.check_abandoned()
                    self.cv.wait(0.05)

    def log_write(self, entry):
        if self.log_file is None:
            return
        line = json.dumps(entry, sort_keys=True)
        with self.ctl_lock:
            self.log_file.write(line + '\n')
            self.log_file.flush()

    # -- holds (control) -----------------------------------------------------

    def hold(self, target, mode='block'):
        if mode not in ('block', 'ebusy'):
            raise ValueError('mode must be block or ebusy')
        with self.cv:
            self.holds[str(target).lower()] = mode

    def release(self, target=None):
        with self.cv:
            if target is None:
                self.holds.clear()
            else:
                self.holds.pop(str(target).lower(), None)
            self.cv.notify_all()

    def stop(self):
        with self.cv:
            self.shutdown = True
            self.cv.notify_all()
        with self.ctl_lock:
            for r in self.rules:
                r['event'].set()

    # -- mount-time setup ----------------------------------------------------

    def boot(self):
        """Record what the fixture says and add the kernel files it omits
        (bind/unbind, drivers_probe, the mdev bus)."""
        devices = self.bus_devices()
        for addr, d in devices.items():
            drv = self.readlink_name(f'{d}/driver')
            if drv:
                self.natural[addr] = drv
        for addr, d in devices.items():
            if os.path.lexists(self.p(f'{d}/sriov_totalvfs')):
                counts = {}
                for vf, _ in self.vfs_of(d):
                    drv = self.natural.get(vf)
                    if drv and drv != VFIO_PCI:
                        counts[drv] = counts.get(drv, 0) + 1
                if counts:
                    self.boot_vf_driver[addr] = sorted(
                        counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        drivers = self.p(PCI_DRIVERS)
        if os.path.isdir(drivers):
            for name in os.listdir(drivers):
                ddir = f'{PCI_DRIVERS}/{name}'
                if os.path.isdir(self.p(ddir)) and not os.path.islink(self.p(ddir)):
                    for attr in ('bind', 'unbind'):
                        if not os.path.lexists(self.p(f'{ddir}/{attr}')):
                            self.put(f'{ddir}/{attr}', '', mode=0o200)
        if os.path.isdir(self.p('sys/bus/pci')) and \
           not os.path.lexists(self.p('sys/bus/pci/drivers_probe')):
            self.put('sys/bus/pci/drivers_probe', '', mode=0o200)
        try:
            parents = sorted(os.listdir(self.p('sys/class/mdev_bus')))
        except OSError:
            parents = []
        for name in parents:
            pd = self.resolve(f'sys/class/mdev_bus/{name}')
            if pd is None:
                continue
            mdrv = self.mdev_driver(pd)
            os.makedirs(self.p(f'{MDEV_DRIVERS}/{mdrv}'), exist_ok=True)
            os.makedirs(self.p(MDEV_DEVICES), exist_ok=True)


# ---------------------------------------------------------------------------
# The file system
# ---------------------------------------------------------------------------

STAT_KEYS = ('st_mode', 'st_ino', 'st_nlink', 'st_uid', 'st_gid', 'st_size',
             'st_atime', 'st_mtime', 'st_ctime')


class SysfsSim(fuse.Operations):
    use_ns = True

    def __init__(self, kernel, ready_fd=None):
        self.k = kernel
        libfuse = getattr(fuse, '_libfuse', None)
        if libfuse is not None and hasattr(libfuse, 'fuse_interrupted'):
            # Any signal interrupts a FUSE request (a daemon's SIGCHLD too):
            # only a writer that is being killed gives its write up.
            kernel.interrupted = lambda: bool(libfuse.fuse_interrupted()) and \
                simlib.being_killed(fuse.fuse_get_context()[2])
        self.root = kernel.root
        self.ready_fd = ready_fd
        self.write_fh = 1 << 40            # handles of write-opened attributes

    def _p(self, path):
        return self.root + path

    def init(self, path):
        if self.ready_fd is not None:
            try:
                os.write(self.ready_fd, b'ready\n')
                os.close(self.ready_fd)
            except OSError:
                pass
            self.ready_fd = None

    def getattr(self, path, fh=None):
        try:
            st = os.lstat(self._p(path))
        except OSError as e:
            raise fuse.FuseOSError(e.errno)
        out = {k: getattr(st, k) for k in STAT_KEYS}
        for k in ('st_atime', 'st_mtime', 'st_ctime'):
            out[k] = getattr(st, k + '_ns')
        return out

    def readlink(self, path):
        try:
            return os.readlink(self._p(path))
        except OSError as e:
            raise fuse.FuseOSError(e.errno)

    def readdir(self, path, fh):
        try:
            return ['.', '..'] + os.listdir(self._p(path))
        except OSError as e:
            raise fuse.FuseOSError(e.errno)

    def open(self, path, flags):
        acc = flags & os.O_ACCMODE
        full = self._p(path)
        try:
            st = os.stat(full)
        except OSError as e:
            raise fuse.FuseOSError(e.errno)
        if acc != os.O_RDONLY and self.k.handler(path[1:]) is None:
            raise fuse.FuseOSError(errno.EACCES)   # kernfs: no store method
        if acc != os.O_WRONLY and not st.st_mode & 0o444:
            raise fuse.FuseOSError(errno.EACCES)   # kernfs: no show method
        if acc == os.O_WRONLY:
            return self.write_fh
        try:
            return os.open(full, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as e:
            raise fuse.FuseOSError(e.errno)

    def read(self, path, size, offset, fh):
        if fh == self.write_fh:
            raise fuse.FuseOSError(errno.EBADF)
        try:
            return os.pread(fh, size, offset)
        except OSError as e:
            raise fuse.FuseOSError(e.errno)

    def write(self, path, data, offset, fh):
        pid = fuse.fuse_get_context()[2]
        try:
            return self.k.write(path[1:], data, pid)
        except KernelError as e:
            raise fuse.FuseOSError(e.errno)

    def truncate(self, path, length, fh=None):
        # O_TRUNC on an attribute: sysfs ignores it
        if self.k.handler(path[1:]) is None:
            raise fuse.FuseOSError(errno.EACCES)
        return 0

    def release(self, path, fh):
        if fh != self.write_fh:
            try:
                os.close(fh)
            except OSError:
                pass
        return 0

    def flush(self, path, fh):
        return 0

    def fsync(self, path, datasync, fh):
        return 0

    def statfs(self, path):
        sv = os.statvfs(self.root)
        return {k: getattr(sv, k) for k in ('f_bsize', 'f_frsize', 'f_blocks', 'f_bfree',
                                             'f_bavail', 'f_files', 'f_ffree', 'f_namemax')}

    def _refuse(self, *args, **kwargs):
        raise fuse.FuseOSError(errno.EPERM)

    mkdir = rmdir = unlink = symlink = rename = link = chmod = chown = mknod = _refuse
    utimens = _refuse

    def create(self, path, mode, fi=None):
        raise fuse.FuseOSError(errno.EACCES)


# ---------------------------------------------------------------------------
# Control channel
# ---------------------------------------------------------------------------

class Control:
    """JSON lines over a unix socket: one request per line, one answer per line."""

    def __init__(self, kernel, path, on_shutdown):
        self.k = kernel
        self.path = path
        self.on_shutdown = on_shutdown
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if os.path.lexists(path):
            os.unlink(path)
        self.sock.bind(path)
        os.chmod(path, 0o600)
        self.sock.listen(8)

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.client, args=(conn,), daemon=True).start()

    def client(self, conn):
        f = conn.makefile('rwb', buffering=0)
        try:
            for line in f:
                req = None
                try:
                    req = json.loads(line)
                    result = self.dispatch(req)
                    answer = {'ok': True, 'result': result}
                except Exception as e:     # answer every request, whatever it was
                    answer = {'ok': False, 'error': f'{type(e).__name__}: {e}'}
                f.write((json.dumps(answer) + '\n').encode())
                if isinstance(req, dict) and req.get('op') == 'shutdown':
                    self.on_shutdown('control')
                    return
        except OSError:
            pass
        finally:
            conn.close()

    def dispatch(self, req):
        k = self.k
        op = req.get('op')
        if op == 'ping':
            return {'pid': os.getpid(), 'writes': k.nwrites}
        if op == 'count':
            return k.nwrites
        if op == 'fail':
            return k.add_rule('fail', path=req['path'], errno=simlib.errno_value(req['errno']),
                              times=req.get('times'))
        if op == 'hang':
            err = req.get('errno')
            return k.add_rule('hang', path=req['path'], seconds=req.get('seconds'),
                              errno=simlib.errno_value(err) if err else None, times=req.get('times'))
        if op == 'unhang':
            k.release_hangs(req.get('path'))
            return None
        if op == 'kill_at':
            n = int(req['n'])
            if n < 1:
                raise ValueError('n counts from 1')
            return k.add_rule('kill', n=n, pid=req.get('pid'), after=bool(req.get('after')),
                              signal=int(req.get('signal', signal.SIGKILL)), path=req.get('path'))
        if op == 'clear':
            k.clear_rules(req.get('kind'))
            if req.get('holds', True) and req.get('kind') is None:
                k.release()
            return None
        if op == 'rules':
            return k.rule_list()
        if op == 'hold':
            k.hold(req['target'], req.get('mode', 'block'))
            return None
        if op == 'release':
            k.release(req.get('target'))
            return None
        if op == 'holds':
            return dict(k.holds)
        if op == 'configure':
            with k.lock:
                k.configure(req['settings'])
            return k.config
        if op == 'snapshot':
            with k.lock:
                return simlib.snapshot_tree(k.root)
        if op == 'shutdown':
            return None
        raise ValueError(f'unknown op {op!r}')


# ---------------------------------------------------------------------------
# Process
# ---------------------------------------------------------------------------

MNT_DETACH = 2


def lazy_unmount(mountpoint):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.umount2(mountpoint.encode(), MNT_DETACH) == 0:
        return True
    for cmd in (['fusermount', '-u', '-z', mountpoint], ['umount', '-l', mountpoint]):
        try:
            if os.spawnvp(os.P_WAIT, cmd[0], cmd) == 0:
                return True
        except OSError:
            pass
    return False


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--backing', required=True, help='the fixture host tree (changed in place)')
    ap.add_argument('--mount', required=True, help='mount point (an empty directory)')
    ap.add_argument('--control', help='unix socket for the control channel')
    ap.add_argument('--log', help='append one JSON line per write here')
    ap.add_argument('--config', help='JSON settings (vf_driver, no_sriov_configure, mdev_full_errno)')
    ap.add_argument('--ready-fd', type=int, help='write "ready\\n" to this fd once mounted')
    ap.add_argument('--parent-fd', type=int,
                    help='unmount and exit when this fd reaches EOF (the parent died)')
    ap.add_argument('--workdir', help='with --parent-fd: remove this directory after an orphan exit')
    ap.add_argument('--debug', action='store_true')
    args = ap.parse_args(argv)

    logging.basicConfig(level=logging.WARNING,
                        format='%(asctime)s sysfs-sim: %(levelname)s %(message)s')
    log.setLevel(logging.DEBUG if args.debug else logging.WARNING)
    kernel = Kernel(args.backing, args.log, json.loads(args.config) if args.config else None)
    kernel.boot()
    mountpoint = os.path.abspath(args.mount)

    # SIGTERM/SIGINT/SIGHUP go to one thread that unmounts: blocked everywhere
    # else (libfuse's own handlers never run; its worker threads inherit the mask)
    sigs = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
    signal.pthread_sigmask(signal.SIG_BLOCK, sigs)

    stopping = threading.Event()
    orphan = threading.Event()

    def shut(why):
        if stopping.is_set():
            return
        stopping.set()
        log.info('stopping (%s)', why)
        kernel.stop()
        lazy_unmount(mountpoint)

        def force():
            # The FUSE loop ends at once unless a file in the detached mount is
            # still open (the connection lives until its last user): then end
            # the process, which ends the connection (such a file reads ENOTCONN).
            time.sleep(1)
            if orphan.is_set() and args.workdir:
                simlib.remove_tree(args.workdir)
            os._exit(0)
        threading.Thread(target=force, daemon=True).start()

    def on_signal():
        sig = signal.sigwait(sigs)
        shut(f'signal {sig}')

    threading.Thread(target=on_signal, daemon=True).start()

    if args.parent_fd is not None:
        parent = os.getppid()

        def watch_parent():
            # EOF on the pipe: the parent is gone. A parent killed while one of
            # its threads waits for us in a FUSE request is a zombie whose
            # files stay open until we answer: notice that too.
            while True:
                try:
                    ready, _, _ = select.select([args.parent_fd], [], [], 0.5)
                    if ready and not os.read(args.parent_fd, 64):
                        break
                except InterruptedError:
                    continue
                except OSError:
                    break
                if not simlib.alive(parent):
                    break
            orphan.set()
            shut('orphan')
        threading.Thread(target=watch_parent, daemon=True).start()

    if args.control:
        ctl = Control(kernel, args.control, shut)
        threading.Thread(target=ctl.serve, daemon=True).start()

    ops = SysfsSim(kernel, args.ready_fd)
    opts = dict(foreground=True, nothreads=False, fsname='sysfs-sim', subtype='sysfs-sim',
                use_ino=True, direct_io=True, intr=True,
                entry_timeout=1, attr_timeout=0, negative_timeout=0)
    if os.geteuid() == 0:
        opts['allow_other'] = True
    try:
        fuse.FUSE(ops, mountpoint, **opts)
        log.info('FUSE loop ended')
    finally:
        kernel.stop()
        if orphan.is_set() and args.workdir:
            lazy_unmount(mountpoint)
            simlib.remove_tree(args.workdir)
    return 0


if __name__ == '__main__':
    rc = main()
    # the interpreter's own teardown takes over a second after a FUSE session
    # (it tidies the threads libfuse called into): nothing is left to flush
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)
