"""A driver whose every answer is refused (not XML, a DOCTYPE, over the size cap) is
certified at full level without a crash: each case fails at every level with a fault of the
driver as its reason, its own (e.g. not-xml) on the cases the reference accepts (its live
tests have no guest to boot, so they are absent), in every exec mode."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.functional]
BROKEN = Path(__file__).resolve().parents[1] / "broken_drivers"


@pytest.mark.parametrize("mode, script, kind", [
    ("exec", "exec_junk.py", "not-xml"),
    ("exec-stream", "exec_junk.py", "not-xml"),
    ("exec2-stream", "exec_doctype.py", "unsafe"),
    ("exec2", "exec_huge_xml.py", "bad-output"),  # over the output size cap
])
def test_every_case_carries_the_drivers_fault(tmp_path, mode, script, kind):
    driver = f"{mode}:{sys.executable} {BROKEN / script}"
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "certify", "--driver", driver,
                           "--feature", "watchdog", "--no-progress",
                           "--parallel", "1", "--output-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=600, env=dict(os.environ))
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["pytest_exitstatus"] == 1 and report["certification"]["problem"] is None
    assert "status" not in report["summary"]["headline"]
    create = [c for c in report["cases"] if c["operation"] == "create"]
    assert create
    for case in report["cases"]:
        assert case["verdict"] == "fail", case
        for level in ("xml", "host", "guest"):
            entry = case["levels"][level]
            if entry["status"] == "n/a":  # the reference rejects it: nothing to boot
                continue
            assert entry["status"] == "fail", (level, case)
            assert "driver fault (" in entry["reason"], (level, entry["reason"])
    # its own fault (a script that builds with the reference crashes where it rejects)
    assert any(f"driver fault ({kind})" in c["levels"]["host"]["reason"] for c in create)
