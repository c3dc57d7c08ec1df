"""`conformance certify` end to end: a broken exec driver fails with named cases and evidence."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.functional
TESTS = Path(__file__).resolve().parents[1]


def certify(tmp_path, driver, *extra):
    env = dict(os.environ, PYTHONPATH=str(TESTS))
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "certify", "--driver", driver,
                           "--output-dir", str(tmp_path), "--no-progress", *extra],
                          capture_output=True, text=True, timeout=600, env=env)
    return done, json.loads((tmp_path / "report.json").read_text())


def test_broken_exec_driver_is_not_certified(tmp_path):
    """An exec driver that drops <rate> fails exactly the rate cases, with evidence in all reports."""
    driver = f"exec:{sys.executable} -m conformance.cli driver-exec broken_drivers.rng_drops_rate:driver"
    done, report = certify(tmp_path, driver, "--level", "xml", "--feature", "rng")
    assert done.returncode == 1, done.stderr
    failed = [c for c in report["cases"] if c["verdict"] == "fail"]
    assert failed and all("rate" in c["name"] for c in failed)
    assert all(c["levels"]["xml"]["reason"] for c in failed)
    assert "FAIL" in done.stdout and failed[0]["id"] in done.stdout
    assert f"id-{failed[0]['id']}" in (tmp_path / "junit.xml").read_text()
    assert failed[0]["name"] in (tmp_path / "report.html").read_text()
    verify = subprocess.run([sys.executable, "-m", "conformance.cli", "verify-report",
                             str(tmp_path / "report.json")], capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0


def test_reference_is_certified_at_xml_level(tmp_path):
    """The reference passes every selected case; exit code 0 and a valid digest."""
    done, report = certify(tmp_path, "reference", "--level", "xml", "--feature", "watchdog")
    assert done.returncode == 0, done.stdout + done.stderr
    assert report["summary"]["fail"] == report["summary"]["error"] == 0
    assert report["summary"]["pass"] == report["summary"]["total"] > 15
