"""Guest.exec's bounds without a guest: an agent stub stands in for qemu-ga."""

import subprocess
import sys
import textwrap
import time

import pytest

from conformance.errors import WaitTimeout
from conformance.lab.guest import GUEST_KILL, GUEST_SETSID, Guest

COMMAND_PID, KILL_PID = 7, 8


def stalling_guest(poll_s=0.2, kill_works=True):
    """A Guest whose command never exits and whose status polls take ``poll_s``; ``calls``
    records (command, timeout, arguments)."""
    guest = Guest.__new__(Guest)
    guest.calls = []

    def agent(command, timeout=10, **arguments):
        guest.calls.append((command, timeout, arguments))
        if command == "guest-exec":
            return {"pid": KILL_PID if arguments["path"] == GUEST_KILL else COMMAND_PID}
        if arguments["pid"] == KILL_PID:
            return {"exited": kill_works}
        time.sleep(poll_s)
        return {"exited": False}
    guest.agent = agent
    return guest


def test_exec_runs_in_its_own_session_and_polls_within_the_deadline():
    """The command is started under setsid; no status poll may outlast the wait's deadline
    (an agent's own 10 s would), and past it the command's process group is killed."""
    guest = stalling_guest()
    started = time.monotonic()
    with pytest.raises(WaitTimeout, match="did not exit after 1.5 s.*process group was killed"):
        guest.exec(["/bin/sleep", "100"], timeout=1.5)
    assert time.monotonic() - started < 4
    first = guest.calls[0]
    assert first[0] == "guest-exec" and first[2]["path"] == GUEST_SETSID
    assert first[2]["arg"] == ["/bin/sleep", "100"]
    kill = [a for c, _, a in guest.calls if c == "guest-exec" and a["path"] == GUEST_KILL]
    assert kill == [{"path": GUEST_KILL, "arg": ["-KILL", f"-{COMMAND_PID}"]}]
    before_kill = guest.calls[:guest.calls.index(("guest-exec", 5, kill[0]))]
    polls = [t for c, t, a in before_kill if c == "guest-exec-status"]
    assert polls and max(polls) <= 2


def test_a_kill_that_does_not_finish_is_said(monkeypatch):
    """A kill the guest never completes is reported in the timeout, not hidden."""
    monkeypatch.setattr("conformance.lab.guest.KILL_WAIT", 0.5)
    guest = stalling_guest(poll_s=0.05, kill_works=False)
    with pytest.raises(WaitTimeout, match="killing its process group failed"):
        guest.exec(["/bin/sleep", "100"], timeout=0.5)


def test_event_loop_survives_an_error():
    """An error in one iteration of libvirt's event loop does not end the loop thread."""
    script = textwrap.dedent("""
        import threading, time
        import libvirt
        from conformance.lab import connection
        calls = []
        def run():
            calls.append(1)
            if len(calls) == 1:
                raise libvirt.libvirtError("one bad iteration")
            time.sleep(0.01)
        libvirt.virEventRegisterDefaultImpl = lambda: None
        libvirt.virEventRunDefaultImpl = run
        connection.start_event_loop()
        time.sleep(0.5)
        loop = [t for t in threading.enumerate() if t.name == "libvirt-events"]
        print(len(calls) > 2, bool(loop) and loop[0].is_alive())
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False,
                          timeout=60)
    assert done.stdout.split() == ["True", "True"], done.stderr
