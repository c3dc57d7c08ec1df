"""Child processes the harness starts in their own process group (session).

One home for "stop this child and everything it started": drivers (exec, nova worker),
the pytest child of ``conformance certify`` and the fault tests' child sessions.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess


def default_signals() -> None:
    """``preexec_fn`` for a child that must answer SIGINT: a process started from a
    background job (or nohup) inherits SIGINT ignored, which would make Ctrl-C-style
    stops (SIGINT to its group) do nothing; restore the default dispositions."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36  # linux/prctl.h


def _libc_prctl():
    """libc's prctl(2), or None where there is none. Looked up (``dlopen``) in the parent:
    a forked child of a threaded process must not ``dlopen`` (the loader lock may have
    been held by another thread at the fork)."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def prctl(option: int, value: int) -> bool:
    """Linux prctl(2) with one argument; False if it failed or is unsupported."""
    function = _libc_prctl()
    return function is not None and function(option, value, 0, 0, 0) == 0


def stop_with_parent(signum: int = signal.SIGINT):
    """A ``preexec_fn``: :func:`default_signals`, and ``signum`` to the child when the
    thread that starts it dies, even by SIGKILL (Linux parent-death signal), so that a
    killed ``certify`` does not leave its pytest child running on. Made before the fork:
    a parent that is already gone when the child gets there stops it at once; prctl is
    looked up here too, so the child only calls it (no ``dlopen`` after the fork)."""
    parent = os.getpid()
    set_death_signal = _libc_prctl()

    def preexec() -> None:
        default_signals()
        if set_death_signal is not None:
            set_death_signal(PR_SET_PDEATHSIG, signum, 0, 0, 0)
        if os.getppid() != parent:
            os.kill(os.getpid(), signum)
    return preexec


def signal_group(proc: subprocess.Popen, signum: int) -> bool:
    """Send ``signum`` to the process group led by ``proc``; False if it is already gone."""
    try:
        os.killpg(proc.pid, signum)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def kill_group(proc: subprocess.Popen, wait: float = 10.0) -> int | None:
    """SIGKILL ``proc``'s whole process group and reap ``proc`` (bounded by ``wait`` s).

    Idempotent; returns the exit status, or None if ``proc`` could not be reaped in time.
    """
    signal_group(proc, signal.SIGKILL)
    try:
        return proc.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        return None


def stop_group(proc: subprocess.Popen, signum: int, grace: float, wait: float = 10.0) -> int | None:
    """Ask the group to stop with ``signum``, wait up to ``grace`` s, then :func:`kill_group`.

    Even when ``proc`` exits within the grace period, the rest of its group (grandchildren
    that outlived it) is killed, so nothing of the group survives this call.
    """
    if proc.poll() is None:
        signal_group(proc, signum)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    status = kill_group(proc, wait)
    return status if status is not None else proc.poll()
