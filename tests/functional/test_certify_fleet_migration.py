"""Cold migration, evacuation and live migration certified live between two hosts of a run:
``certify --host qemu:///system --host far=<namespace test host over qemu+ssh>`` on the
watchdog cases of the three operations (every guest moves to the other host: this machine's
to the namespace host, the namespace host's to this machine), and the same cases on one host
say that the operations need two."""

import json
import re
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.functional, pytest.mark.slow, pytest.mark.exclusive]
SELECT = ("--feature", "watchdog", "--regex", "migrate|evacuate")


def certify(out, *hosts: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance.cli", "certify", *SELECT,
                           "--output-dir", str(out), "--no-progress", "--parallel-per-host", "1",
                           *hosts], capture_output=True, text=True, timeout=900)


def test_two_hosts_move_every_guest_to_the_other(tmp_path, namespace_hosts):
    [remote] = namespace_hosts(1)
    done = certify(tmp_path, "--host", "qemu:///system", "--host", f"far={remote.ssh_uri}")
    assert done.returncode == 0, done.stdout + done.stderr
    other = {"local": remote.ssh_uri, "far": "qemu:///system"}
    for label in ("local", "far"):
        report = json.loads((tmp_path / "hosts" / label / "report.json").read_text())
        assert report["summary"]["pass"] == report["summary"]["total"] == 4, report["summary"]
        assert set(report["operations"]) == {"live_migrate", "cold_migrate", "evacuate"}
        for case in report["cases"]:
            text = json.dumps(case)
            assert case["levels"]["guest"]["status"] == "pass", case
            # the running domain after the operation is on the other host
            assert set(re.findall(r'"libvirt_uri": "([^"]*)"', text)) == {other[label]}, case["name"]
    assert remote.leftovers() == []


def test_one_host_says_the_operations_need_two(tmp_path):
    done = certify(tmp_path, "--host", "qemu:///system")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    for case in report["cases"]:
        host = case["levels"]["host"]
        assert host["status"] == "n/a" and host["reason"] == f"{case['operation']} needs two hosts; this run had one"
    assert ("cold_migrate, evacuate, live_migrate need two hosts, this run had one: 4 cases at level "
            "xml only") in report["certification"]["headline"]


def test_a_lost_destination_is_that_hosts_error_never_the_drivers_failure(tmp_path):
    """The other host does not answer (a port nothing listens on): this machine's migration
    cases error naming it; no case fails."""
    gone = "qemu+tcp://127.0.0.1:1/system"
    done = certify(tmp_path, "--host", "qemu:///system", "--host", f"gone={gone}")
    assert done.returncode == 1, done.stdout + done.stderr
    local = json.loads((tmp_path / "hosts" / "local" / "report.json").read_text())
    assert local["summary"]["fail"] == 0 and local["summary"]["error"] == 4, local["summary"]
    for case in local["cases"]:
        assert case["verdict"] == "error" and gone in json.dumps(case), case
