# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs a file's unittest cases and reports each as one TAP line, for meson's
`protocol: 'tap'`: `meson test` then counts the cases of a file one by one and
shows a skipped case as SKIP, not as part of a file that was OK.

    ok 3 HostTests.test_gpus
    ok 4 HostTests.test_real_sys # SKIP needs root
    not ok 5 LimitsTests.test_flood
    # Traceback (most recent call last):
    # ...
    1..5

A failure's traceback (every failed subTest's, each under its parameters) follows
its line as TAP comments, and goes to stderr too, which is what `meson test
--print-errorlogs` shows of a TAP test. The plan comes last: a setUpClass or setUpModule that fails is one more `not ok`.

The TAP stream is the process's stdout as it was at the start; from then on
fd 1 is fd 2, so what a case or a child prints cannot break the stream. The
exit status is 0 whenever the stream is complete, a failure included: meson
reads the lines, and would turn a non-zero status into an ERROR that hides them.

Standard library only: it runs under /usr/bin/python3 for the simulator too.
"""
import os
import sys
import traceback
import unittest


def _name(test):
    """The case as "Class.test_method": the module is the file meson names already."""
    name = test.id()
    if name.startswith('__main__.'):
        name = name[len('__main__.'):]
    # '#' starts a TAP directive; a name cannot carry one.
    return name.replace('#', '_').replace('\n', ' ')


def _comment(text):
    return ''.join(f'# {line}\n' for line in text.rstrip('\n').split('\n'))


class TapResult(unittest.TestResult):
    """A case's line is written when it stops, from everything it reported:
    a subTest that failed fails its case, whatever the others did."""

    def __init__(self, stream):
        super().__init__()
        self.stream = stream
        self.count = 0
        self.not_ok = 0
        self.skips = 0
        self.case = None          # the case running, and what it reported so far:
        self.case_failures = []   # tracebacks
        self.case_skip = None     # the reason it was skipped
        self.case_todo = None     # (passed, why) of an expectedFailure

    def _emit(self, ok, name, directive=None, diagnostics=()):
        self.count += 1
        self.not_ok += not ok
        self.skips += bool(directive and directive.startswith('SKIP'))
        line = f'{"ok" if ok else "not ok"} {self.count} {name}'
        if directive:
            line += f' # {directive}'
        self.stream.write(line + '\n')
        for text in diagnostics:
            self.stream.write(_comment(text))
        self.stream.flush()
        if not ok and diagnostics:
            # Also where meson's --print-errorlogs shows it: a parsed stdout is not shown.
            sys.stderr.write(f'FAIL: {name}\n' + ''.join(diagnostics))
            sys.stderr.flush()

    def _traceback(self, test, err):
        return self._exc_info_to_string(err, test)

    def startTest(self, test):
        super().startTest(test)
        self.case, self.case_failures, self.case_skip, self.case_todo = test, [], None, None

    def stopTest(self, test):
        super().stopTest(test)
        if self.case is not test:
            return
        if self.case_failures:
            self._emit(False, _name(test), diagnostics=self.case_failures)
        elif self.case_todo is not None:
            ok, why = self.case_todo
            self._emit(ok, _name(test), f'TODO {why}')
        elif self.case_skip is not None:
            self._emit(True, _name(test), f'SKIP {self.case_skip}'.rstrip())
        else:
            self._emit(True, _name(test))
        self.case = None

    def _fail(self, test, err):
        if self.case is None:
            # setUpClass, tearDownClass, setUpModule...: no case of its own is running.
            self._emit(False, str(test).replace('#', '_'),
                       diagnostics=[self._traceback(test, err)])
        else:
            self.case_failures.append(self._traceback(test, err))

    def addError(self, test, err):
        super().addError(test, err)
        self._fail(test, err)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._fail(test, err)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self.case_failures.append(f'subTest {subtest._subDescription()}:\n'
                               + self._traceback(test, err))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        # The reason is one line: a TAP directive ends with its line.
        self.case_skip = ' '.join(str(reason).split()).replace('#', '_')
        if self.case is None:
            self._emit(True, str(test), f'SKIP {self.case_skip}')

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.case_todo = (False, 'expected failure')

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.case_todo = (True, 'expected to fail, passed')


def _tap_stream():
    """A stream on the process's stdout for TAP alone; fd 1 becomes fd 2."""
    sys.stdout.flush()
    stream = os.fdopen(os.dup(1), 'w', buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return stream


def skip_all(reason):
    """Reports the whole file skipped (meson: SKIP) and exits; for a file that cannot
    run on this machine at all."""
    reason = ' '.join(str(reason).split()).replace('#', '_')
    sys.stdout.write(f'TAP version 13\n1..0 # SKIP {reason}\n')
    sys.stdout.flush()
    sys.exit(0)


def main(module='__main__', argv=None):
    """Runs the cases of `module` (or those named on the command line, as
    unittest.main takes them: Class or Class.test_method) as TAP on stdout."""
    names = [a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith('-')]
    module = sys.modules[module] if isinstance(module, str) else module
    loader = unittest.TestLoader()
    suite = (loader.loadTestsFromNames(names, module) if names
             else loader.loadTestsFromModule(module))
    stream = _tap_stream()
    stream.write('TAP version 13\n')
    result = TapResult(stream)
    try:
        suite.run(result)
    except Exception:  # noqa: BLE001 - said as TAP, then the plan still comes
        result._emit(False, 'the test runner', diagnostics=[traceback.format_exc()])
    stream.write(f'1..{result.count}\n')
    stream.write(f'# {result.count} cases: {result.not_ok} not ok, {result.skips} skipped\n')
    stream.close()
    sys.exit(0)
