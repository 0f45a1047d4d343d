#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The daemon keeps the VM definitions it has read and reads a file again only
when it changed: an edit, an added or removed file, a broken one, its owner or
mode changed, the whole directory replaced, made by hand in the directory, is
seen by the very next List or Get. Each test runs twice: with inotify, and with
the fallback that compares the files' identities (LIBVFIOD_NO_INOTIFY=1)."""
import os
import shutil
import sys
import threading
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import unittest_tap  # noqa: E402
from libvfio_test import Varlink, slow_disk_env, wait_for  # noqa: E402
from test_vm_lifecycle import VMS, VmTestCase, definition, pid_alive  # noqa: E402


class DefinitionsTest(VmTestCase):
    env = None

    def start_daemon(self, extra_config='', args=()):
        return self.daemon(config=self.config + extra_config,
                           args=['--runtime-dir', self.run_dir, *args], env=self.env)

    def write(self, name, text, mode=0o644):
        """As an admin with an editor that renames a new file over the old."""
        os.makedirs(self.vm_dir, exist_ok=True)
        path = os.path.join(self.vm_dir, name + '.yaml')
        with open(path + '.tmp', 'w') as f:
            f.write(text)
        os.chmod(path + '.tmp', mode)
        os.rename(path + '.tmp', path)
        return path

    def listed(self, d):
        return {vm['name']: vm for vm in self.ok(d, 'List')['vms']}

    def get(self, d, name):
        return self.call(d, 'Get', {'name': name})

    def test_files_written_before_the_start_are_listed(self):
        # 130 files (two threads' worth, at least 64 each): read at start by several
        # threads, each VM with its own file's uuid; a broken one is listed with its
        # problem, wherever it falls among them.
        uuids = {f'early-{i:03d}': str(uuid.uuid4()) for i in range(130)}
        for name, vm_uuid in uuids.items():
            self.write(name, definition(name, f'owner: nobody\nuuid: {vm_uuid}\n'))
        self.write('early-100', 'name: early-100\nmemory: [\n')
        self.write('early-101', definition('another-name'))
        # Older than the clock's tick before the start: the fallback reads a file
        # changed within the last second (by whole seconds, so up to two) again at each
        # look (vm_dir_watch.h), which would be 130 files read on the loop at the first
        # List.
        time.sleep(2.1)
        d = self.start_daemon()
        vms = self.listed(d)
        self.assertEqual(sorted(vms), sorted(uuids))
        self.assertEqual(list(vms), sorted(vms), 'List is sorted by name')
        self.assertEqual(vms['early-007']['owner'], 'nobody')
        for name, vm in vms.items():
            if name in ('early-100', 'early-101'):
                self.assertIn('early-%s.yaml' % name[6:], vm['problem'])
            else:
                self.assertEqual(vm['uuid'], uuids[name])
                self.assertIsNone(vm.get('problem'), name)
        self.assertIn("is not the file's name", vms['early-101']['problem'])

    def test_edits_adds_and_removes_by_hand(self):
        d = self.start_daemon()
        self.assertEqual(self.listed(d), {})
        self.write('hand', definition('hand', 'owner: nobody\n'))
        self.assertEqual(self.listed(d)['hand']['owner'], 'nobody')
        # a lookup of one VM sees an edit without a List in between
        self.write('hand', definition('hand', 'owner: root\nautostart: true\n'))
        vm = self.ok(d, 'Get', {'name': 'hand'})['vm']
        self.assertEqual((vm['owner'], vm['autostart']), ('root', True))
        self.assertEqual(self.listed(d)['hand']['owner'], 'root')
        # added and seen by Get first
        self.write('second', definition('second'))
        self.assertEqual(self.ok(d, 'Get', {'name': 'second'})['vm']['state'], 'defined')
        self.assertEqual(sorted(self.listed(d)), ['hand', 'second'])
        # broken: listed with its problem; fixed: the problem is gone
        self.write('hand', 'name: hand\nmemory: lots\n')
        problem = self.listed(d)['hand']['problem']
        self.assertIn('memory', problem)
        self.assertEqual(self.ok(d, 'Get', {'name': 'hand'})['vm']['problem'], problem)
        self.write('hand', definition('hand', 'owner: nobody\n'))
        vm = self.listed(d)['hand']
        self.assertEqual((vm.get('problem'), vm.get('owner')), (None, 'nobody'))
        # removed: gone from List and Get
        os.unlink(os.path.join(self.vm_dir, 'second.yaml'))
        self.assertEqual(sorted(self.listed(d)), ['hand'])
        self.assertError(self.get(d, 'second'), VMS + 'NoSuchVM')
        os.unlink(os.path.join(self.vm_dir, 'hand.yaml'))
        self.assertError(self.get(d, 'hand'), VMS + 'NoSuchVM')
        self.assertEqual(self.listed(d), {})

    def test_an_edit_in_place(self):
        d = self.start_daemon()
        path = self.write('inplace', definition('inplace', 'owner: nobody\n'))
        self.assertEqual(self.listed(d)['inplace']['owner'], 'nobody')
        time.sleep(0.02)  # the fallback sees the file's times, a clock tick apart at worst
        with open(path, 'r+') as f:  # the same file, rewritten: no rename, no new name
            f.truncate(0)
            f.write(definition('inplace', 'owner: root\n'))
        self.assertEqual(self.listed(d)['inplace']['owner'], 'root')

    def test_changes_in_quick_succession(self):
        """File times move in coarse ticks: two changes within one look the same
        to a comparison of times, and must still both be seen."""
        d = self.start_daemon()
        path = self.write('quick', definition('quick', 'owner: aaaa\n'))
        self.assertEqual(sorted(self.listed(d)), ['quick'])
        self.write('quick2', definition('quick2'))  # a name added right after a List
        self.assertEqual(sorted(self.listed(d)), ['quick', 'quick2'])
        with open(path, 'r+') as f:  # in place, the same size
            f.write(definition('quick', 'owner: bbbb\n'))
        self.assertEqual(self.listed(d)['quick']['owner'], 'bbbb')
        with open(path, 'r+') as f:
            f.write(definition('quick', 'owner: root\n'))
        self.assertEqual(self.ok(d, 'Get', {'name': 'quick'})['vm']['owner'], 'root')

    def test_owner_and_mode_changes_are_seen(self):
        d = self.start_daemon()
        path = self.write('perm', definition('perm'))
        self.assertIsNone(self.listed(d)['perm'].get('problem'))
        os.chmod(path, 0o666)
        self.assertIn('not a regular file owned by root', self.listed(d)['perm']['problem'])
        os.chmod(path, 0o644)
        self.assertIsNone(self.listed(d)['perm'].get('problem'))
        os.chown(path, 65534, 65534)
        self.assertIn('not a regular file owned by root',
                      self.ok(d, 'Get', {'name': 'perm'})['vm']['problem'])

    def test_the_directory_replaced_or_created_later(self):
        d = self.start_daemon()
        self.assertEqual(self.listed(d), {})  # no directory yet
        self.write('one', definition('one'))
        self.assertEqual(sorted(self.listed(d)), ['one'])
        shutil.rmtree(self.vm_dir)
        self.assertEqual(self.listed(d), {})
        self.write('two', definition('two'))
        self.assertEqual(sorted(self.listed(d)), ['two'])
        moved = self.vm_dir + '.old'
        os.rename(self.vm_dir, moved)
        self.write('three', definition('three'))
        self.assertEqual(sorted(self.listed(d)), ['three'])
        self.write('four', definition('four'))  # the new directory is watched
        self.assertEqual(self.ok(d, 'Get', {'name': 'four'})['vm']['name'], 'four')
        self.assertEqual(sorted(self.listed(d)), ['four', 'three'])

    def test_define_and_undefine_through_the_daemon(self):
        d = self.start_daemon()
        self.define(d, 'api', 'owner: nobody\n')
        self.assertEqual(self.listed(d)['api']['owner'], 'nobody')
        self.define(d, 'api', 'owner: root\n')
        self.assertEqual(self.ok(d, 'Get', {'name': 'api'})['vm']['owner'], 'root')
        self.assertEqual(self.call(d, 'Undefine', {'name': 'api'}), {'parameters': {}})
        self.assertEqual(self.listed(d), {})
        self.assertError(self.get(d, 'api'), VMS + 'NoSuchVM')

    def test_a_running_vm_whose_file_is_removed_stays_until_it_stops(self):
        d = self.start_daemon()
        self.define(d, 'runner')
        _, vm = self.start(d, 'runner')
        self.assertEqual(vm['state'], 'running')
        os.unlink(os.path.join(self.vm_dir, 'runner.yaml'))
        self.assertEqual(self.listed(d)['runner']['state'], 'running')
        self.assertEqual(self.ok(d, 'Get', {'name': 'runner'})['vm']['pid'], vm['pid'])
        self.ok(d, 'Stop', {'name': 'runner', 'force': True})
        self.assertFalse(pid_alive(vm['pid']))
        self.assertEqual(self.listed(d), {})
        self.assertError(self.get(d, 'runner'), VMS + 'NoSuchVM')


class FallbackDefinitionsTest(DefinitionsTest):
    env = {'LIBVFIOD_NO_INOTIFY': '1'}


class DefineWritesTest(VmTestCase):
    """Define and Undefine write the file (fsync, rename, fsync of the directory)
    on a worker thread, one write at a time in the order the calls came: the loop
    serves everyone else meanwhile, and the reply comes once the file is on disk."""

    def slow_daemon(self, delay_ms=300):
        env = slow_disk_env(fsync_ms=delay_ms)
        if env is None:
            self.skipTest('tests/integration/slow_fsync.c is not built ($LIBVFIO_SLOW_FSYNC)')
        return self.daemon(config=self.config, args=['--runtime-dir', self.run_dir], env=env)

    def file_text(self, name):
        with open(os.path.join(self.vm_dir, name + '.yaml')) as f:
            return f.read()

    def concurrently(self, d, calls):
        """Sends every (method, parameters) at once, each on its own connection;
        returns the replies in the same order."""
        replies = [None] * len(calls)
        barrier = threading.Barrier(len(calls))

        def run(i):
            with Varlink(d.socket, timeout=60) as v:
                barrier.wait()
                replies[i] = v.call(VMS + calls[i][0], calls[i][1])

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return replies

    def test_concurrent_defines_of_one_name_agree_on_its_uuid(self):
        d = self.start_daemon()
        replies = self.concurrently(d, [('Define', {'definition': definition('twin')})] * 20)
        uuids = {r.get('parameters', {}).get('vm', {}).get('uuid') for r in replies}
        self.assertEqual(len(uuids), 1, replies)
        kept = uuids.pop()
        self.assertIsNotNone(kept, replies)
        self.assertEqual(os.listdir(self.vm_dir), ['twin.yaml'])
        self.assertEqual(self.file_text('twin').count(f'uuid: {kept}'), 1)
        # With the uuid, without, and with another: only the last are refused.
        others = [str(uuid.uuid4()) for _ in range(7)]
        calls = ([('Define', {'definition': definition('twin', f'uuid: {kept}\n')})] * 7
                 + [('Define', {'definition': definition('twin')})] * 6
                 + [('Define', {'definition': definition('twin', f'uuid: {o}\n')})
                    for o in others])
        replies = self.concurrently(d, calls)
        for r in replies[:13]:
            self.assertEqual(r.get('parameters', {}).get('vm', {}).get('uuid'), kept, r)
        for r in replies[13:]:
            self.assertError(r, VMS + 'VMExists', kept)
        self.assertEqual(os.listdir(self.vm_dir), ['twin.yaml'])
        self.assertIn(f'uuid: {kept}', self.file_text('twin'))
        self.assertEqual(self.ok(d, 'Get', {'name': 'twin'})['vm']['uuid'], kept)

    def test_concurrent_defines_with_their_own_uuids_one_wins(self):
        d = self.start_daemon()
        mine = [str(uuid.uuid4()) for _ in range(12)]
        replies = self.concurrently(
            d, [('Define', {'definition': definition('race', f'uuid: {u}\n')}) for u in mine])
        won = [u for u, r in zip(mine, replies) if 'error' not in r]
        self.assertEqual(len(won), 1, replies)
        for r in replies:
            if 'error' in r:
                self.assertError(r, VMS + 'VMExists', won[0])
        self.assertIn(f'uuid: {won[0]}', self.file_text('race'))
        self.assertEqual(self.ok(d, 'Get', {'name': 'race'})['vm']['uuid'], won[0])

    def test_defines_and_undefines_interleaved(self):
        d = self.start_daemon()
        # On one connection, sent together: each waits for the one before.
        with Varlink(d.socket, timeout=60) as v:
            v.send(VMS + 'Define', {'definition': definition('flip')})
            v.send(VMS + 'Undefine', {'name': 'flip'})
            v.send(VMS + 'Define', {'definition': definition('flip', 'owner: nobody\n')})
            first, undefined, second = v.receive(), v.receive(), v.receive()
        self.assertIn('vm', first.get('parameters', {}), first)
        self.assertEqual(undefined, {'parameters': {}})
        self.assertNotEqual(second['parameters']['vm']['uuid'], first['parameters']['vm']['uuid'])
        # From many connections at once: every answer is one the order explains.
        calls = [('Define', {'definition': definition('flip')}), ('Undefine', {'name': 'flip'})]
        replies = self.concurrently(d, calls * 10)
        for r in replies:
            if 'error' in r:
                self.assertError(r, VMS + 'NoSuchVM')
        on_disk = os.path.exists(os.path.join(self.vm_dir, 'flip.yaml'))
        listed = {vm['name']: vm for vm in self.ok(d, 'List')['vms']}
        self.assertEqual('flip' in listed, on_disk, replies)
        if on_disk:
            self.assertIn(f"uuid: {listed['flip']['uuid']}", self.file_text('flip'))

    def test_a_slow_disk_does_not_hold_the_loop(self):
        d = self.slow_daemon(300)  # two fsyncs: 0.6 s a definition
        self.define(d, 'slow')  # a first: the directory exists
        with Varlink(d.socket, timeout=60) as writer:
            began = time.monotonic()
            writer.send(VMS + 'Define', {'definition': definition('slow', 'owner: nobody\n')})
            time.sleep(0.05)
            # Others are served meanwhile, and see the definition before.
            quick = time.monotonic()
            self.assertIsNone(self.ok(d, 'Get', {'name': 'slow'})['vm'].get('owner'))
            self.assertLess(time.monotonic() - quick, 0.3, d.output())
            reply = writer.receive()
            # The reply waits for the file, on disk.
            self.assertGreaterEqual(time.monotonic() - began, 0.55)
        self.assertEqual(reply['parameters']['vm']['owner'], 'nobody')
        self.assertIn('owner: nobody', self.file_text('slow'))
        with Varlink(d.socket, timeout=60) as writer:
            writer.send(VMS + 'Undefine', {'name': 'slow'})
            time.sleep(0.05)
            quick = time.monotonic()
            self.ok(d, 'List')
            self.assertLess(time.monotonic() - quick, 0.2, d.output())
            self.assertEqual(writer.receive(), {'parameters': {}})
        self.assertFalse(os.path.exists(os.path.join(self.vm_dir, 'slow.yaml')))
        # No "loop held" line: checked at tearDown, with the usual budget.

    def test_a_client_gone_during_its_define(self):
        d = self.slow_daemon(600)
        # One write under way, one waiting its turn, when both callers leave.
        with Varlink(d.socket) as left, Varlink(d.socket) as right:
            left.send(VMS + 'Define', {'definition': definition('left')})
            time.sleep(0.1)
            right.send(VMS + 'Define', {'definition': definition('right')})
            time.sleep(0.1)
        self.assertEqual(self.ok(d, 'List')['vms'], [])
        # Accepted, so written all the same; nothing kept for the closed connections.
        wait_for(lambda: len({vm['name'] for vm in self.ok(d, 'List')['vms']}) == 2,
                 what='both definitions to be stored: ' + d.output())
        for name in ('left', 'right'):
            self.assertIn(f"uuid: {self.ok(d, 'Get', {'name': name})['vm']['uuid']}",
                          self.file_text(name))
        self.assertDaemonServes(d)

    def test_stopped_during_a_define(self):
        d = self.slow_daemon(300)
        self.define(d, 'first')
        with Varlink(d.socket, timeout=30) as v:
            v.send(VMS + 'Define', {'definition': definition('first', 'owner: nobody\n')})
            v.send(VMS + 'Undefine', {'name': 'first'})
            time.sleep(0.1)
            self.assertEqual(d.stop(), 0, d.output())
        # The write under way leaves one file or the other, whole.
        self.assertIn('name: first', self.file_text('first'))
        self.assertRegex(self.file_text('first'), r'uuid: [0-9a-f-]{36}\n$')


del VmTestCase  # run by its own file

if __name__ == '__main__':
    unittest_tap.main()
