#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Hostile and careless clients against the real daemon: oversized messages,
slow clients, 300 connections at once, malformed bytes, pipelining, clients
that never read. Each gets a clean error or close and a log line, and the
daemon keeps serving everyone else."""
import json
import socket
import time
import unittest

from libvfio_test import DaemonTestCase, Varlink, call_once, vfioctl, wait_for

MiB = 1024 * 1024


class OversizeTest(DaemonTestCase):
    def test_unterminated_message_over_limit(self):
        d = self.daemon()
        with Varlink(d.socket) as v:
            # 1 MiB + 1 bytes and no NUL yet: refused before the message ends
            try:
                v.send_raw(b'{"method":"' + b'a' * MiB)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the daemon may close while we are still writing
            reply = v.receive()
            self.assertEqual(reply['error'], 'io.libvfio.Manager.MessageTooLarge')
            self.assertEqual(reply['parameters']['limit'], MiB)
            self.assertIn('larger than the 1048576 bytes', reply['parameters']['message'])
            self.assertTrue(v.closed_by_peer())
        self.assertIn('message over 1048576 bytes, closing it', d.output())
        self.assertDaemonServes(d)

    def test_whole_message_over_limit(self):
        d = self.daemon(config='limits:\n  max-message-size: 64KiB\n')
        with Varlink(d.socket) as v:
            v.send('org.varlink.service.GetInterfaceDescription', {'interface': 'x' * 70000})
            reply = v.receive()
            self.assertEqual(reply['error'], 'io.libvfio.Manager.MessageTooLarge')
            self.assertEqual(reply['parameters']['limit'], 64 * 1024)
            self.assertTrue(v.closed_by_peer())
        self.assertDaemonServes(d)

    def test_message_just_under_limit_is_served(self):
        d = self.daemon(config='limits:\n  max-message-size: 64KiB\n')
        name = 'a' * (64 * 1024 - 100)
        message = json.dumps({'method': 'org.varlink.service.GetInterfaceDescription',
                              'parameters': {'interface': name}})
        self.assertLessEqual(len(message), 64 * 1024)
        with Varlink(d.socket) as v:
            v.send_raw(message.encode() + b'\0')
            reply = v.receive()
            self.assertEqual(reply['error'], 'org.varlink.service.InterfaceNotFound')


class SlowClientTest(DaemonTestCase):
    def test_silent_mid_message_is_closed_and_others_served(self):
        d = self.daemon(config='limits:\n  client-timeout: 1s\n')
        with Varlink(d.socket) as slow:
            slow.send_raw(b'{"method":"org.varlink.service.GetI')
            started = time.monotonic()
            # meanwhile everyone else is served at once
            for _ in range(5):
                t = time.monotonic()
                self.assertDaemonServes(d)
                self.assertLess(time.monotonic() - t, 0.5)
            reply = slow.receive()
            waited = time.monotonic() - started
            self.assertEqual(reply['error'], 'io.libvfio.Manager.Timeout')
            self.assertEqual(reply['parameters']['limitMilliseconds'], 1000)
            self.assertTrue(slow.closed_by_peer())
        self.assertGreaterEqual(waited, 0.9)
        self.assertLess(waited, 5)
        self.assertIn('silent for 1s in the middle of a message, closing it', d.output())
        self.assertDaemonServes(d)

    def test_trickling_client_is_not_cut_off(self):
        """The timeout counts silence, not the time a whole message takes."""
        d = self.daemon(config='limits:\n  client-timeout: 1s\n')
        message = b'{"method":"org.varlink.service.GetInfo"}\0'
        with Varlink(d.socket) as v:
            started = time.monotonic()
            for i in range(0, len(message), 8):
                v.send_raw(message[i:i + 8])
                time.sleep(0.3)
            self.assertGreater(time.monotonic() - started, 1.5)
            reply = v.receive()
            self.assertEqual(reply['parameters']['product'], 'libvfiod')

    def test_idle_between_messages_is_fine(self):
        d = self.daemon(config='limits:\n  client-timeout: 500ms\n')
        with Varlink(d.socket) as v:
            self.assertIn('parameters', v.call('org.varlink.service.GetInfo'))
            time.sleep(1.2)
            self.assertIn('parameters', v.call('org.varlink.service.GetInfo'))


class ConnectionLimitTest(DaemonTestCase):
    def test_300_connections_at_once(self):
        d = self.daemon()
        clients = [Varlink(d.socket) for _ in range(300)]
        try:
            for c in clients:
                try:
                    c.send('org.varlink.service.GetInfo')
                except (BrokenPipeError, ConnectionResetError):
                    pass  # refused before we wrote: its error is still there to read
            replies = [c.receive() for c in clients]
            served = sum(1 for r in replies if r and 'parameters' in r and 'error' not in r)
            refused = [r for r in replies if r and r.get('error')]
            self.assertEqual(served, 256)
            self.assertEqual(len(refused), 44)
            for r in refused:
                self.assertEqual(r['error'], 'io.libvfio.Manager.TooManyConnections')
                self.assertEqual(r['parameters']['limit'], 256)
            # the served ones keep working
            self.assertEqual(clients[0].call('org.varlink.service.GetInfo')['parameters']
                             ['product'], 'libvfiod')
        finally:
            for c in clients:
                c.close()
        self.assertIn('Refused a connection: 256 are open, the limit', d.output())
        wait_for(lambda: vfioctl('version', socket_path=d.socket).returncode == 0,
                 what='the daemon to serve again')


class MalformedInputTest(DaemonTestCase):
    CASES = {
        'invalid JSON': b'{"method": nope}\0',
        'not an object': b'["org.varlink.service.GetInfo"]\0',
        'a bare string': b'"hello"\0',
        'deep nesting': b'{"method":"org.varlink.service.GetInfo","parameters":' +
                        b'{"a":' * 100 + b'1' + b'}' * 100 + b'}\0',
        'invalid UTF-8': b'{"method":"org.varlink.service.GetInfo\xff\xfe"}\0',
        'no method': b'{"parameters":{}}\0',
        'method not a string': b'{"method":42}\0',
        'bad method name': b'{"method":"GetInfo"}\0',
        'parameters not an object': b'{"method":"org.varlink.service.GetInfo",'
                                    b'"parameters":[1]}\0',
        'more and oneway': b'{"method":"org.varlink.service.GetInfo","more":true,'
                           b'"oneway":true}\0',
        'upgrade': b'{"method":"org.varlink.service.GetInfo","upgrade":true}\0',
        'binary garbage': bytes(range(1, 256)) + b'\0',
    }

    def test_each_gets_an_error_and_the_daemon_keeps_serving(self):
        d = self.daemon()
        for name, data in self.CASES.items():
            with self.subTest(name):
                with Varlink(d.socket) as v:
                    v.send_raw(data)
                    reply = v.receive()
                    self.assertIsNotNone(reply, name)
                    self.assertEqual(reply['error'], 'io.libvfio.Manager.ProtocolError')
                    self.assertTrue(reply['parameters']['message'])
                    self.assertTrue(v.closed_by_peer(), name)
                self.assertDaemonServes(d)

    def test_wrong_parameters_get_invalid_parameter(self):
        d = self.daemon()
        cases = [
            ('org.varlink.service.GetInterfaceDescription', {}, 'interface'),
            ('org.varlink.service.GetInterfaceDescription', {'interface': 5}, 'interface'),
            ('org.varlink.service.GetInterfaceDescription',
             {'interface': 'io.libvfio.Manager', 'extra': 1}, 'extra'),
            ('io.libvfio.Manager.GetVersion', {'verbose': True}, 'verbose'),
        ]
        with Varlink(d.socket) as v:
            for method, parameters, bad in cases:
                reply = v.call(method, parameters)
                self.assertEqual(reply, {'error': 'org.varlink.service.InvalidParameter',
                                         'parameters': {'parameter': bad}})
            # the connection stays usable after a refused call
            self.assertIn('parameters', v.call('org.varlink.service.GetInfo'))

    def test_unknown_interface_and_method(self):
        d = self.daemon()
        with Varlink(d.socket) as v:
            self.assertEqual(v.call('io.libvfio.Nothing.Do'),
                             {'error': 'org.varlink.service.InterfaceNotFound',
                              'parameters': {'interface': 'io.libvfio.Nothing'}})
            self.assertEqual(v.call('io.libvfio.Manager.Explode'),
                             {'error': 'org.varlink.service.MethodNotFound',
                              'parameters': {'method': 'io.libvfio.Manager.Explode'}})

    def test_eof_mid_message(self):
        d = self.daemon()
        v = Varlink(d.socket)
        v.send_raw(b'{"method":"org.varlink.se')
        v.sock.shutdown(socket.SHUT_WR)
        self.assertTrue(v.closed_by_peer())
        v.close()
        self.assertDaemonServes(d)


class CostlyInputTest(DaemonTestCase):
    """A definition that costs libyaml time in the square of its nesting or its
    anchors is refused before it costs it, and nobody else waits meanwhile."""

    def validate_while_another_asks(self, d, definition):
        """Sends Validate, then at once GetVersion on a second connection; returns the
        Validate reply, its time, and the other client's time."""
        with Varlink(d.socket, timeout=120) as hostile, Varlink(d.socket) as other:
            began = time.monotonic()
            hostile.send('io.libvfio.VMs.Validate', {'definition': definition})
            asked = time.monotonic()
            other.call('io.libvfio.Manager.GetVersion')
            other_took = time.monotonic() - asked
            reply = hostile.receive()
            return reply, time.monotonic() - began, other_took

    def test_100000_levels_deep_refused_at_once(self):
        d = self.daemon()
        definition = 'name: deep\nqemu-args: ' + '[' * 100000 + ']' * 100000 + '\n'
        self.assertGreater(len(definition), 200000)
        reply, took, other_took = self.validate_while_another_asks(d, definition)
        self.assertEqual(reply.get('error'), 'io.libvfio.VMs.InvalidDefinition', reply)
        self.assertIn('nested deeper than 64 levels', reply['parameters']['message'])
        self.assertLess(took, 1.0)
        self.assertLess(other_took, 0.05)
        self.assertDaemonServes(d)

    def test_many_anchors_refused_at_once(self):
        d = self.daemon()
        definition = 'name: anchored\n' + ''.join(f'k{i}: &a{i} v\n' for i in range(15000))
        self.assertLess(len(definition), 256 * 1024)  # within what a definition may be
        reply, took, other_took = self.validate_while_another_asks(d, definition)
        self.assertEqual(reply.get('error'), 'io.libvfio.VMs.InvalidDefinition', reply)
        self.assertIn('more than 64 anchors', reply['parameters']['message'])
        self.assertLess(took, 1.0)
        self.assertLess(other_took, 0.05)


class PipeliningTest(DaemonTestCase):
    def test_many_calls_in_one_write_answered_in_order(self):
        d = self.daemon()
        names = [f'no.such.Interface{i}' for i in range(1000)]
        data = b''.join(json.dumps({'method': 'org.varlink.service.GetInterfaceDescription',
                                    'parameters': {'interface': n}}).encode() + b'\0'
                        for n in names)
        with Varlink(d.socket) as v:
            v.send_raw(data)
            for n in names:
                self.assertEqual(v.receive()['parameters']['interface'], n)

    def test_oneway_gets_no_reply(self):
        d = self.daemon()
        with Varlink(d.socket) as v:
            v.send('org.varlink.service.GetInfo', oneway=True)
            v.send('io.libvfio.Nothing.Do', oneway=True)  # errors are not sent either
            reply = v.call('org.varlink.service.GetInterfaceDescription',
                           {'interface': 'io.libvfio.Manager'})
            self.assertIn('description', reply['parameters'])

    def test_half_closed_client_still_gets_its_reply(self):
        d = self.daemon()
        with Varlink(d.socket) as v:
            v.send('io.libvfio.Manager.GetVersion')
            v.sock.shutdown(socket.SHUT_WR)
            self.assertEqual(v.receive()['parameters']['protocolVersion'], '1')
            self.assertTrue(v.closed_by_peer())

    def test_client_that_never_reads_does_not_stall_others(self):
        d = self.daemon()
        call = json.dumps({'method': 'org.varlink.service.GetInterfaceDescription',
                           'parameters': {'interface': 'io.libvfio.Manager'}}).encode() + b'\0'
        hog = Varlink(d.socket)
        hog.sock.setblocking(False)
        sent = 0
        deadline = time.monotonic() + 10
        # write until the kernel buffers are full in both directions
        while time.monotonic() < deadline:
            try:
                sent += hog.sock.send(call * 64)
            except BlockingIOError:
                time.sleep(0.05)
                try:
                    sent += hog.sock.send(call * 64)
                except BlockingIOError:
                    break
        self.assertGreater(sent, 100000)
        t = time.monotonic()
        self.assertDaemonServes(d)
        self.assertLess(time.monotonic() - t, 1.0)
        hog.close()
        self.assertDaemonServes(d)


if __name__ == '__main__':
    unittest.main(verbosity=2)
