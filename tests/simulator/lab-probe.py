#!/usr/bin/python3
"""Lab probe: the errno and the sysfs changes the real kernel (6.1, under QEMU
in ../shared/lab) gives for every write the simulator imitates. The numbers
in README.md ("lab") come from it.

    ../shared/lab/run-lab.sh --keep tests/simulator/lab-probe.py          # SR-IOV + mdev
    ../shared/lab/run-lab.sh --keep tests/simulator/lab-probe.py sriov    # SR-IOV only

Each result is a JSON line on the console (PROBE {...}) and in
RUNDIR/probe.jsonl. Not run by meson: it needs the lab.
"""
import errno, fcntl, glob, json, os, struct, subprocess, sys, threading, time, uuid

OUT = os.path.join(os.environ.get('LAB_RUNDIR', '/tmp'), 'probe.jsonl')
out = open(OUT, 'w')


def rec(what, **kw):
    kw['what'] = what
    line = json.dumps(kw)
    print('PROBE ' + line, flush=True)
    out.write(line + '\n')
    out.flush()


def w(path, data, what=None, timeout=None):
    """One write() of data; returns errno name or 'ok'."""
    t0 = time.monotonic()
    shown = data if isinstance(data, str) else repr(data)
    try:
        fd = os.open(path, os.O_WRONLY)
    except OSError as e:
        r = 'open:' + errno.errorcode[e.errno]
        rec(what or 'write', path=path, data=shown, result=r)
        return r
    try:
        os.write(fd, data.encode() if isinstance(data, str) else data)
        r = 'ok'
    except OSError as e:
        r = errno.errorcode[e.errno]
    finally:
        os.close(fd)
    rec(what or 'write', path=path, data=shown, result=r, secs=round(time.monotonic() - t0, 3))
    return r


def r(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError as e:
        return 'ERR:' + errno.errorcode[e.errno]


def rl(path):
    try:
        return os.readlink(path)
    except OSError as e:
        return 'ERR:' + errno.errorcode[e.errno]


def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout


def ls(path):
    rec('ls', path=path, out=sh(f'ls -la {path}'))


def drv(dev):
    l = rl(f'/sys/bus/pci/devices/{dev}/driver')
    return os.path.basename(l) if not l.startswith('ERR') else None


def grp(dev):
    return os.path.basename(rl(f'/sys/bus/pci/devices/{dev}/iommu_group'))


VFIO = 0x3B64


def vfio_hold(group, devname):
    """Child process that opens container+group+device and sleeps; returns Popen."""
    code = f'''
import os, fcntl, struct, sys, time
c = os.open('/dev/vfio/vfio', os.O_RDWR)
g = os.open('/dev/vfio/{group}', os.O_RDWR)
fcntl.ioctl(g, 0x3B68, struct.pack('i', c))
fcntl.ioctl(c, 0x3B66, 3)
buf = bytearray(b'{devname}\\0')
d = fcntl.ioctl(g, 0x3B6A, buf, True)
print('HELD', d, flush=True)
time.sleep(3600)
'''
    p = subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    rec('hold', group=group, dev=devname, out=line.strip(), err='' if line else p.stderr.read())
    return p


def timed_write_while_held(path, data, holder, release_after=4.0, what=None):
    res = {}

    def run():
        res['r'] = w(path, data, what=what)
        res['t'] = time.monotonic()
    t0 = time.monotonic()
    th = threading.Thread(target=run)
    th.start()
    th.join(release_after)
    blocked = th.is_alive()
    holder.kill()
    holder.wait()
    t_rel = time.monotonic()
    th.join(30)
    rec((what or 'held-write') + '-summary', path=path, blocked_until_release=blocked,
        result=res.get('r'), secs_after_release=round(res['t'] - t_rel, 3) if 't' in res else None,
        total=round(time.monotonic() - t0, 3))


def sriov():
    subprocess.run('modprobe nvme; modprobe vfio-pci; modprobe vfio_iommu_type1', shell=True)
    pf = None
    for d in sorted(glob.glob('/sys/bus/pci/devices/*')):
        if os.path.exists(d + '/sriov_totalvfs') and r(d + '/class').startswith('0x010802'):
            pf = os.path.basename(d)
    if not pf:
        rec('no-pf')
        return
    P = f'/sys/bus/pci/devices/{pf}'
    for _ in range(100):
        if drv(pf):
            break
        time.sleep(0.1)
    total = int(r(P + '/sriov_totalvfs'))
    rec('pf', pf=pf, driver=drv(pf), total=total, autoprobe=r(P + '/sriov_drivers_autoprobe'),
        offset=r(P + '/sriov_offset'), stride=r(P + '/sriov_stride'), vfdev=r(P + '/sriov_vf_device'))
    ls(P + '/')
    ls('/sys/bus/pci/')
    ls('/sys/bus/pci/drivers/nvme/')
    ls('/sys/bus/pci/drivers/vfio-pci/')
    w(P + '/sriov_drivers_autoprobe', '2\n', 'autoprobe=2')
    w(P + '/sriov_drivers_autoprobe', 'y\n', 'autoprobe=y')
    rec('autoprobe-read', v=r(P + '/sriov_drivers_autoprobe'))
    w(P + '/vendor', '0x1234\n', 'write-readonly-vendor')
    w(P + '/sriov_totalvfs', '1\n', 'write-readonly-totalvfs')
    w(P + '/sriov_numvfs', f'{total + 1}\n', 'numvfs>total')
    w(P + '/sriov_numvfs', '70000\n', 'numvfs=70000')
    w(P + '/sriov_numvfs', 'abc\n', 'numvfs=abc')
    w(P + '/sriov_numvfs', '-1\n', 'numvfs=-1')
    w(P + '/sriov_numvfs', '', 'numvfs=empty-0-bytes')
    # autoprobe on: VFs get the PF's driver
    w(P + '/sriov_numvfs', '2\n', 'numvfs=2 autoprobe=1')
    time.sleep(1)
    vfs = [os.path.basename(rl(f'{P}/virtfn{i}')) for i in range(2)]
    rec('vfs-autoprobe1', vfs=vfs, drivers=[drv(v) for v in vfs], groups=[grp(v) for v in vfs],
        pfgroup=grp(pf), numa=[r(f'/sys/bus/pci/devices/{v}/numa_node') for v in vfs],
        groups_list=sorted(os.listdir('/sys/kernel/iommu_groups'), key=int))
    ls(f'/sys/bus/pci/devices/{vfs[0]}/')
    w(P + '/sriov_numvfs', '2\n', 'numvfs=2 again (same)')
    w(P + '/sriov_numvfs', '3\n', 'numvfs 2->3')
    w(P + '/sriov_numvfs', '1\n', 'numvfs 2->1')
    w(P + '/sriov_numvfs', '0\n', 'numvfs 2->0')
    w(P + '/sriov_numvfs', '0\n', 'numvfs 0->0')
    w(P + '/sriov_drivers_autoprobe', '0\n', 'autoprobe=0')
    # PF unbound
    w('/sys/bus/pci/drivers/nvme/unbind', pf + '\n', 'unbind PF')
    rec('pf-driver-after-unbind', d=drv(pf))
    w(P + '/sriov_numvfs', '2\n', 'numvfs=2 without PF driver')
    w(P + '/sriov_numvfs', '0\n', 'numvfs=0 without PF driver (equal)')
    w(P + '/sriov_numvfs', f'{total + 1}\n', 'numvfs>total without PF driver')
    w('/sys/bus/pci/drivers/nvme/bind', pf, 'bind PF (no newline)')
    time.sleep(1)
    rec('pf-driver-after-bind', d=drv(pf))
    w(P + '/sriov_numvfs', '2\n', 'numvfs=2 autoprobe=0')
    time.sleep(0.5)
    vfs = [os.path.basename(rl(f'{P}/virtfn{i}')) for i in range(2)]
    vf = vfs[0]
    V = f'/sys/bus/pci/devices/{vf}'
    rec('vfs-autoprobe0', vfs=vfs, drivers=[drv(v) for v in vfs], groups=[grp(v) for v in vfs],
        override=r(V + '/driver_override'),
        groups_list=sorted(os.listdir('/sys/kernel/iommu_groups'), key=int))
    w('/sys/bus/pci/drivers/vfio-pci/bind', vf, 'bind vfio-pci without override')
    w('/sys/bus/pci/drivers/nvme/unbind', vf, 'unbind unbound VF from nvme')
    w('/sys/bus/pci/drivers/nvme/unbind', '0000:ff:1f.7', 'unbind nonexistent dev')
    w('/sys/bus/pci/drivers_probe', '0000:ff:1f.7', 'drivers_probe nonexistent dev')
    w('/sys/bus/pci/drivers_probe', vf[5:], 'drivers_probe short address')
    w('/sys/bus/pci/drivers_probe', vf + '\n', 'drivers_probe VF no override')
    rec('vf-driver', d=drv(vf))
    w('/sys/bus/pci/drivers/nvme/bind', vf, 'bind when bound (same drv)')
    w('/sys/bus/pci/drivers_probe', vf, 'drivers_probe when bound')
    w('/sys/bus/pci/drivers/vfio-pci/unbind', vf, 'unbind from wrong driver')
    w(V + '/driver_override', 'nonexistent-drv', 'override=nonexistent')
    rec('override-read', v=r(V + '/driver_override'))
    w('/sys/bus/pci/drivers/nvme/bind', vf, 'bind nvme while bound & override other')
    w('/sys/bus/pci/drivers/nvme/unbind', vf, 'unbind VF from nvme')
    w('/sys/bus/pci/drivers/nvme/bind', vf, 'bind nvme while override=other')
    w('/sys/bus/pci/drivers_probe', vf, 'drivers_probe override=nonexistent')
    rec('vf-driver', d=drv(vf))
    w(V + '/driver_override', '\n', 'override=\\n')
    rec('override-read', v=r(V + '/driver_override'))
    w(V + '/driver_override', 'vfio-pci', 'override=vfio-pci')
    rec('override-read', v=r(V + '/driver_override'))
    w(V + '/driver_override', b'', 'override=0 bytes')
    rec('override-read-after-0-bytes', v=r(V + '/driver_override'))
    w(V + '/driver_override', 'x' * 5000, 'override=5000 bytes')
    w(V + '/driver_override', 'vfio-pci\n', 'override=vfio-pci\\n')
    rec('override-read', v=r(V + '/driver_override'))
    g = grp(vf)
    rec('dev-vfio-before', ls=sorted(os.listdir('/dev/vfio')))
    w('/sys/bus/pci/drivers/vfio-pci/bind', vf, 'bind vfio-pci with override')
    rec('vf-driver', d=drv(vf), devvfio=sorted(os.listdir('/dev/vfio')),
        ischr=os.path.exists(f'/dev/vfio/{g}'))
    ls('/dev/vfio/')
    w('/sys/bus/pci/drivers/vfio-pci/unbind', vf, 'unbind vfio-pci')
    rec('dev-vfio-after-unbind', ls=sorted(os.listdir('/dev/vfio')), d=drv(vf))
    w('/sys/bus/pci/drivers_probe', vf, 'drivers_probe override=vfio-pci')
    rec('vf-driver', d=drv(vf), devvfio=sorted(os.listdir('/dev/vfio')))
    # second VF bound to vfio too, then hold the first
    V1 = f'/sys/bus/pci/devices/{vfs[1]}'
    w(V1 + '/driver_override', 'vfio-pci\n')
    w('/sys/bus/pci/drivers_probe', vfs[1])
    h = vfio_hold(g, vf)
    timed_write_while_held('/sys/bus/pci/drivers/vfio-pci/unbind', vf, h, what='unbind held VF')
    rec('after-held-unbind', d=drv(vf), devvfio=sorted(os.listdir('/dev/vfio')))
    w('/sys/bus/pci/drivers_probe', vf)
    h = vfio_hold(g, vf)
    # group fd only (no device)?  first: device held; numvfs=0
    timed_write_while_held(P + '/sriov_numvfs', '0\n', h, what='numvfs=0 VF held')
    rec('after-held-numvfs0', numvfs=r(P + '/sriov_numvfs'), devvfio=sorted(os.listdir('/dev/vfio')),
        virtfn=glob.glob(P + '/virtfn*'), groups_list=sorted(os.listdir('/sys/kernel/iommu_groups'), key=int))
    # group lowest-free reuse
    w(P + '/sriov_numvfs', '1\n')
    rec('regroup', vf0=os.path.basename(rl(f'{P}/virtfn0')),
        g=grp(os.path.basename(rl(f'{P}/virtfn0'))))
    w(P + '/sriov_numvfs', '0\n')


def mdev():
    subprocess.run('modprobe vfio_iommu_type1; modprobe mbochs; modprobe mtty; modprobe mdpy', shell=True)
    parents = sorted(glob.glob('/sys/class/mdev_bus/*'))
    rec('parents', p=parents)
    for p in parents:
        for t in sorted(glob.glob(p + '/mdev_supported_types/*')):
            rec('type', t=t, name=r(t + '/name'), avail=r(t + '/available_instances'),
                api=r(t + '/device_api'), desc=r(t + '/description'))
    ls('/sys/class/mdev_bus/mbochs/mdev_supported_types/')
    types = sorted(glob.glob('/sys/class/mdev_bus/mbochs/mdev_supported_types/*'))
    T = types[0]
    ls(T + '/')
    w(T + '/create', 'not-a-uuid\n', 'create invalid short')
    w(T + '/create', 'zzzzzzzz-509f-382f-3c1e-e6bfe0fa1001\n', 'create invalid 36')
    w(T + '/create', '83b8f4f2-509f-382f-3c1e-e6bfe0fa1001xx', 'create 38 chars')
    u = '83B8F4F2-509F-382F-3C1E-E6BFE0FA1001'
    avail0 = {t: r(t + '/available_instances') for t in types}
    w(T + '/create', u + 'x', 'create uppercase + junk 37th')
    rec('created', names=sorted(os.listdir('/sys/bus/mdev/devices')),
        avail_before=avail0, avail_after={t: r(t + '/available_instances') for t in types})
    uu = u.lower()
    M = f'/sys/bus/mdev/devices/{uu}'
    ls(M + '/')
    rec('mdev-links', mdev_type=rl(M + '/mdev_type'), iommu_group=rl(M + '/iommu_group'),
        driver=rl(M + '/driver'), bus=rl(M), typedev=rl(T + '/devices/' + uu))
    g = os.path.basename(rl(M + '/iommu_group'))
    G = f'/sys/kernel/iommu_groups/{g}'
    ls(G + '/')
    ls(G + '/devices/')
    rec('mdev-group', type=r(G + '/type'), rr=r(G + '/reserved_regions'),
        devvfio=sorted(os.listdir('/dev/vfio')), drvdir=sh(f'ls -la {os.path.realpath(M + "/driver")}'))
    w(T + '/create', uu + '\n', 'create duplicate')
    w(types[1] + '/create', uu + '\n', 'create duplicate on other type')
    mt = sorted(glob.glob('/sys/class/mdev_bus/mtty/mdev_supported_types/*'))
    if mt:
        w(mt[0] + '/create', uu + '\n', 'create duplicate on other parent')
    w(M + '/remove', '0\n', 'remove 0')
    w(M + '/remove', 'abc\n', 'remove abc')
    rec('exists-after-remove0', e=os.path.exists(M))
    # hold then remove
    h = vfio_hold(g, uu)
    timed_write_while_held(M + '/remove', '1\n', h, what='remove held mdev')
    rec('after-held-remove', e=os.path.exists(M), devvfio=sorted(os.listdir('/dev/vfio')),
        avail={t: r(t + '/available_instances') for t in types})
    # exhaust each mbochs / mtty / mdpy type
    for t in types + mt + sorted(glob.glob('/sys/class/mdev_bus/mdpy/mdev_supported_types/*')):
        made = []
        for i in range(64):
            x = str(uuid.uuid4())
            res = w(t + '/create', x + '\n', 'exhaust')
            if res != 'ok':
                rec('exhausted', t=t, n=len(made), result=res, avail=r(t + '/available_instances'),
                    others={o: r(o + '/available_instances') for o in types})
                break
            made.append(x)
        gl = [os.path.basename(rl(f'/sys/bus/mdev/devices/{x}/iommu_group')) for x in made]
        rec('groups', t=t, groups=gl)
        for x in made:
            w(f'/sys/bus/mdev/devices/{x}/remove', '1\n', 'cleanup')
    # group numbers reuse
    a, b, c = (str(uuid.uuid4()) for _ in range(3))
    w(T + '/create', a)
    w(T + '/create', b)
    ga = rl(f'/sys/bus/mdev/devices/{a}/iommu_group')
    w(f'/sys/bus/mdev/devices/{a}/remove', '1')
    w(T + '/create', c)
    rec('mdev-group-reuse', a=ga, b=rl(f'/sys/bus/mdev/devices/{b}/iommu_group'),
        c=rl(f'/sys/bus/mdev/devices/{c}/iommu_group'))
    for x in (b, c):
        w(f'/sys/bus/mdev/devices/{x}/remove', '1')


try:
    sriov()
except Exception as e:
    import traceback
    rec('sriov-exception', tb=traceback.format_exc())
try:
    if 'sriov' not in sys.argv: mdev()
except Exception as e:
    import traceback
    rec('mdev-exception', tb=traceback.format_exc())
rec('done')
