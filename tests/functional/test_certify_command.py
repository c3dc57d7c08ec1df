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


BROKEN = TESTS / "broken_drivers"


@pytest.mark.slow
def test_a_hung_driver_is_named_once_and_every_case_errors(tmp_path):
    """An exec driver that never answers: after a few timeouts in a row it is declared hung
    and every later request errors at once, so the certification ends in minutes (each of
    the catalogue's requests waiting out its deadline took hours), every case an error
    naming the hang (nothing was judged: not a failure)."""
    config = tmp_path / "conformance.conf"
    config.write_text("[timeouts]\nexec_driver = 5\n")
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "certify", "--driver",
                           f"exec:{sys.executable} {BROKEN / 'exec_hang.py'}", "--config", str(config),
                           "--output-dir", str(out), "--no-progress"],
                          capture_output=True, text=True, timeout=300, env=dict(os.environ))
    report = json.loads((out / "report.json").read_text())
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert report["summary"]["total"] == report["summary"]["error"] > 100
    for case in report["cases"]:
        assert "is hung: 3 requests in a row got no answer within 5 s" in case["reason"], case


@pytest.mark.slow
def test_an_agent_channel_dropped_on_reboot_fails_at_host_level_without_a_wait(tmp_path):
    """A driver that drops the agent channel when it regenerates the domain for a reboot:
    no guest waits for an agent that cannot connect (180 s each), and the missing channel
    fails the reboot cases at host and guest level (the driver's failure, not an error)."""
    done, report = certify(tmp_path, "broken_drivers.agent_dropped_on_reboot:driver",
                           "--regex", "reboot")
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    booted = [c for c in report["cases"] if c["levels"]["host"]["status"] not in ("n/a", "skip")]
    assert len(booted) >= 5  # the others: nothing to boot, or a locked-memory guest this host cannot start
    for case in booted:
        assert case["verdict"] == "fail", case
        for level in ("host", "guest"):
            entry = case["levels"][level]
            if entry["status"] == "skip":
                continue
            assert entry["status"] == "fail", (level, case)
            assert "org.qemu.guest_agent.0" in entry["reason"], (level, case)
    assert "agent not connected" not in json.dumps(report)
