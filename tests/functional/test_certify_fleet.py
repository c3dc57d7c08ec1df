"""`conformance certify --host A --host B` end to end at level xml (libvirt, no guests):
the local host and a namespace test host (a remote libvirtd over TCP)."""

import json
import subprocess
import sys

import pytest
from lxml import etree

pytestmark = pytest.mark.functional


def certify(tmp_path, *args):
    return subprocess.run([sys.executable, "-m", "conformance.cli", "certify", "--level", "xml",
                           "--feature", "rng", "--output-dir", str(tmp_path), "--no-progress", *args],
                          capture_output=True, text=True, timeout=300)


def test_two_hosts_each_certified_in_their_own_child_and_joined(tmp_path, namespace_hosts):
    [remote] = namespace_hosts(1)
    done = certify(tmp_path, "--host", "qemu:///system", "--host", f"far={remote.tls_uri}")
    assert done.returncode == 0, done.stdout + done.stderr
    fleet = json.loads((tmp_path / "report.json").read_text())
    assert fleet["kind"] == "fleet" and fleet["certification"]["verdict"] == "certified"
    assert [h["label"] for h in fleet["hosts"]] == ["local", "far"]
    for label in ("local", "far"):
        host = json.loads((tmp_path / "hosts" / label / "report.json").read_text())
        assert host["summary"]["pass"] == host["summary"]["total"] > 20
        assert (tmp_path / "hosts" / label / "pytest.log").exists()
    assert json.loads((tmp_path / "hosts" / "far" / "report.json").read_text())["host"]["libvirt_uri"] \
        == remote.tls_uri
    suites = etree.parse(str(tmp_path / "junit.xml")).getroot().findall("testsuite")
    assert [s.get("hostname") for s in suites] == ["local", "far"]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("certify[local]: CERTIFIED") and lines[1].startswith("certify[far]: CERTIFIED")
    assert "certify: FLEET CERTIFIED, level xml-only: 2/2 hosts certified" in done.stdout
    verify = subprocess.run([sys.executable, "-m", "conformance.cli", "verify-report",
                             str(tmp_path / "report.json")], capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0 and "2 host reports ok" in verify.stdout


def test_a_host_that_cannot_be_reached_is_named_and_the_fleet_not_certified(tmp_path):
    """A port nothing listens on: refused at once; the local host is unaffected."""
    done = certify(tmp_path, "--host", "qemu:///system", "--host", "gone=qemu+tcp://127.0.0.1:1/system")
    assert done.returncode == 1, done.stdout + done.stderr
    fleet = json.loads((tmp_path / "report.json").read_text())
    assert fleet["certification"]["hosts"] == {"local": "certified", "gone": "not certified"}
    reasons = {row["hosts"]["gone"]["reason"] for row in fleet["cases"]}
    assert all(r.startswith("xml: host gone (qemu+tcp://127.0.0.1:1/system) unreachable") for r in reasons)


def test_one_host_writes_the_single_host_report(tmp_path):
    done = certify(tmp_path, "--host", "only=qemu:///system")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert "kind" not in report and "label" not in report["host"] and not (tmp_path / "hosts").exists()
