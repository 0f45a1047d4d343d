#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""vfioctl for scripts and shells, against the real daemon: --no-legend,
--json=short|pretty, the error object, "did you mean", the lists the shell
completions read (--list-commands, --list-options), and the bash, zsh and fish
completions themselves completing commands, options, VM names and GPU
addresses asked from the daemon."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import unittest_tap
from libvfio_test import VFIOCTL, DaemonTestCase, vfioctl

HERE = os.path.dirname(os.path.abspath(__file__))
COMPLETION = os.path.join(HERE, '..', '..', 'client', 'completion')
FIXTURES = os.path.join(HERE, '..', 'fixtures')
VM = 'name: {name}\nmemory: 128M\ncpus: 1\nfirmware: bios\n'

_fixture_root = None


def laptop_root():
    """The Intel GVT-g laptop fixture host (one GPU, 0000:00:02.0), made once."""
    global _fixture_root
    if _fixture_root is None:
        _fixture_root = tempfile.mkdtemp(prefix='libvfio-ux-fixtures-')
        subprocess.run([sys.executable, os.path.join(FIXTURES, 'make-fixtures.py'),
                        _fixture_root, 'intel-gvt-laptop'], check=True,
                       stdout=subprocess.DEVNULL)
    return os.path.join(_fixture_root, 'intel-gvt-laptop')


class UxTestCase(DaemonTestCase):
    def start_daemon(self, vms=('alpha', 'beta'), fixture=False):
        vm_dir = os.path.join(self.workdir, 'vms')
        os.makedirs(vm_dir, exist_ok=True)
        for name in vms:
            with open(os.path.join(vm_dir, name + '.yaml'), 'w') as f:
                f.write(VM.format(name=name))
        args = ['--sysfs-root', laptop_root()] if fixture else []
        return self.daemon(config=f'vms:\n  dir: {vm_dir}\n  accel: tcg\n', args=args)

    def run_ok(self, *args, socket_path=None):
        result = vfioctl(*args, socket_path=socket_path)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, '')
        return result.stdout


class NoLegendTest(UxTestCase):
    def test_list_without_header(self):
        d = self.start_daemon()
        full = self.run_ok('list', socket_path=d.socket).splitlines()
        self.assertTrue(full[0].startswith('NAME '), full)
        rows = self.run_ok('--no-legend', 'list', socket_path=d.socket).splitlines()
        self.assertEqual([r.split()[:2] for r in rows], [['alpha', 'defined'],
                                                        ['beta', 'defined']])
        # After the command too, like every global option.
        self.assertEqual(self.run_ok('list', '--no-legend', socket_path=d.socket).splitlines(),
                         rows)

    def test_empty_list_prints_nothing(self):
        d = self.start_daemon(vms=())
        self.assertIn('No VMs.', self.run_ok('list', socket_path=d.socket))
        self.assertEqual(self.run_ok('--no-legend', 'list', socket_path=d.socket), '')
        self.assertEqual(self.run_ok('--no-legend', 'partitions', socket_path=d.socket), '')

    def test_gpus_without_header(self):
        d = self.start_daemon(fixture=True)
        full = self.run_ok('gpus', socket_path=d.socket).splitlines()
        self.assertTrue(full[0].startswith('ADDRESS '), full)
        rows = self.run_ok('--no-legend', 'gpus', socket_path=d.socket).splitlines()
        self.assertEqual(len(rows), len(full) - 1)
        self.assertEqual(rows[0].split()[0], '0000:00:02.0')


class JsonTest(UxTestCase):
    def test_formats(self):
        d = self.start_daemon()
        default = self.run_ok('--json', 'list', socket_path=d.socket)
        short = self.run_ok('--json=short', 'list', socket_path=d.socket)
        pretty = self.run_ok('list', '--json=pretty', socket_path=d.socket)
        self.assertEqual(json.loads(default), json.loads(short))
        self.assertEqual(json.loads(pretty), json.loads(short))
        self.assertEqual(len(short.splitlines()), 1)
        self.assertTrue(short.startswith('{"vms":[{"name":"alpha"'), short)
        self.assertGreater(len(pretty.splitlines()), 10)
        self.assertEqual(default, pretty)
        self.assertEqual(json.loads(self.run_ok('-j', 'list', socket_path=d.socket)),
                         json.loads(short))

    def test_bad_format_is_usage(self):
        result = vfioctl('--json=yaml', 'list', socket_path='/nonexistent.sock')
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stdout, '')
        self.assertEqual(result.stderr, "vfioctl: --json takes short or pretty, not 'yaml'.\n")

    def test_error_says_its_message_once(self):
        d = self.start_daemon()
        for form in ('--json', '--json=short', '--json=pretty'):
            with self.subTest(form):
                result = vfioctl(form, 'status', 'nope', socket_path=d.socket)
                self.assertEqual(result.returncode, 1)
                out = json.loads(result.stdout)
                self.assertEqual(sorted(out), ['error', 'message', 'parameters'])
                self.assertEqual(out['error'], 'io.libvfio.VMs.NoSuchVM')
                self.assertIn("There is no VM named 'nope'", out['message'])
                self.assertEqual(out['parameters'], {'name': 'nope'})
                self.assertEqual(result.stderr, f'vfioctl: {out["message"]}\n')
                self.assertEqual(len(result.stdout.splitlines()) == 1, form == '--json=short')

    def test_client_error_has_empty_parameters(self):
        result = vfioctl('--json=short', 'list', socket_path=self.workdir + '/none.sock')
        self.assertEqual(result.returncode, 1)
        out = json.loads(result.stdout)
        self.assertEqual(out['error'], 'io.libvfio.Client.DaemonNotRunning')
        self.assertEqual(out['parameters'], {})
        self.assertIn('not running', out['message'])


class DidYouMeanTest(unittest.TestCase):
    def usage_error(self, *args):
        result = vfioctl(*args, socket_path='/nonexistent.sock')
        self.assertEqual((result.returncode, result.stdout), (2, ''), result.stderr)
        return result.stderr

    def test_mistyped_command(self):
        self.assertEqual(self.usage_error('strat', 'x'),
                         "vfioctl: unknown command 'strat'. Did you mean 'start'?\n")
        self.assertEqual(self.usage_error('stat'),
                         "vfioctl: unknown command 'stat'. Did you mean 'start'?\n")
        self.assertEqual(self.usage_error('lsit'),
                         "vfioctl: unknown command 'lsit'. Did you mean 'list'?\n")
        # Said before the options, which an unknown command cannot know.
        self.assertEqual(self.usage_error('strat', 'x', '--wait'),
                         "vfioctl: unknown command 'strat'. Did you mean 'start'?\n")
        self.assertEqual(self.usage_error('frobnicate'),
                         "vfioctl: unknown command 'frobnicate'. Try 'vfioctl --help'.\n")

    def test_mistyped_option(self):
        self.assertEqual(self.usage_error('stop', 'x', '--forse'),
                         "vfioctl: unknown option '--forse'. Did you mean '--force'?\n")
        self.assertEqual(self.usage_error('stop', 'x', '--timout=3'),
                         "vfioctl: unknown option '--timout=3'. Did you mean '--timeout'?\n")
        self.assertEqual(self.usage_error('--no-legnd', 'list'),
                         "vfioctl: unknown option '--no-legnd'. Did you mean '--no-legend'?\n")
        self.assertEqual(self.usage_error('list', '--bogus-thing'),
                         "vfioctl: unknown option '--bogus-thing'. Try 'vfioctl --help'.\n")


class ListsForCompletionTest(unittest.TestCase):
    def commands(self):
        result = vfioctl('--list-commands', socket_path='/nonexistent.sock')
        self.assertEqual((result.returncode, result.stderr), (0, ''))
        return [line.split('\t') for line in result.stdout.splitlines()]

    def test_every_command_listed_with_its_arguments(self):
        listed = self.commands()
        self.assertTrue(all(len(fields) == 3 for fields in listed), listed)
        names = [fields[0] for fields in listed]
        for name in ('list', 'start', 'stop', 'gpus', 'gpu', 'define', 'help'):
            self.assertIn(name, names)
        # The kinds of arguments agree with each command's own usage line
        # ("Usage: vfioctl [--json] stop NAME ..."): a command added later is
        # caught here when its kind is missing from vfioctl.c's table.
        kinds = {'NAME': 'vm', 'ADDRESS': 'gpu', 'FILE': 'file'}
        for name, kind, summary in listed:
            if name == 'help':
                self.assertEqual(kind, 'command')
                continue
            with self.subTest(name):
                self.assertTrue(summary)
                usage = vfioctl(name, '--help', socket_path='/nonexistent.sock').stdout
                words = usage.splitlines()[0].split()
                after = words[words.index(name) + 1:]
                # "NAME", "NAME..." (several), "[NAME]"
                first = after[0].strip('[]').rstrip('.') if after else ''
                if name == 'create':  # a new VM's name: nothing to complete
                    self.assertEqual(kind, 'none')
                elif name == 'partition':
                    self.assertEqual(kind, 'partition')
                else:
                    self.assertEqual(kind, kinds.get(first, 'none'), usage)

    def test_options_listed(self):
        result = vfioctl('stop', '--list-options', socket_path='/nonexistent.sock')
        self.assertEqual((result.returncode, result.stderr), (0, ''))
        options = result.stdout.splitlines()
        self.assertEqual(options[:2], ['--force', '--timeout='])
        for option in ('--socket=', '-s', '--json', '-j', '--no-legend', '--help'):
            self.assertIn(option, options)
        self.assertNotIn('--list-options', options)
        logs = vfioctl('logs', '--list-options').stdout.splitlines()
        self.assertEqual(logs[:4], ['--follow', '-f', '--lines=', '-n'])
        globals_only = vfioctl('--list-options').stdout.splitlines()
        self.assertEqual(globals_only, options[2:])
        # Before the command too; help has none of its own.
        self.assertEqual(vfioctl('--list-options', 'stop').stdout.splitlines(), options)
        self.assertEqual(vfioctl('help', '--list-options').stdout.splitlines(), globals_only)


def bash_complete(words):
    """What bash completes on a command line of `words` (the last one is being typed), as
    bash calls the function: COMP_LINE and COMP_POINT, and COMP_WORDS split as bash splits
    them, at ':' and '=' too."""
    script = r'''
source "$1"; shift
COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
COMP_WORDS=(); for w in "$@"; do COMP_WORDS+=($(sed 's/\([:=]\)/ \1 /g' <<<"$w")); done
[ -z "${!#}" ] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
_vfioctl
printf "%s\n" "${COMPREPLY[@]}"
'''
    return subprocess.run(['bash', '-c', script, 'bash',
                           os.path.join(COMPLETION, 'vfioctl.bash'), *words],
                          capture_output=True, text=True, timeout=60)


class CompletionTestCase(UxTestCase):
    def setUp(self):
        super().setUp()
        self.d = self.start_daemon(fixture=True)
        self.sock = ['--socket', self.d.socket]


class BashCompletionTest(CompletionTestCase):
    def complete(self, *words):
        result = bash_complete([VFIOCTL, *words])
        self.assertEqual((result.returncode, result.stderr), (0, ''))
        return [w for w in result.stdout.splitlines() if w]

    def test_commands(self):
        self.assertEqual(self.complete('sta'), ['status', 'start'])
        self.assertIn('partitions', self.complete(''))
        self.assertEqual(self.complete('help', 'valid'), ['validate'])

    def test_vm_names_from_the_daemon(self):
        self.assertEqual(self.complete(*self.sock, 'start', ''), ['alpha', 'beta'])
        self.assertEqual(self.complete(*self.sock, 'stop', 'b'), ['beta'])
        self.assertEqual(self.complete(f'--socket={self.d.socket}', 'status', 'al'),
                         ['alpha'])
        self.assertEqual(self.complete('--socket', self.d.socket, 'kill', ''),
                         ['alpha', 'beta'])

    def test_gpu_addresses_from_the_daemon(self):
        self.assertEqual(self.complete(*self.sock, 'gpu', ''), ['0000:00:02.0'])
        self.assertEqual(self.complete(*self.sock, 'partition', 'create', '--gpu', '0000'),
                         ['0000:00:02.0'])
        # bash replaces what follows the last ':' of the word: that part alone is offered.
        self.assertEqual(self.complete(*self.sock, 'gpu', '0000:00'), ['00:02.0'])
        self.assertEqual(self.complete(*self.sock, 'gpu', '0000:00:02.'), ['02.0'])

    def test_options(self):
        self.assertEqual(self.complete('stop', '--f'), ['--force'])
        self.assertEqual(self.complete('--no-l'), ['--no-legend'])
        self.assertEqual(self.complete('--json=p'), ['pretty'])
        self.assertEqual(self.complete('partition', 'create', '--mode', 's'), ['sriov'])
        self.assertEqual(self.complete('partition', ''), ['create', 'destroy'])

    def test_no_daemon_completes_nothing_quietly(self):
        self.assertEqual(self.complete('--socket', self.workdir + '/none.sock', 'start', ''),
                         [])

    def test_loads_through_bash_completion(self):
        # As installed: bash-completion's loader finds it by the command's name.
        loader = '/usr/share/bash-completion/bash_completion'
        if not os.path.exists(loader):
            self.skipTest('bash-completion is not installed')
        directory = os.path.join(self.workdir, 'completions')
        os.makedirs(directory)
        shutil.copy(os.path.join(COMPLETION, 'vfioctl.bash'), os.path.join(directory, 'vfioctl'))
        script = (f'source {loader}; BASH_COMPLETION_USER_DIR={self.workdir}; '
                  '__load_completion vfioctl && complete -p vfioctl; '
                  'COMP_LINE="vfioctl --socket $1 start "; COMP_POINT=${#COMP_LINE}; '
                  'COMP_WORDS=(vfioctl --socket "$1" start ""); COMP_CWORD=4; _vfioctl; '
                  'printf "%s\\n" "${COMPREPLY[@]}"')
        env = dict(os.environ, PATH=os.path.dirname(VFIOCTL) + ':' + os.environ['PATH'],
                   XDG_DATA_HOME=self.workdir)
        # bash-completion looks in $BASH_COMPLETION_USER_DIR/completions.
        result = subprocess.run(['bash', '-c', script, 'bash', self.d.socket],
                                capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.splitlines(),
                         ['complete -F _vfioctl vfioctl', 'alpha', 'beta'])


class ZshCompletionTest(CompletionTestCase):
    """zsh's completion widgets need a terminal; here compinit loads the real
    function and compadd, _describe and _files record what it offers."""

    def complete(self, *words):
        if not shutil.which('zsh'):
            self.skipTest('zsh is not installed')
        script = r'''
fpath=($1 $fpath); shift
autoload -Uz compinit && compinit -u -D
autoload -Uz _vfioctl
compadd() { [[ $1 == -- ]] && shift; print -rl -- "$@" }
_describe() { local -a described; described=(${(P)4}); print -rl -- ${described%%:*} }
_files() { print -r -- '(files)' }
words=("$@"); CURRENT=$#
_vfioctl
'''
        result = subprocess.run(['zsh', '-f', '-c', script, 'zsh', COMPLETION, VFIOCTL, *words],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual((result.returncode, result.stderr), (0, ''))
        # compadd itself keeps the words that start with what was typed.
        typed = words[-1]
        return [w for w in result.stdout.splitlines() if w.startswith(typed)]

    def test_commands_names_addresses_options(self):
        self.assertEqual(self.complete('sta'), ['status', 'start'])
        self.assertEqual(self.complete(*self.sock, 'start', ''), ['alpha', 'beta'])
        self.assertEqual(self.complete(*self.sock, 'vfs', ''), ['0000:00:02.0'])
        self.assertEqual(self.complete('stop', '--t'), ['--timeout'])
        self.assertEqual(self.complete('define', ''), ['(files)'])


class FishCompletionTest(CompletionTestCase):
    def complete(self, line):
        if not shutil.which('fish'):
            self.skipTest('fish is not installed')
        env = dict(os.environ, PATH=os.path.dirname(VFIOCTL) + ':' + os.environ['PATH'],
                   XDG_CONFIG_HOME=self.workdir, XDG_DATA_HOME=self.workdir)
        result = subprocess.run(['fish', '--no-config', '-c',
                                 'source $argv[1]; complete -C $argv[2]',
                                 os.path.join(COMPLETION, 'vfioctl.fish'), line],
                                capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual((result.returncode, result.stderr), (0, ''))
        # fish sorts what it offers.
        return [w.split('\t')[0] for w in result.stdout.splitlines()]

    def test_commands_names_addresses_options(self):
        self.assertEqual(self.complete('vfioctl sta'), ['start', 'status'])
        self.assertEqual(self.complete(f'vfioctl --socket {self.d.socket} start '),
                         ['alpha', 'beta'])
        self.assertEqual(self.complete(f'vfioctl -s {self.d.socket} gpu '), ['0000:00:02.0'])
        self.assertEqual(self.complete('vfioctl stop --fo'), ['--force'])
        self.assertEqual(self.complete('vfioctl --json='), ['--json=pretty', '--json=short'])


def tearDownModule():
    if _fixture_root:
        shutil.rmtree(_fixture_root, ignore_errors=True)


if __name__ == '__main__':
    unittest_tap.main()
