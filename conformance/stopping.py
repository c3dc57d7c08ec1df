"""Stopping a run cleanly: SIGINT/SIGTERM to the harness stop everything it started.

:class:`StopSignals` turns the first SIGINT/SIGTERM into a request to stop (remembered,
never an exception in the middle of a cleanup); a second one is reported and ignored, so
it cannot abort the cleanup. :func:`supervise` runs a child in its own session, passes a
stop request on to its whole process group (SIGINT, the child's teardown path), escalates
to SIGKILL after a grace period, and finally kills whatever the child's descendants left
running in other sessions (exec drivers, the Nova worker): the harness makes itself their
subreaper, so orphans come back to it instead of to init. Several children may be
supervised side by side (one per host of a fleet): :func:`start_child` registers each, and
:func:`kill_orphans` spares the registered ones.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from conformance.process import PR_SET_CHILD_SUBREAPER, kill_group, prctl, signal_group

EXIT_STATUS = {signal.SIGINT: 130, signal.SIGTERM: 143}
_SUPERVISED: set[int] = set()  # pids of children being supervised: not orphans
_CHILDREN_LOCK = threading.RLock()  # start_child vs kill_orphans (a fresh child is no orphan)


class StopSignals:
    """Remember the first SIGINT/SIGTERM; report and ignore the ones after it."""

    def __init__(self, stream=sys.stderr):
        self.signum: int | None = None
        self.when: float | None = None
        self.started = time.monotonic()
        self._stream = stream
        self._previous = {}

    def __enter__(self) -> "StopSignals":
        self.started = time.monotonic()
        for signum in EXIT_STATUS:
            self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    @property
    def requested(self) -> bool:
        return self.signum is not None

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum else ""

    def summary(self) -> dict | None:
        """{"signal": name, "after_seconds": s} once a stop was requested, else None."""
        if self.signum is None:
            return None
        return {"signal": self.name, "after_seconds": round(self.when - self.started, 1)}

    @property
    def exit_status(self) -> int:
        return EXIT_STATUS.get(self.signum, 1)

    def _handle(self, signum, _frame) -> None:
        name = signal.Signals(signum).name
        if self.signum is not None:
            self.say(f"{name} received again: still stopping and cleaning up (kill -9 aborts the cleanup)")
            return
        self.signum, self.when = signum, time.monotonic()
        self.say(f"{name} received: stopping the run, removing its guests and files")

    def say(self, text: str) -> None:
        try:
            self._stream.write(f"conformance: {text}\n")
            self._stream.flush()
        except (OSError, ValueError):
            pass


def become_subreaper() -> bool:
    """Orphaned descendants are re-parented to this process (Linux); False if unsupported."""
    return prctl(PR_SET_CHILD_SUBREAPER, 1)


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def start_child(argv, **popen) -> subprocess.Popen:
    """``Popen(argv, start_new_session=True, **popen)``, registered as supervised until
    :func:`supervise` has reaped it, so a concurrent :func:`kill_orphans` spares it."""
    with _CHILDREN_LOCK:
        proc = subprocess.Popen(argv, start_new_session=True, **popen)
        _SUPERVISED.add(proc.pid)
        return proc


def children() -> set[int]:
    """This process's children now (what :func:`kill_orphans` should ``spare`` later:
    taken before a child session starts, they are ours, e.g. the ssh of a live
    qemu+ssh:// connection, not orphans of that session)."""
    return set(_children_of(os.getpid()))


def kill_orphans(deadline: float = 10.0, spare: set[int] = frozenset()) -> list[int]:
    """SIGKILL the process group of every remaining child of this process and reap it,
    except children started by :func:`start_child` and not yet reaped, and ``spare``.

    Only meaningful after :func:`become_subreaper`: then these are descendants whose parent
    died (e.g. a driver process of a killed pytest worker). A child in this process's own
    group (e.g. the ssh that libvirt runs for a qemu+ssh:// connection) is killed alone:
    killing its group would kill this process. A child that does not exit within
    ``deadline`` s is left (never waited for past it). Returns the pids killed and reaped.
    """
    with _CHILDREN_LOCK:
        return _kill_orphans(deadline, spare)


REAP_POLL = 0.05  # seconds between checks that a killed child has exited


def _kill_orphans(deadline: float, spare: set[int]) -> list[int]:
    killed, signalled = [], set()
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        children = [pid for pid in _children_of(os.getpid())
                    if pid not in _SUPERVISED and pid not in spare and pid not in killed]
        if not children:
            break
        for pid in children:
            if pid not in signalled:
                _kill(pid)
                signalled.add(pid)
            if _reaped(pid):
                killed.append(pid)
        time.sleep(REAP_POLL)
    return killed


def _kill(pid: int) -> None:
    """SIGKILL ``pid``'s process group, or ``pid`` alone when it is in ours."""
    try:
        group = os.getpgid(pid)
        if group == os.getpgrp():
            raise PermissionError("our own group")
        os.killpg(group, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _reaped(pid: int) -> bool:
    """Reap ``pid`` if it has exited (never blocks: a killed process in uninterruptible sleep
    exits only later); whether it is gone."""
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:
        return True


def supervise(proc: subprocess.Popen, stop: StopSignals, grace: float, poll: float = 0.2) -> int:
    """Wait for ``proc`` (started with ``start_new_session=True``); once ``stop`` is
    requested, its group gets SIGINT, SIGKILL after
    ``grace`` seconds. Returns ``proc``'s exit status; its group is gone afterwards."""
    forwarded = False
    while True:
        try:
            status = proc.wait(timeout=poll)
            break
        except subprocess.TimeoutExpired:
            pass
        if stop.requested and not forwarded:
            signal_group(proc, signal.SIGINT)
            forwarded = True
        if stop.requested and time.monotonic() - stop.when > grace:
            stop.say(f"the run did not stop within {grace:g} s: killing its process group")
            status = kill_group(proc, wait=10)
            break
    kill_group(proc, wait=10)  # grandchildren that outlived the child in its group
    _SUPERVISED.discard(proc.pid)  # reaped (or unreapable: then kill_orphans may try)
    return status if status is not None else -9
