#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""VM definitions through the real vfioctl: `vfioctl validate` on the shipped
examples, on mistakes, on standard input, as an unprivileged user, and with
no daemon anywhere."""
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import unittest

import unittest_tap
from libvfio_test import VFIOCTL, vfioctl

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'etc',
                        'libvfio', 'vms')
NO_DAEMON = '/nonexistent/libvfiod.sock'


class ValidateTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='libvfio-vms-')
        os.chmod(self.dir, 0o755)
        self.addCleanup(shutil.rmtree, self.dir)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, 'w') as f:
            f.write(text)
        os.chmod(path, 0o644)
        return path

    def test_every_shipped_example_is_valid(self):
        examples = sorted(f for f in os.listdir(EXAMPLES) if f.endswith('.yaml.example'))
        self.assertGreaterEqual(len(examples), 3)
        for name in examples:
            with self.subTest(name):
                path = os.path.join(EXAMPLES, name)
                result = vfioctl('validate', path, socket_path=NO_DAEMON)
                self.assertEqual(result.returncode, 0, result.stderr)
                vm = name[:-len('.yaml.example')]
                self.assertTrue(result.stdout.startswith(f'{path}: VM {vm} is valid: '),
                                result.stdout)

    def test_valid_text_and_json(self):
        path = self.write('g.yaml', 'name: g\nmemory: 6G\ncpus: {cores: 3, threads: 2}\n'
                                    'gpu: [{mode: sriov, vendor: amd}]\n')
        result = vfioctl('validate', path, socket_path=NO_DAEMON)
        self.assertEqual((result.returncode, result.stderr), (0, ''))
        self.assertEqual(result.stdout, f'{path}: VM g is valid: 6 vCPUs, 6GiB memory, uefi '
                                        'firmware, 1 GPU, 0 disks.\n')
        result = vfioctl('--json', 'validate', path, socket_path=NO_DAEMON)
        self.assertEqual(json.loads(result.stdout),
                         {'valid': True, 'name': 'g', 'cpus': 6, 'memoryBytes': 6 << 30,
                          'gpus': 1, 'disks': 0, 'notes': []})

    def test_windows_on_an_intel_vf_without_a_rom_gets_a_note(self):
        note = ("gpu 2: Windows on an Intel SR-IOV VF often shows Code 43 without the GPU's "
                "GOP ROM; add rom: with its path to the entry")
        text = ('name: w\nmemory: 4G\ngpu:\n  - {mode: mdev}\n  - {mode: sriov, vendor: intel}\n'
                'windows: {hyperv: true}\n')
        path = self.write('w.yaml', text)
        result = vfioctl('validate', path, socket_path=NO_DAEMON)
        self.assertEqual((result.returncode, result.stderr), (0, ''))
        self.assertEqual(result.stdout.splitlines()[0], f'{path}: note: {note}.')
        result = vfioctl('--json', 'validate', path, socket_path=NO_DAEMON)
        self.assertEqual(json.loads(result.stdout)['notes'], [note])
        # with its ROM, or a Linux guest: nothing to say
        for other in (text.replace('vendor: intel}', 'vendor: intel, rom: /usr/share/gop.rom}'),
                      text.replace('windows: {hyperv: true}\n', '')):
            path = self.write('w.yaml', other)
            result = vfioctl('--json', 'validate', path, socket_path=NO_DAEMON)
            self.assertEqual(json.loads(result.stdout)['notes'], [], other)

    def test_mistakes_say_where(self):
        path = self.write('bad.yaml', 'name: bad\nmemory: 4G\ndisks:\n  - path: disk.img\n')
        result = vfioctl('validate', path, socket_path=NO_DAEMON)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout, '')
        self.assertEqual(result.stderr,
                         f"vfioctl: {path}:4:11: path: 'disk.img' is not an absolute path\n")
        result = vfioctl('--json', 'validate', path, socket_path=NO_DAEMON)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(json.loads(result.stdout)['error'],
                         'io.libvfio.Client.InvalidDefinition')

    def test_standard_input(self):
        result = vfioctl('validate', '-', input='name: s\nmemory: 1G\n', socket_path=NO_DAEMON)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(result.stdout.startswith('-: VM s is valid'))
        result = vfioctl('validate', '-', input='name: s\nmemory: 1G\nname: t\n',
                         socket_path=NO_DAEMON)
        self.assertEqual(result.stderr, 'vfioctl: <stdin>:3:1: name: given twice\n')
        huge = 'name: s\nmemory: 1G\n' + '#' * (300 << 10) + '\n'
        result = vfioctl('validate', '-', input=huge, socket_path=NO_DAEMON)
        self.assertEqual((result.returncode, result.stderr),
                         (1, 'vfioctl: <stdin>: larger than 262144 bytes\n'))

    def test_unreadable_and_odd_files(self):
        for path, words in ((os.path.join(self.dir, 'missing.yaml'), 'No such file'),
                            (self.dir, 'not a regular file'),
                            ('/dev/zero', 'not a regular file')):
            with self.subTest(path):
                result = vfioctl('validate', path, socket_path=NO_DAEMON)
                self.assertEqual(result.returncode, 1)
                self.assertIn(words, result.stderr)
        result = vfioctl('validate', socket_path=NO_DAEMON)
        self.assertEqual(result.returncode, 2)
        result = vfioctl('validate', 'a', 'b', socket_path=NO_DAEMON)
        self.assertEqual(result.returncode, 2)

    def test_output_that_cannot_be_written_fails(self):
        path = self.write('f.yaml', 'name: f\nmemory: 1G\n')
        with open('/dev/full', 'w') as full:
            result = subprocess.run([VFIOCTL, 'validate', path], stdout=full,
                                    stderr=subprocess.PIPE, text=True, timeout=30)
        self.assertEqual(result.returncode, 1)
        self.assertIn('cannot write the output', result.stderr)

    def test_any_user_may_validate(self):
        nobody = pwd.getpwnam('nobody').pw_uid
        path = self.write('n.yaml', 'name: n\nmemory: 1G\n')
        # A copy nobody can run, wherever the build tree is (/root is 0700).
        client = os.path.join(self.dir, 'vfioctl')
        shutil.copy(VFIOCTL, client)
        result = vfioctl('validate', path, socket_path=NO_DAEMON, user=nobody, binary=client)
        self.assertEqual(result.returncode, 0, result.stderr)


if __name__ == '__main__':
    unittest_tap.main()
