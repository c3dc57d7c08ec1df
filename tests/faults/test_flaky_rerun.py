"""certify --rerun-failures on real guests: a guest-level check made to fail once (a pytest
plugin in certify's children, tests/faults/fail_once.py) passes on its rerun, so the case is
``flaky``, never ``pass``: the headline says so, every attempt is kept with its artefacts, and
the default configuration ([run] flaky_is_failure = true) does not certify."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.catalogue import ALL_CASES
from support.artifact_links import assert_artifacts_everywhere

TESTS = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.functional, pytest.mark.slow]
CASE = next(c for c in ALL_CASES if (c.feature, c.name) == ("agent", "yes"))  # no timing in its checks


def test_a_check_failing_once_is_flaky_and_does_not_certify(tmp_path):
    out = tmp_path / "out"
    marker = tmp_path / "failed-once"
    path = os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, PYTHONPATH=path, PYTEST_PLUGINS="faults.fail_once", CFM_FAIL_ONCE_CASE=CASE.id,
               CFM_FAIL_ONCE_LEVEL="guest", CFM_FAIL_ONCE_MARKER=str(marker))
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "certify", "--case", CASE.id,
                           "--parallel", "1", "--rerun-failures", "2", "--output-dir", str(out),
                           "--no-progress"], capture_output=True, text=True, timeout=900, env=env)
    assert marker.exists(), "the fault was never injected:\n" + done.stdout[-3000:] + done.stderr[-3000:]
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    cert = report["certification"]
    assert cert["verdict"] == "not certified" and cert["flaky"] == 1 and cert["flaky_is_failure"] is True
    assert "flaky" in cert["headline"] and "flaky" in done.stdout, (cert["headline"], done.stdout[-2000:])
    [case] = report["cases"]
    assert case["verdict"] == "flaky", (case["verdict"], case["reason"])
    assert case["levels"]["guest"]["status"] == "flaky" and case["levels"]["host"]["status"] == "pass"
    attempts = case["attempts"]  # a real flake of a loaded machine may come first: reruns go on
    injected = [a for a in attempts if "injected fault" in a["levels"]["guest"]["reason"]]
    assert [a["levels"]["guest"]["status"] for a in injected] == ["fail"], attempts
    assert attempts[-1]["verdict"] == "pass" and attempts[-1]["attempt"] > injected[0]["attempt"], attempts
    assert (out / "attempts" / str(attempts[-1]["attempt"]) / "pytest.log").is_file()
    kept = [a for a in case["levels"]["guest"]["artifacts"] if "path" in a]
    assert {a["name"] for a in kept} >= {"console.log", "qemu.log", "booted-create.xml"}, kept
    first = dict(case, levels={"guest": dict(case["levels"]["guest"], status="fail")})
    assert_artifacts_everywhere(out, first)  # the failed attempt's files, linked from all four reports
    [test] = [t for t in _junit_cases(out) if t.get("name").startswith(f"{CASE.name}[guest]")]
    assert test.find("failure") is not None and "flaky" in test.find("failure").get("message", "")


def _junit_cases(out: Path):
    from lxml import etree
    return list(etree.parse(str(out / "junit.xml")).getroot().iter("testcase"))


def test_a_level_1_check_failing_once_is_flaky_too(tmp_path):
    """The same at level xml (no guest): each rerun gets a pytest child and temp dir of its own."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])),
               PYTEST_PLUGINS="faults.fail_once", CFM_FAIL_ONCE_CASE=CASE.id, CFM_FAIL_ONCE_LEVEL="xml",
               CFM_FAIL_ONCE_MARKER=str(tmp_path / "failed-once"))
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "certify", "--case", CASE.id, "--level", "xml",
                           "--rerun-failures", "1", "--output-dir", str(tmp_path / "out"), "--no-progress"],
                          capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 1 and "1 flaky" in done.stdout, done.stdout[-3000:] + done.stderr[-3000:]
    [case] = json.loads((tmp_path / "out" / "report.json").read_text())["cases"]
    assert case["verdict"] == "flaky" and [a["verdict"] for a in case["attempts"]] == ["fail", "pass"]

