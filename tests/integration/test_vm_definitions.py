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
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import unittest_tap  # noqa: E402
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
        for i in range(30):
            self.write(f'early-{i:02d}', definition(f'early-{i:02d}', 'owner: nobody\n'))
        d = self.start_daemon()
        vms = self.listed(d)
        self.assertEqual(sorted(vms), [f'early-{i:02d}' for i in range(30)])
        self.assertEqual(list(vms), sorted(vms), 'List is sorted by name')
        self.assertEqual(vms['early-07']['owner'], 'nobody')

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
        self.assertEqual((vm['problem'], vm['owner']), (None, 'nobody'))
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
        self.assertIsNone(self.listed(d)['perm']['problem'])
        os.chmod(path, 0o666)
        self.assertIn('not a regular file owned by root', self.listed(d)['perm']['problem'])
        os.chmod(path, 0o644)
        self.assertIsNone(self.listed(d)['perm']['problem'])
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


del VmTestCase  # run by its own file

if __name__ == '__main__':
    unittest_tap.main()
