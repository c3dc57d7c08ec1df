"""``conformance merge`` of two single-host certifications (as two CI jobs would make them)
gives the same fleet verdict and case x host matrix as ``certify --host A --host B`` on the
same hosts: this machine and a namespace test host over qemu+ssh, at full level, on two
cases that share one guest."""

import json
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.functional, pytest.mark.slow, pytest.mark.exclusive]
CASES = ("a81c5eb3", "9a191045")  # agent/yes, watchdog/unset: one guest per host


def conformance(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "conformance.cli", *args],
                          capture_output=True, text=True, timeout=900)


def certify(out, *hosts: str) -> subprocess.CompletedProcess:
    cases = [arg for case in CASES for arg in ("--case", case)]
    return conformance("certify", *cases, "--output-dir", str(out), "--no-progress", "--parallel", "1",
                       "--parallel-per-host", "1", *hosts)


def matrix(fleet: dict) -> dict:
    return {(row["id"], label): (cell["verdict"], cell["level_reached"])
            for row in fleet["cases"] for label, cell in row["hosts"].items()}


def test_merge_equals_certify_with_two_hosts(tmp_path, namespace_hosts):
    [remote] = namespace_hosts(1)
    hosts = {"local": "qemu:///system", "far": remote.ssh_uri}
    together = certify(tmp_path / "together", *(f"--host={label}={uri}" for label, uri in hosts.items()))
    assert together.returncode in (0, 1), together.stdout + together.stderr
    for label, uri in hosts.items():  # one job per host, each a single-host certification
        alone = certify(tmp_path / label, f"--host={uri}")
        assert alone.returncode in (0, 1), alone.stdout + alone.stderr
    merged = conformance("merge", str(tmp_path / "merged"),
                         *(f"{label}={tmp_path / label}" for label in hosts))
    assert merged.returncode == together.returncode, merged.stdout + merged.stderr
    want = json.loads((tmp_path / "together" / "report.json").read_text())
    got = json.loads((tmp_path / "merged" / "report.json").read_text())
    assert got["kind"] == "fleet" and got["mode"] == want["mode"] == "replicate"
    for key in ("verdict", "level", "hosts"):
        assert got["certification"][key] == want["certification"][key], key
    assert matrix(got) == matrix(want) and len(matrix(got)) == 2 * len(CASES)
    assert [h["label"] for h in got["hosts"]] == list(hosts)
    assert {d["what"] for d in got["differences"]} == {d["what"] for d in want["differences"]}
    verify = conformance("verify-report", str(tmp_path / "merged" / "report.json"))
    assert verify.returncode == 0, verify.stdout + verify.stderr
