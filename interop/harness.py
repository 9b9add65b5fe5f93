"""A tiny test harness shared by the Python interop programs.

Each program registers checks, runs them all (a failure does not stop the others), prints one
line per check and a closing `<suite>: N passed, N failed` line, and exits non-zero when any
check failed or none ran. Failures name the command that was being run and the reply, so the
report is enough to fix the server without rerunning anything.

The target server comes from `--host/--port` or `INTEROP_HOST/INTEROP_PORT` (default
127.0.0.1:6379). The suite expects a server of its own: it flushes databases.
"""

import argparse
import os
import sys
import time
import traceback


class CheckFailed(AssertionError):
    """A reply that is not what the check expected."""


def target(description):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default=os.environ.get("INTEROP_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("INTEROP_PORT", "6379")))
    parser.add_argument("-k", dest="only", default=None, help="run only checks whose name contains this")
    return parser.parse_args()


def eq(actual, expected, what):
    if actual != expected:
        raise CheckFailed(f"{what}: expected {expected!r}, got {actual!r}")


def ok(cond, what, got=None):
    if not cond:
        raise CheckFailed(f"{what}" + (f" (got {got!r})" if got is not None else ""))


def raises(exc_type, fn, what, startswith=None):
    """Runs fn() and checks that it raises exc_type whose message starts with `startswith`."""
    try:
        got = fn()
    except exc_type as e:
        if startswith is not None and not str(e).startswith(startswith):
            raise CheckFailed(f"{what}: expected error starting {startswith!r}, got {str(e)!r}") from None
        return e
    raise CheckFailed(f"{what}: expected {exc_type.__name__}, got reply {got!r}")


class Runner:
    def __init__(self, suite, only=None):
        self.suite = suite
        self.only = only
        self.checks = []
        self.last_command = None

    def add(self, name, fn, *args):
        if self.only is None or self.only in name:
            self.checks.append((name, fn, args))

    def run(self):
        passed = failed = 0
        failures = []
        started = time.monotonic()
        for name, fn, args in self.checks:
            self.last_command = None
            t0 = time.monotonic()
            try:
                fn(*args)
            except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the run
                failed += 1
                where = _where(e)
                msg = f"{type(e).__name__}: {e}"
                if self.last_command is not None and not isinstance(e, CheckFailed):
                    msg += f" [last command: {self.last_command}]"
                elif self.last_command is not None:
                    msg += f" [after: {self.last_command}]"
                failures.append(f"{self.suite}/{name}: {msg} ({where})")
                print(f"FAIL {self.suite}/{name} (details below)", flush=True)
            else:
                passed += 1
                print(f"ok   {self.suite}/{name} ({(time.monotonic() - t0) * 1000:.0f} ms)", flush=True)
        if failures:
            print(f"--- {self.suite}: failures", flush=True)
            for f in failures:
                print(f"  {f}", flush=True)
        print(f"({self.suite} took {time.monotonic() - started:.1f} s)")
        print(f"{self.suite}: {passed} passed, {failed} failed", flush=True)
        if passed + failed == 0:
            print(f"{self.suite}: no check ran", file=sys.stderr)
            return 1
        return 1 if failed else 0


def _where(exc):
    """file:line of the innermost frame of an interop program in the traceback."""
    here = os.path.dirname(os.path.abspath(__file__))
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if os.path.abspath(f.filename).startswith(here)]
    frames = [f for f in frames if not f.filename.endswith("harness.py")] or frames
    if not frames:
        return "?"
    f = frames[-1]
    return f"{os.path.basename(f.filename)}:{f.lineno}"


def traced(cls, runner):
    """A subclass of a redis-py/valkey-py client class that records each command it sends,
    so a failure can name it."""

    def execute_command(self, *args, **options):
        runner.last_command = " ".join(_short(a) for a in args)
        return cls.execute_command(self, *args, **options)

    return type(f"Traced{cls.__name__}", (cls,), {"execute_command": execute_command})


def _short(a):
    s = a.decode("utf-8", "backslashreplace") if isinstance(a, bytes) else str(a)
    return s if len(s) <= 40 else s[:37] + "..."
