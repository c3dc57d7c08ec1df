"""`conformance certify` of a driver broken after each lifecycle operation: the persistence
rules judge the driver's own answers, so each case fails at host and at guest level, with
the rule in the reason of all four reports (the sandbox's ``uuid``/``name`` rules, the
domain that did not change where the operation changes a feature)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.functional, pytest.mark.slow]
TESTS = Path(__file__).resolve().parents[1]
# one case per operation, each with a host and a guest check: id -> what its levels name
CASES = {
    "4e4f2994": "unsafe domain XML refused (uuid): <uuid>",               # reboot: another uuid
    "042437f1": "unsafe domain XML refused (uuid): <sysinfo> system uuid",  # stop/start
    "865c7d68": "unsafe domain XML refused (name)",                       # resize: another name
    "36d97736": "watchdog",                                               # rebuild: ignored
}


def test_each_operations_persistence_fails_at_host_and_guest(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(TESTS))
    case_args = [arg for case in CASES for arg in ("--case", case)]
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "certify", "--driver",
                           "broken_drivers.lifecycle_each_operation:driver", "--output-dir",
                           str(tmp_path), "--no-progress", *case_args],
                          capture_output=True, text=True, timeout=900, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    by_id = {c["id"][:8]: c for c in report["cases"]}
    assert set(by_id) == set(CASES)
    for prefix, named in CASES.items():
        levels = by_id[prefix]["levels"]
        assert levels["xml"]["status"] == "fail"
        for level in ("host", "guest"):
            assert levels[level]["status"] == "fail", (prefix, level, levels[level]["reason"])
            assert named in levels[level]["reason"], (prefix, level, levels[level]["reason"])
    rebuild = by_id["36d97736"]["levels"]["host"]["reason"]
    assert "the driver's domain after the rebuild" in rebuild
    junit = (tmp_path / "junit.xml").read_text()
    assert junit.count("<failure") == 3 * len(CASES) and "<error" not in junit
    assert "unsafe domain XML refused (uuid)" in (tmp_path / "report.html").read_text()
    assert CASES["4e4f2994"].encode() in (tmp_path / "report.subunit").read_bytes()
