# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers for the integration tests: the real libvfiod on a private socket,
the real vfioctl against it, and a raw Varlink connection for the cases that
a well-behaved client never produces.

The paths of the built binaries come from meson in $LIBVFIOD and $VFIOCTL.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

LIBVFIOD = os.environ.get('LIBVFIOD', 'build/daemon/libvfiod')
VFIOCTL = os.environ.get('VFIOCTL', 'build/client/vfioctl')


def wait_for(predicate, timeout=10.0, what='condition'):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f'timed out after {timeout}s waiting for {what}')


class Varlink:
    """A raw Varlink connection: sends bytes or calls, reads NUL-framed replies."""

    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError:
            self.sock.close()
            raise
        self.buffer = b''

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, method, parameters=None, **flags):
        message = {'method': method}
        if parameters is not None:
            message['parameters'] = parameters
        message.update(flags)
        self.send_raw(json.dumps(message).encode() + b'\0')

    def receive_raw(self):
        """The bytes of the next message, or None when the daemon closed the connection."""
        while b'\0' not in self.buffer:
            data = self.sock.recv(1 << 20)
            if not data:
                return None
            self.buffer += data
        text, self.buffer = self.buffer.split(b'\0', 1)
        return text

    def receive(self):
        """The next message, or None when the daemon closed the connection."""
        text = self.receive_raw()
        return None if text is None else json.loads(text)

    def call(self, method, parameters=None, **flags):
        self.send(method, parameters, **flags)
        return self.receive()

    def closed_by_peer(self, timeout=5.0):
        """True when the daemon closes the connection within `timeout` (after any replies)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return True
        except (socket.timeout, TimeoutError):
            return False
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def call_once(path, method, parameters=None):
    """One call on a fresh connection; returns the reply message."""
    with Varlink(path) as v:
        return v.call(method, parameters)


class Daemon:
    """libvfiod running in the foreground on a private socket, its stderr kept."""

    def __init__(self, workdir, config=None, args=(), env=None, socket_path=None):
        self.workdir = workdir
        self.socket = socket_path or os.path.join(workdir, 'libvfiod.sock')
        self.config = os.path.join(workdir, 'libvfiod.yaml')
        if config is not None:
            with open(self.config, 'w') as f:
                f.write(config)
        self.log_path = os.path.join(workdir, f'libvfiod-{time.monotonic_ns()}.log')
        self.args = [LIBVFIOD, '--config', self.config, '--socket', self.socket,
                     '--runtime-dir', os.path.join(workdir, 'run'),
                     '--state-dir', os.path.join(workdir, 'state'), *args]
        self.env = dict(os.environ, **(env or {}))
        if 'NOTIFY_SOCKET' not in (env or {}):
            self.env.pop('NOTIFY_SOCKET', None)
        self.process = None

    def start(self, wait=True):
        self.log = open(self.log_path, 'w')
        self.process = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT,
                                        env=self.env)
        if wait:
            wait_for(lambda: self.process.poll() is not None or self.answers(),
                     what=f'libvfiod to answer on {self.socket}')
            if self.process.poll() is not None:
                raise AssertionError(f'libvfiod exited with {self.process.returncode}:\n'
                                     + self.output())
        return self

    def answers(self):
        try:
            with Varlink(self.socket, timeout=2) as v:
                return v.call('org.varlink.service.GetInfo') is not None
        except OSError:
            return False

    def output(self):
        with open(self.log_path) as f:
            return f.read()

    def send_signal(self, signo):
        self.process.send_signal(signo)

    def stop(self, signo=signal.SIGTERM, timeout=10):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signo)
            self.process.wait(timeout)
        if self.process:
            self.log.close()
        return self.process.returncode if self.process else None

    def wait_exit(self, timeout=10):
        rc = self.process.wait(timeout)
        self.log.close()
        return rc

    def running(self):
        return self.process.poll() is None


def vfioctl(*args, socket_path=None, env=None, input=None, user=None, timeout=30,
            binary=VFIOCTL):
    """Runs the real vfioctl; returns the CompletedProcess (text mode)."""
    full_env = dict(os.environ)
    full_env.pop('LIBVFIO_SOCKET', None)
    if env:
        full_env.update(env)
    argv = [binary]
    if socket_path:
        argv += ['--socket', socket_path]
    argv += list(args)
    kwargs = {}
    if user is not None:
        kwargs['user'] = user
    return subprocess.run(argv, capture_output=True, text=True, env=full_env, input=input,
                          timeout=timeout, **kwargs)


class DaemonTestCase(unittest.TestCase):
    """Each test gets a fresh temporary directory; daemons started with
    self.daemon() are stopped (and their log shown on failure) afterwards."""

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix='libvfio-test-')
        os.chmod(self.workdir, 0o755)
        self.daemons = []

    def tearDown(self):
        # A daemon still running must stop cleanly on SIGTERM: status 0, which under
        # the sanitizers also means no leak and no error report on the way out.
        unclean = []
        for d in self.daemons:
            if d.process and d.process.poll() is None:
                try:
                    status = d.stop(signal.SIGTERM)
                except subprocess.TimeoutExpired:
                    d.stop(signal.SIGKILL)
                    status = 'no exit within 10 s of SIGTERM'
                if status != 0:
                    unclean.append(f'{status}:\n{d.output()}')
            elif d.process:
                d.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
        if unclean:
            self.fail('libvfiod did not stop cleanly: ' + '\n'.join(unclean))

    def daemon(self, config=None, args=(), env=None, start=True, **kw):
        d = Daemon(self.workdir, config=config, args=args, env=env, **kw)
        self.daemons.append(d)
        if start:
            d.start()
        return d

    def assertDaemonServes(self, d):
        """The daemon still answers a real client."""
        result = vfioctl('--json', 'version', socket_path=d.socket)
        self.assertEqual(result.returncode, 0, result.stderr + '\n' + d.output())
        self.assertEqual(json.loads(result.stdout)['daemon']['protocolVersion'], '1')
