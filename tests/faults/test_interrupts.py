"""Cleanup under faults: a child pytest session is interrupted, timed out or killed, and
afterwards nothing of its runs is left on the host (domains, run dirs, logs, sockets)."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from faults.conftest import assert_nothing_left

pytestmark = [pytest.mark.functional, pytest.mark.slow]

BOOT = """
def test_boot(booted_guest):
    booted_guest.wait_for_event("watchdog", 240)
"""

WAIT = """
from conftest import reached


def test_wait(booted_guest):
    reached("waiting")
    booted_guest.wait_for_event("watchdog", 240)
"""

WAIT_TWICE = WAIT + """

def test_wait_too(booted_guest):
    reached("waiting")
    booted_guest.wait_for_event("watchdog", 240)
"""

TIMEOUT = """
import pytest
from conftest import reached


@pytest.mark.timeout(3)  # run with timeout_func_only: the boot in setup is not counted
def test_exceeds_timeout(booted_guest):
    reached("waiting")
    booted_guest.wait_for_event("watchdog", 240)
"""


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_during_boot(signum, child_session, lab):
    """SIGINT/SIGTERM while the guest boots (QEMU started, no boot marker yet): teardown
    destroys the guest, nothing is left."""
    child = child_session(BOOT)
    child.wait_for_guest_booting(lab.conn)
    child.signal(signum)
    assert child.finish() != 0
    assert "KeyboardInterrupt" in child.output()
    assert_nothing_left(lab.conn, child)


def test_sigint_during_a_wait(child_session, lab):
    """SIGINT while a test waits (bounded) for a watchdog event: nothing is left."""
    child = child_session(WAIT)
    child.wait_for(lambda: child.reached("waiting") and child.domains(lab.conn), 180,
                   "child test did not start waiting")
    child.signal(signal.SIGINT)
    assert child.finish() != 0
    assert "KeyboardInterrupt" in child.output()
    assert_nothing_left(lab.conn, child)


@pytest.mark.parametrize("signum, group", [
    (signal.SIGINT, True), (signal.SIGINT, False), (signal.SIGTERM, False)],
    ids=["SIGINT-group(Ctrl-C)", "SIGINT-main", "SIGTERM-main"])
def test_signal_to_an_xdist_run(signum, group, child_session, lab):
    """``-n 2`` while both workers wait in a test: Ctrl-C (SIGINT to the process group), or
    SIGINT/SIGTERM to the main pytest process only (as a CI runner may send): each worker's
    teardown runs and nothing of either worker's run is left."""
    child = child_session(WAIT_TWICE, "-n", "2")
    child.wait_for(lambda: child.reached("waiting") == 2 and len(child.domains(lab.conn)) == 2,
                   240, "both xdist workers waiting")
    assert len(child.run_ids()) == 2
    child.signal(signum, group=group)
    assert child.finish() != 0
    assert_nothing_left(lab.conn, child)


def test_pytest_timeout(child_session, lab):
    """A test exceeding its pytest-timeout (signal method, the default on Linux) fails, its
    guest is destroyed, nothing is left."""
    child = child_session(TIMEOUT, "-o", "timeout_func_only=true")
    child.wait_for(lambda: child.reached("waiting") and child.domains(lab.conn), 180,
                   "child test did not start waiting")
    rc = child.finish()
    assert rc == 1 and "Timeout" in child.output(), child.output()
    assert_nothing_left(lab.conn, child)


def test_pytest_timeout_thread_method_needs_cleanup(child_session, lab):
    """With ``timeout_method=thread`` pytest-timeout ends the process with os._exit, so no
    teardown runs: the guest is left, and ``conformance cleanup`` (dead owner) removes it."""
    child = child_session(TIMEOUT, "-o", "timeout_method=thread", "-o", "timeout_func_only=true")
    child.wait_for(lambda: child.reached("waiting") and child.domains(lab.conn), 180,
                   "child test did not start waiting")
    child.finish()
    assert "Timeout" in child.output(), child.output()
    from conformance.lab.cleanup import owned_domains
    assert {o.run for d, o in owned_domains(lab.conn) if o.pid in child.pids()} == child.run_ids()
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "cleanup",
                           "--libvirt-uri", lab.uri], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "removed domain" in done.stdout, done.stdout + done.stderr
    assert_nothing_left(lab.conn, child)


def test_sigkill_then_conformance_cleanup(child_session, lab):
    """SIGKILL leaves the guest running; ``conformance cleanup --run ID`` (the run id read
    from the marker of the domains whose owner pid is the killed process) removes it all."""
    child = child_session(WAIT)
    child.wait_for(lambda: child.reached("waiting") and child.domains(lab.conn), 180,
                   "child test did not start waiting")
    child.signal(signal.SIGKILL)
    child.finish()
    from conformance.lab.cleanup import owned_domains
    killed = {o.run for d, o in owned_domains(lab.conn) if o.pid in child.pids()}
    assert killed == child.run_ids(), "SIGKILL should leave the running guest behind"
    for run_id in sorted(killed):
        done = subprocess.run([sys.executable, "-m", "conformance.cli", "cleanup", "--run", run_id,
                               "--libvirt-uri", lab.uri], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        assert "removed domain" in done.stdout
    assert_nothing_left(lab.conn, child)


def test_sigkill_then_plain_cleanup(child_session, lab):
    """After SIGKILL, a plain ``conformance cleanup`` (dead owner) removes the leftovers."""
    child = child_session(WAIT)
    child.wait_for(lambda: child.reached("waiting") and child.domains(lab.conn), 180,
                   "child test did not start waiting")
    child.signal(signal.SIGKILL)
    child.finish()
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "cleanup",
                           "--libvirt-uri", lab.uri], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "removed domain" in done.stdout
    assert_nothing_left(lab.conn, child)
