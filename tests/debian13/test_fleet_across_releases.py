"""One fleet run certifies the reference on this host (Debian 12: libvirt 9.0, QEMU 7.2) and
on the Debian 13 host (libvirt 11, QEMU 10) over qemu+ssh; the fleet report names both
releases and explains every difference (conformance.report.fleet)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from debian13.conftest import TIMEOUT

pytestmark = [pytest.mark.functional, pytest.mark.slow, pytest.mark.debian13, pytest.mark.exclusive,
              TIMEOUT]


def test_reference_certified_on_both_releases_every_difference_explained(debian13_host, tmp_path):
    out = tmp_path / "fleet"
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "certify", "--host", "qemu:///system",
                           "--host", f"d13={debian13_host.ssh_uri}", "--accel", "qemu",
                           "--output-dir", str(out), "--no-progress"],
                          capture_output=True, text=True, timeout=2400)
    (tmp_path / "certify.log").write_text(done.stdout + done.stderr)
    fleet = json.loads((out / "report.json").read_text())
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert fleet["certification"]["verdict"] == "certified"
    versions = {host["label"]: host["versions"] for host in fleet["hosts"]}
    assert versions["local"]["libvirt"].startswith("9.0.") and versions["local"]["qemu"].startswith("7.2.")
    assert versions["d13"]["libvirt"].startswith("11.") and versions["d13"]["qemu"].startswith("10.")
    kinds = {(d["kind"], d["what"]) for d in fleet["differences"]}
    assert {("version", "libvirt"), ("version", "QEMU")} <= kinds
    assert [d for d in fleet["differences"] if not d.get("explained")] == [], fleet["differences"]
    for label in ("local", "d13"):  # every level ran on both, guests included
        host = json.loads((out / "hosts" / label / "report.json").read_text())
        assert host["certification"]["levels"]["guest"]["pass"] > 0, host["summary"]["headline"]
    verify = subprocess.run([sys.executable, "-m", "conformance.cli", "verify-report", str(out / "report.json")],
                            capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert debian13_host.leftovers() == []
