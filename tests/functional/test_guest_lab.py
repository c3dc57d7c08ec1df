"""The guest lab boots real guests through libvirt, talks to them, and cleans up."""

import os
import time

import pytest

from conformance.errors import WaitTimeout
from conformance.lab.cleanup import owned_domains
from conformance.process import default_signals

pytestmark = pytest.mark.functional


def test_boot_marker_and_boot_id(booted_guest):
    """The console shows exactly one boot marker whose id is the guest's boot_id."""
    ids = booted_guest.boot_ids()
    assert len(ids) == 1
    inside = booted_guest.exec(["cat", "/proc/sys/kernel/random/boot_id"]).text.strip()
    assert inside == ids[0]


def test_agent_ping_and_info(booted_guest):
    """guest-ping answers and guest-info lists guest-exec among enabled commands."""
    assert booted_guest.ping()
    info = booted_guest.info()
    assert info["version"]
    enabled = {c["name"] for c in info["supported_commands"] if c["enabled"]}
    assert {"guest-ping", "guest-exec", "guest-exec-status"} <= enabled


def test_exec_returns_output_and_exit_codes(booted_guest):
    """guest-exec gives back stdout, stderr and the real exit code."""
    done = booted_guest.shell("echo out; echo err >&2; exit 7")
    assert (done.rc, done.stdout, done.stderr) == (7, b"out\n", b"err\n")
    assert booted_guest.exec(["true"]).rc == 0


def test_exec_that_never_exits_times_out_with_a_named_error(booted_guest):
    """A guest command that does not exit ends in WaitTimeout within its deadline."""
    started = time.monotonic()
    with pytest.raises(WaitTimeout, match="guest-exec of '/bin/sleep' did not exit after 1 s"):
        booted_guest.exec(["/bin/sleep", "1000"], timeout=1)
    assert time.monotonic() - started < 10


def test_exec_past_its_deadline_is_killed_with_its_children(booted_guest):
    """A timed-out command and what it started are killed in the guest (guests are shared:
    a leftover reader would skew the next check); the error says so."""
    with pytest.raises(WaitTimeout, match="its process group was killed"):
        booted_guest.shell("sleep 1001 & sleep 1002", timeout=1)
    left = booted_guest.shell("ps -o pid,args | grep '[s]leep 100' || true").text
    assert left == ""


def test_exec_leads_its_own_session(booted_guest):
    """The command's pid is its session and process group id (what the kill relies on)."""
    stat = booted_guest.shell("echo $$; cat /proc/$$/stat").text.split()
    pid, pgrp, session = stat[0], stat[5], stat[6]
    assert pgrp == session == pid


def test_testinfra_host_runs_through_the_agent(guest_host):
    """A testinfra Host backed by the guest agent sees the guest, not the host."""
    assert guest_host.file("/proc/cpuinfo").exists
    assert guest_host.run("cat /proc/1/comm").stdout.strip() == "init"
    assert guest_host.run("exit 3").rc == 3


def test_qmp_and_qemu_pid(booted_guest):
    """QMP answers, and pid is the QEMU process running this domain."""
    assert booted_guest.qmp("query-status")["status"] == "running"
    cmdline = open(f"/proc/{booted_guest.pid}/cmdline", "rb").read().split(b"\0")
    assert b"qemu-system" in cmdline[0]
    assert f"guest={booted_guest.name}".encode() in b" ".join(cmdline)


def test_events_are_recorded(booted_guest):
    """The lab received the started and agent-connected events of this domain."""
    kinds = {(e.kind, e.detail) for e in booted_guest.events}
    assert ("lifecycle", "started") in kinds
    assert ("agent-lifecycle", "connected") in kinds


def test_wait_for_an_event_that_never_comes_names_it(booted_guest):
    """Waiting for an event that never happens raises WaitTimeout naming it."""
    with pytest.raises(WaitTimeout, match="no watchdog event after 0.5 s"):
        booted_guest.wait_for_event("watchdog", 0.5)


def test_destroy_removes_domain_and_console(guest_factory, guest_image, accelerator, lab):
    """destroy() undefines the domain and removes its console log; it is idempotent."""
    from fixtures.guests import reference_xml
    guest = guest_factory(reference_xml(guest_image, accelerator.virt_type, "instance-d1"),
                          instance_name="instance-d1")
    guest.wait_for_boot(120)
    console = guest.console_path
    assert console.exists()
    guest.destroy()
    guest.destroy()
    assert guest.name not in {d.name() for d in lab.conn.listAllDomains(0)}
    assert not console.exists()


def test_domains_carry_the_ownership_marker(booted_guest, lab):
    """Every guest carries this run's ownership marker (what cleanup selects by)."""
    owned = {d.name(): o for d, o in owned_domains(lab.conn, run_id=lab.run.id)}
    assert owned[booted_guest.name].pid == os.getpid()
    assert owned[booted_guest.name].alive()


def _leftovers_of(conn, pid: int):
    """(domain names, run dirs) owned by process ``pid`` that still exist."""
    from conformance.lab.runs import STATE_DIR
    domains = [d.name() for d, o in owned_domains(conn) if o.pid == pid]
    runs = STATE_DIR / "runs"
    dirs = [str(p) for p in (runs.iterdir() if runs.is_dir() else ())
            if (p / "owner").is_file() and (p / "owner").read_text().split()[:1] == [str(pid)]]
    return domains, dirs


@pytest.mark.slow
@pytest.mark.parametrize("stop", [None, "SIGINT", "SIGTERM"])
def test_nothing_is_left_after_a_session(stop, lab, accelerator):
    """A child pytest session leaves no marked domain and no run dir: when it finishes,
    and when SIGINT (Ctrl-C) or SIGTERM arrives while its guest is booting."""
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from conformance.waiters import wait_until

    repo = Path(__file__).resolve().parents[2]
    argv = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-p", "no:xdist",
            "--accel", accelerator.virt_type, "--libvirt-uri", lab.uri,
            f"{Path(__file__).relative_to(repo)}::test_agent_ping_and_info"]
    child = subprocess.Popen(argv, cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             preexec_fn=default_signals)
    try:
        if stop is not None:
            def booting():
                return any(o.pid == child.pid and d.isActive()
                           for d, o in owned_domains(lab.conn)) or child.poll() is not None
            wait_until(booting, 120, "child session started no guest")
            assert child.poll() is None, "child finished before it could be interrupted"
            child.send_signal(getattr(signal, stop))
        output = child.communicate(timeout=180)[0].decode(errors="replace")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(30)
    if stop is None:
        assert child.returncode == 0, output[-2000:]
    else:
        assert child.returncode != 0 and "KeyboardInterrupt" in output, output[-2000:]
    assert _leftovers_of(lab.conn, child.pid) == ([], []), output[-2000:]


def test_minimal_domain_boots_without_any_driver(guest_factory, guest_image, accelerator):
    """The lab's own minimal domain boots and its agent answers (no driver involved)."""
    import uuid

    from conformance.lab.domain import minimal_domain
    name = f"instance-{uuid.uuid4().hex[:8]}"
    guest = guest_factory(minimal_domain(name, str(uuid.uuid4()), guest_image.boot,
                                         accelerator.virt_type), instance_name=name)
    boot_id = guest.wait_for_boot(120)
    guest.wait_for_agent(60)
    assert guest.shell("cat /proc/sys/kernel/random/boot_id").text.strip() == boot_id
