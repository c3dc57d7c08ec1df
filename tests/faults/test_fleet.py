"""A fleet end to end with real guests: this host and namespace test hosts reached over
ssh, certified in one `conformance certify --host ... --host ...` run.

Each host is checked for leftovers from its own side: this host by the run's tracked
processes, runs and files (faults.certify_child); a namespace host by its libvirtd (domains,
pools, volumes) and, over ssh, its /var/lib/conformance, /var/log/libvirt/qemu and
/etc/libvirt/storage (NamespaceHost.leftovers).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading

import pytest
from lxml import etree

from faults.certify_child import CertifyRun

pytestmark = [pytest.mark.functional, pytest.mark.slow, pytest.mark.exclusive]
libvirt = pytest.importorskip("libvirt")

CASES = ["a81c5eb3-9125-4132-8aa6-2aaba2c29c7c",   # agent yes: guest agent, level guest
         "4f658257-17a6-4713-9d37-9fdae7dfbd52",   # watchdog flavor-reset: QEMU argv, the fire
         "eb603b5f-3511-494b-8678-08aa00a95b9c",   # locked memory true: skipped, memlock differs
         "80e0a175-eda8-43b8-a3fb-8fe724431bd9"]   # locked memory false: VmLck of QEMU
SELECT = [arg for case in CASES for arg in ("--case", case)]
SMALL_MEMLOCK = 4 << 20  # the third host's libvirtd: a smaller RLIMIT_MEMLOCK than this host's


def certify_fleet(certify, *hosts: str) -> CertifyRun:
    """`conformance certify` of the selected cases on ``hosts`` (``--host`` each), TCG."""
    return certify(*[arg for host in hosts for arg in ("--host", host)], *SELECT, "--accel", "qemu")


def running_guests(host) -> list[str]:
    with libvirt.open(host.tls_uri) as conn:
        return [d.name() for d in conn.listAllDomains() if d.isActive()]


class ImageUploads(threading.Thread):
    """The run ids of the image volumes (vmlinuz, initrd) seen on ``host`` while it runs."""

    def __init__(self, host):
        super().__init__(daemon=True)
        self.host, self.runs, self.done = host, set(), threading.Event()

    def run(self):
        with libvirt.open(self.host.tls_uri) as conn:
            while not self.done.wait(0.2):
                try:
                    pool = conn.storagePoolLookupByName("cfm")
                    pool.refresh(0)
                    names = pool.listVolumes()
                except libvirt.libvirtError:
                    continue  # no pool yet, or gone
                self.runs |= {n.split("-")[1] for n in names if n.endswith(("-vmlinuz", "-initrd"))}

    def stop(self) -> set[str]:
        self.done.set()
        self.join(10)
        return self.runs


def test_three_hosts_certified_in_one_run_differ_and_leave_nothing(certify, namespace_hosts):
    """Local + two remote hosts: every host certified, the image uploaded to each remote host
    once, the per-host matrix in report.json, junit.xml and report.html, the locked-memory
    difference found, the digests verified, and no domain, volume, pool or file left on any
    host."""
    [h2] = namespace_hosts(1)
    [h3] = namespace_hosts(1, memlock=SMALL_MEMLOCK)
    uploads = [ImageUploads(h2), ImageUploads(h3)]
    for watch in uploads:
        watch.start()
    run = certify_fleet(certify, "qemu:///system", f"h2={h2.ssh_uri}", f"h3={h3.ssh_uri}")
    assert run.finish(600) == 0, run.output()
    # the image went to each remote host once (certify's upload, adopted by its workers)
    assert [len(watch.stop()) for watch in uploads] == [1, 1]
    fleet = run.report()
    assert fleet["kind"] == "fleet" and fleet["certification"]["verdict"] == "certified", run.output()
    assert [h["label"] for h in fleet["hosts"]] == ["local", "h2", "h3"]
    for row in fleet["cases"]:
        assert set(row["hosts"]) == {"local", "h2", "h3"}
        assert {r["verdict"] for r in row["hosts"].values()} == {"pass"}, row
    [locked] = [d for d in fleet["differences"] if d["what"] == "locked memory"]
    assert "4 MiB" in str(locked["hosts"]["h3"]) and "8 MiB" in str(locked["hosts"]["local"])
    for label in ("h2", "h3"):  # host-level checks ran there (remote /proc over ssh)
        host = json.loads((run.out / "hosts" / label / "report.json").read_text())
        assert host["certification"]["levels"]["host"]["pass"] >= 2, host["summary"]["headline"]
    suites = etree.parse(str(run.out / "junit.xml")).getroot().findall("testsuite")
    assert [s.get("hostname") for s in suites] == ["local", "h2", "h3"]
    page = (run.out / "report.html").read_text()
    assert "fleet-matrix" in page and all(f"hosts/{x}/report.html" in page for x in ("local", "h2", "h3"))
    verify = subprocess.run([sys.executable, "-m", "conformance.cli", "verify-report",
                             str(run.out / "report.json")], capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert run.left_behind() == []
    assert h2.leftovers() == [] and h3.leftovers() == []


def test_one_remote_host_certified_alone_leaves_nothing(certify, namespace_hosts):
    """A single remote host (certify's single-host path: its own lab stays connected over
    ssh while the pytest child runs and orphans are killed after it): certified, the image
    uploaded once, and nothing left there or here."""
    [h2] = namespace_hosts(1)
    uploads = ImageUploads(h2)
    uploads.start()
    run = certify_fleet(certify, f"h2={h2.ssh_uri}")
    assert run.finish(600) == 0, run.output()
    assert len(uploads.stop()) == 1
    assert run.report()["certification"]["verdict"] == "certified", run.output()
    assert run.left_behind() == []
    assert h2.leftovers() == []


def test_sigint_mid_run_stops_every_host_and_leaves_nothing(certify, namespace_hosts):
    """SIGINT while guests run on this host and on both remote ones: exit 130, every report
    (fleet and per host) marked interrupted, nothing left on any host."""
    [h2] = namespace_hosts(1)
    [h3] = namespace_hosts(1, memlock=SMALL_MEMLOCK)
    run = certify_fleet(certify, "qemu:///system", f"h2={h2.ssh_uri}", f"h3={h3.ssh_uri}")
    run.wait_for(lambda: run.guests() and running_guests(h2) and running_guests(h3), 300,
                 "a guest running on each of the three hosts")
    run.signal(signal.SIGINT)
    assert run.finish(90) == 130, run.output()
    fleet = run.report()
    assert fleet["certification"]["verdict"] == "interrupted"
    assert fleet["summary"]["headline"].startswith("FLEET INTERRUPTED by SIGINT")
    assert "data-verdict='interrupted'" in (run.out / "report.html").read_text()
    for label in ("local", "h2", "h3"):
        host = json.loads((run.out / "hosts" / label / "report.json").read_text())
        assert host["certification"]["verdict"] == "interrupted"
        assert host["certification"]["interrupted"]["signal"] == "SIGINT"
    assert "CERTIFIED," not in run.output()
    assert run.left_behind() == []
    assert h2.leftovers() == [] and h3.leftovers() == []


def test_a_host_whose_libvirtd_dies_errors_naming_it_the_others_unaffected(certify, namespace_hosts):
    """libvirtd of one host is killed while its guest runs: that host's unfinished cases are
    errors naming it; the other host certifies exactly as alone."""
    from support.testhosts import NamespaceHost, free_index
    [steady] = namespace_hosts(1)
    doomed = NamespaceHost(free_index()).start()  # its own: it is not usable afterwards
    try:
        run = certify_fleet(certify, f"steady={steady.ssh_uri}", f"doomed={doomed.ssh_uri}")
        run.wait_for(lambda: running_guests(doomed), 300, "a guest running on the doomed host")
        doomed.kill_libvirtd()
        assert run.finish(600) == 1, run.output()
        fleet = run.report()
        assert fleet["certification"]["hosts"] == {"steady": "certified", "doomed": "not certified"}
        assert {row["hosts"]["steady"]["verdict"] for row in fleet["cases"]} == {"pass"}
        doomed_rows = [row["hosts"]["doomed"] for row in fleet["cases"]]
        errors = [r for r in doomed_rows if r["verdict"] == "error"]
        assert errors, doomed_rows
        assert all("doomed" in r["reason"] and "unreachable" in r["reason"] for r in errors), errors
        assert not [r for r in doomed_rows if r["verdict"] == "fail"], doomed_rows
        assert steady.leftovers() == []
    finally:
        doomed.stop()
