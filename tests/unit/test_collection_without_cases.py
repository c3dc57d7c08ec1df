"""A live test with no case to run is absent from the collection, never a crash: a
protocol-1 driver has no lifecycle item, a driver whose every answer is refused no guest
item; each remaining item still names the cases it covers."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"


def collect(tmp_path, driver: str) -> tuple[subprocess.CompletedProcess, list[dict]]:
    results = tmp_path / "results.jsonl"
    env = dict(os.environ, PYTHONPATH=str(TESTS))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--co", "-q", "-p", "conformance.report.collector",
         "-p", "no:cacheprovider", "--cfm-results", str(results), "--driver", driver,
         "tests/conformance/test_xml_catalogue.py", "tests/conformance/test_live_requests.py",
         "tests/conformance/test_live_features.py", "tests/conformance/test_live_lifecycle.py",
         "tests/conformance/test_live_locked_memory.py"],
        cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    expected = results.with_name("results.jsonl.expected")
    return done, json.loads(expected.read_text()) if expected.exists() else []


def test_protocol_1_driver_has_no_lifecycle_items(tmp_path):
    done, items = collect(tmp_path, "broken_drivers.create_only:driver")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "INTERNALERROR" not in done.stdout + done.stderr
    assert "NOTSET" not in done.stdout
    modules = {item["nodeid"].split("::")[0].rsplit("/", 1)[-1] for item in items}
    assert "test_live_lifecycle.py" not in modules
    assert {"test_xml_catalogue.py", "test_live_features.py", "test_live_requests.py"} <= modules


@pytest.mark.parametrize("script", ["exec_junk.py", "exec_doctype.py"])
def test_driver_refused_everywhere_has_no_guest_items(tmp_path, script):
    """Every answer unparseable (or unsafe): no guest group, so no guest item; the xml and
    live-request items remain (they carry the driver's fault)."""
    done, items = collect(tmp_path, f"exec2-stream:{sys.executable} {TESTS / 'broken_drivers' / script}")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "NOTSET" not in done.stdout
    modules = {item["nodeid"].split("::")[0].rsplit("/", 1)[-1] for item in items}
    assert modules == {"test_xml_catalogue.py", "test_live_requests.py"}
