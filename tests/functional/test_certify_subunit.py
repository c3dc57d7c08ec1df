"""`conformance certify` writes report.subunit beside report.json; python-subunit reads back
the same cases, levels and statuses."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import subunit
import testtools

pytestmark = pytest.mark.functional
TESTS = Path(__file__).resolve().parents[1]
STATUS = {"pass": "success", "fail": "fail", "error": "fail", "skip": "skip", "not-run": "skip"}


def test_certify_writes_a_subunit_stream_matching_report_json(tmp_path):
    """A failing exec driver at level xml: every case of report.json is in the stream with
    its status, and subunit-stats counts the same."""
    driver = f"exec:{sys.executable} -m conformance.cli driver-exec broken_drivers.rng_drops_rate:driver"
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "certify", "--driver", driver,
                           "--level", "xml", "--feature", "rng", "--output-dir", str(tmp_path),
                           "--no-progress"], capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, PYTHONPATH=str(TESTS)))
    assert done.returncode == 1, done.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    found = {}
    result = testtools.StreamToDict(lambda test: found.__setitem__(test["id"], test["status"]))
    result.startTestRun()
    with open(tmp_path / "report.subunit", "rb") as stream:
        subunit.ByteStreamToStreamResult(stream).run(result)
    result.stopTestRun()
    want = {f"{c['feature']}.{c['name']}[{level}] id-{c['id']}": STATUS[r["status"]]
            for c in report["cases"] for level, r in c["levels"].items() if r["status"] != "n/a"}
    assert found == want and "fail" in found.values() and "success" in found.values()
    stats = subprocess.run([str(Path(sys.executable).parent / "subunit-stats")],
                           stdin=open(tmp_path / "report.subunit", "rb"), capture_output=True,
                           text=True, timeout=60)
    counts = dict(re.findall(r"^(\w+) tests:\s+(\d+)$", stats.stdout, re.M))
    assert int(counts["Total"]) == report["summary"]["total"]  # level xml: one test per case
    assert int(counts["Failed"]) == report["summary"]["fail"] + report["summary"]["error"]
