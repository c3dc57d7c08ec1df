"""libvirtd restarted under a running session: the run ends with a clear error and
nothing of it is left (the lab reopens its connection to clean up); restarted in the middle
of a certification, no case fails: the checks it cut are errors naming the host, the
others keep their verdicts.

Destructive for the host's daemon: every libvirt client loses its connection (guests keep
running, QEMU does not depend on libvirtd). Kept short; libvirtd is restarted in
``finally`` even when the test fails.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from conformance.host.bootstrap import start_daemon
from conformance.lab.connection import open_connection
from conformance.waiters import wait_until
from faults.conftest import assert_nothing_left

pytestmark = [pytest.mark.functional, pytest.mark.slow, pytest.mark.destructive, pytest.mark.host_disruptive]

PID_FILE = Path("/run/libvirtd.pid")

PINGING = """
import os
from pathlib import Path

from conformance.waiters import wait_until_or_raise
from conftest import reached


def test_ping_until_told(booted_guest):
    reached("running")
    done = Path(os.environ["CFM_FAULT_RECORD"]) / "done"
    wait_until_or_raise(lambda: booted_guest.ping() and done.exists(), 120, "parent never done")
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def restart_libvirtd() -> None:
    """Stop libvirtd (SIGTERM, bounded) and start it again as the bootstrap does (under its
    reaper)."""
    try:
        pid = int(PID_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pid = None
    try:
        if pid is not None and _alive(pid):
            os.kill(pid, signal.SIGTERM)
            wait_until(lambda: not _alive(pid), 30, f"libvirtd {pid} did not stop")
    finally:
        start_daemon("libvirtd")
        wait_until(lambda: open_connection().close() == 0 or True, 60, "libvirtd did not come back")


def test_libvirtd_restarted_mid_run(child_session, lab, tmp_path):
    """A child session's guest runs while libvirtd is killed and restarted: the child rides
    it out (its guest is looked up again on the new connection) or, when the restart cut
    one of its agent calls, ends with an error naming the host; either way no domain, run
    dir, log or socket of that run is left afterwards."""
    if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
        pytest.skip("restarts libvirtd, which would cut the libvirt connections of this "
                    "session's other xdist workers mid-test: run it without -n")
    if not PID_FILE.is_file():
        pytest.skip(f"libvirtd pid file {PID_FILE} missing (libvirtd not started with -d?)")
    child = child_session(PINGING)
    child.wait_for(lambda: child.reached("running") and child.domains(lab.conn), 180,
                   "child guest did not come up")
    try:
        restart_libvirtd()
    finally:
        (tmp_path / "record" / "done").write_text("")
    rc = child.finish(180)
    output = child.output()
    assert rc in (0, 1), output
    if rc == 1:
        assert "HostUnreachable: libvirt host qemu:///system" in output, output
    conn = lab.connected()  # the parent's own connection died with libvirtd as well
    assert_nothing_left(conn, child)


def _restartable() -> None:
    if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
        pytest.skip("restarts libvirtd, which would cut the libvirt connections of this "
                    "session's other xdist workers mid-test: run it without -n")
    if not PID_FILE.is_file():
        pytest.skip(f"libvirtd pid file {PID_FILE} missing (libvirtd not started with -d?)")


def live_results(run) -> int:
    """Host and guest check results certify's pytest child has streamed so far."""
    found = 0
    for path in run.tmp_root.glob("cfm-certify-*/results.jsonl"):
        try:
            lines = path.read_text().splitlines()
        except OSError:
            continue
        found += sum('"level": "host"' in line or '"level": "guest"' in line for line in lines)
    return found


def test_libvirtd_restarted_mid_certification_fails_no_case(certify, lab):
    """libvirtd is killed and started again while a certification's guests run (both
    workers busy): afterwards no case and no level is a failure; a check the restart cut
    (a libvirt call in flight, a watchdog event lost while the daemon was down) is an error
    naming the host; the lab looks every guest up again (domain handle and event callbacks
    on the new connection), so the checks after the restart pass; nothing is left."""
    _restartable()
    run = certify("--feature", "watchdog", "--feature", "agent")
    run.wait_for(lambda: live_results(run) >= 3 and len(run.guests()) >= 2, 300,
                 "certify never had two guests running with live checks under way")
    try:
        restart_libvirtd()
    finally:
        run.conn = lab.connected()  # the test's own connection died with libvirtd as well
    rc = run.finish(900)
    report = run.report()
    cases = report["cases"]
    assert rc in (0, 1), run.output()
    failed = [(c["name"], level, entry["reason"][:300]) for c in cases
              for level, entry in c["levels"].items() if entry["status"] == "fail"]
    assert failed == [], json.dumps(failed, indent=1)
    unnamed = [(c["name"], level, entry["reason"][:300]) for c in cases
               for level, entry in c["levels"].items()
               if entry["status"] == "error" and "qemu:///system" not in entry["reason"]]
    assert unnamed == [], json.dumps(unnamed, indent=1)
    verdicts = {c["verdict"] for c in cases}
    assert "pass" in verdicts and verdicts <= {"pass", "error", "skip"}, verdicts
    assert run.left_behind() == []
