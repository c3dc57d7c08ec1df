"""certify runs every test module that verifies catalogue cases (none is forgotten: the
locked-memory prediction once was, so a wrong prediction became a silent skip)."""

import json
import subprocess
import sys
from pathlib import Path

from conformance.run import child as certify
from conformance.catalogue import CASES
from conformance.live import plan

REPO = Path(__file__).resolve().parents[2]


def test_every_module_covering_catalogue_cases_is_run_by_certify(tmp_path):
    results = tmp_path / "results.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--co", "-q", "-p", "conformance.report.collector",
         "-p", "no:cacheprovider", "--cfm-results", str(results), "tests/conformance"],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    covering = {item["nodeid"].split("::")[0].rsplit("/", 1)[-1]
                for item in json.loads(Path(f"{results}.expected").read_text())}
    assert "test_live_locked_memory.py" in covering
    assert covering <= set(certify.XML_TESTS + certify.LIVE_TESTS), covering


def test_locked_memory_guest_level_has_no_check_so_it_is_na_not_skip():
    """No guest-visible effect: the plan says n/a (with the reason), so [features]
    locked_memory = true cannot fail it whatever the driver does."""
    locked = next(c for c in CASES if c.feature == "locked_memory" and plan.reference_boots(c))
    levels = plan.no_check_levels(locked)
    assert set(levels) == {"guest"} and "no guest-visible effect" in levels["guest"]
    assert "locked_memory" not in plan.GUEST_CHECKS
