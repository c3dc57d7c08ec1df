"""SIGINT/SIGTERM to the `conformance certify` process itself (not its pytest child) stop the
whole run within seconds: exit 130/143, reports marked interrupted (never a verdict), and no
guest, run dir, temp dir or process of the run is left."""

from __future__ import annotations

import signal
import time

import pytest
from lxml import etree


pytestmark = [pytest.mark.functional, pytest.mark.slow]
STOP_BOUND = 60  # seconds from the signal to certify's exit (its grace is 30 s, then SIGKILL)


def stopped_in_time(run, signum) -> float:
    sent = time.monotonic()
    run.signal(signum)
    status = run.finish(STOP_BOUND)
    assert status == {signal.SIGINT: 130, signal.SIGTERM: 143}[signum], run.output()
    return time.monotonic() - sent


def test_sigterm_during_set_up(certify):
    """Before pytest starts (driver loaded, accelerator being chosen)."""
    run = certify("--feature", "agent")
    run.wait_for(lambda: "certify: preparing" in run.output(), 60, "certify to start preparing")
    stopped_in_time(run, signal.SIGTERM)
    run.assert_interrupted("SIGTERM")
    assert run.left_behind() == []


def test_sigint_mid_boot_and_a_second_signal_does_not_abort_the_cleanup(certify):
    """While a guest boots; a second SIGINT during the cleanup is reported and ignored."""
    run = certify("--feature", "agent", "--parallel", "2")
    run.wait_for(lambda: run.guests(), 180, "a guest of the run to be booting")
    sent = time.monotonic()
    run.signal(signal.SIGINT)
    time.sleep(0.3)
    run.signal(signal.SIGINT)
    assert run.finish(STOP_BOUND) == 130, run.output()
    assert time.monotonic() - sent < STOP_BOUND
    assert "received again" in run.output()
    run.assert_interrupted("SIGINT")
    assert run.left_behind() == []


def booted_reset_guests(run) -> list:
    """The run's guests with a watchdog that resets them and a boot marker on the console."""
    found = []
    for domain in run.guests():
        xml = etree.fromstring(domain.XMLDesc(0).encode())
        watchdog, console = xml.find("devices/watchdog"), xml.find("devices/serial/source")
        if watchdog is None or watchdog.get("action") != "reset" or console is None:
            continue
        try:
            with open(console.get("path"), "rb") as log:
                booted = b"CONFORMANCE-BOOT" in log.read(1 << 20)
        except OSError:
            continue
        if booted:
            found.append(domain)
    return found


def test_sigterm_mid_watchdog_wait(certify):
    """While the watchdog fire test waits for the domain to obey the watchdog: it is the
    last item of its group, about a second of checks after the group's guest booted."""
    run = certify("--feature", "watchdog", "--parallel", "1")
    run.wait_for(lambda: booted_reset_guests(run), 240, "a guest whose watchdog resets it to boot")
    time.sleep(2.5)
    stopped_in_time(run, signal.SIGTERM)
    run.assert_interrupted("SIGTERM")
    report = run.report()
    assert report["summary"]["not-run"] > 0  # unfinished cases are not-run, not errors
    assert run.left_behind() == []


REPORT_WRITING = """
import conformance.report.writers as writers
_junit = writers.write_junit
def write_junit(report, path):
    os.kill(os.getpid(), signal.SIGTERM)   # arrives while the reports are being written
    return _junit(report, path)
writers.write_junit = write_junit
"""


def test_sigterm_during_report_writing(certify):
    """The reports already being written are rewritten marked interrupted."""
    run = certify("--feature", "agent", "--level", "xml", inject=REPORT_WRITING)
    assert run.finish(STOP_BOUND) == 143, run.output()
    run.assert_interrupted("SIGTERM")
    assert run.left_behind() == []


def test_sigkill_stops_the_pytest_child_and_cleanup_removes_the_rest(certify):
    """SIGKILL cannot be handled by certify itself: its pytest child gets SIGINT (the
    parent-death signal) and destroys its guests; `conformance cleanup` then removes the
    temp dir certify could not, and nothing of the run is left."""
    import os
    import subprocess
    import sys

    from conformance.waiters import wait_until
    run = certify("--feature", "watchdog")  # a minute of guests: the child cannot just finish
    run.wait_for(lambda: run.guests(), 180, "a guest of the run to be booting")
    run.signal(signal.SIGKILL)
    assert run.finish(10) == -signal.SIGKILL
    children = [pid for pid in run.pids if pid != run.proc.pid]
    wait_until(lambda: not [p for p in children if os.path.exists(f"/proc/{p}")], 20,
               "the pytest child to stop after certify was killed")
    assert run.guests() == []  # the child destroyed them itself
    assert [p.name for p in run.tmp_root.iterdir() if p.name.startswith("cfm-certify-")]
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "cleanup"], capture_output=True,
                          text=True, timeout=120, check=False,
                          env={**os.environ, "TMPDIR": str(run.tmp_root)})
    assert done.returncode == 0 and "removed " in done.stdout and "cfm-certify-" in done.stdout, \
        done.stdout + done.stderr
    assert run.left_behind() == []
