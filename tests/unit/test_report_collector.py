"""The collector plugin in a real (xdist) pytest run: selection, per-item results, evidence."""

import json
import subprocess
import sys

from conformance.catalogue import CASES
from conformance.run.results import read_results
from conformance.report.selection import Selection
from support.collected_run import run_collected

PICKED = CASES[:4]

FAKE_SUITE = '''
import pytest
from conformance.catalogue import CASES


class FakeVerdict:
    def __init__(self, evidence):
        self.evidence = evidence


@pytest.mark.parametrize("case", CASES[:4], ids=lambda c: c.slug)
def test_case(case):
    verdict = FakeVerdict({"expected": "accepted", "observed": "<b>hostile</b>"})
    if case is CASES[1]:
        assert False, "driver produced 1 watchdog devices"
    if case is CASES[2]:
        pytest.skip("needs KVM")
    if case is CASES[3]:
        from conformance.errors import GuestError
        raise GuestError("dmesg exited 1")


def test_harness_self_check():
    pass
'''


def run_collector(tmp_path, selection: Selection, *extra):
    (tmp_path / "test_fake_catalogue.py").write_text(FAKE_SUITE)
    select, results = tmp_path / "select.json", tmp_path / "results.json"
    selection.save(str(select))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "conformance.report.collector", "-p", "no:cacheprovider",
         "--cfm-results", str(results), "--cfm-select", str(select), "--cfm-progress", "plain",
         "-q", str(tmp_path / "test_fake_catalogue.py"), *extra],
        cwd=tmp_path, capture_output=True, text=True, timeout=120)
    return done, read_results(results, done.returncode)


def test_collector_records_each_case_item_with_evidence(tmp_path):
    """Under xdist the controller records every case item (not harness self-tests), with the
    skip reason, and for the failure the evidence of the test's verdict."""
    done, data = run_collector(tmp_path, Selection(), "-n", "2")
    assert done.returncode == 1, done.stdout + done.stderr
    by_case = {e["cases"][0]: e for e in data["entries"]}
    assert set(by_case) == {c.id for c in PICKED}
    failed = by_case[PICKED[1].id]
    assert failed["outcome"] == "failed" and failed["level"] == "xml"
    assert "1 watchdog devices" in failed["detail"]
    assert failed["evidence"] == {"expected": "accepted", "observed": "<b>hostile</b>"}
    assert by_case[PICKED[2].id]["detail"] == "needs KVM"
    assert by_case[PICKED[3].id]["harness_error"] == "GuestError"
    assert by_case[PICKED[0].id]["evidence"] is None
    assert "items done" in done.stderr
    assert {e["cases"][0] for e in data["expected"]} == {c.id for c in PICKED}


def test_entries_are_streamed_so_a_killed_run_keeps_what_finished(tmp_path):
    """Each entry is one JSON line written at once; without the final exitstatus line (the
    run was killed) the entries are still read and the status is unknown (None)."""
    done, data = run_collector(tmp_path, Selection())
    lines = (tmp_path / "results.json").read_text().splitlines()
    assert json.loads(lines[-1]) == {"exitstatus": done.returncode}
    (tmp_path / "cut.jsonl").write_text("\n".join(lines[:2]) + '\n{"nodeid": "cut sh')
    cut = read_results(tmp_path / "cut.jsonl", -9)
    assert len(cut["entries"]) == 2 and cut["exitstatus"] is None


NA_SUITE = '''
import pytest
from conformance.catalogue import CASES
from conformance.live import NotApplicable, record


@pytest.mark.parametrize("case", CASES[:1], ids=lambda c: c.slug)
def test_case(case, request):
    with record.evidence_of(request.node):
        raise NotApplicable("64 B per 1000 ms cannot be measured within 30 s", {"rate": 64})
'''


def test_a_check_raising_not_applicable_is_recorded_as_na(tmp_path):
    done, results = run_collected(tmp_path, "test_na.py", NA_SUITE)
    assert done.returncode == 0, done.stdout + done.stderr
    [entry] = results["entries"]
    assert entry["outcome"] == "skipped"
    assert entry["not_applicable"] == "64 B per 1000 ms cannot be measured within 30 s"


def test_collector_deselects_what_the_selection_excludes(tmp_path):
    """Cases outside the selection, and harness self-tests, are deselected before running."""
    done, data = run_collector(tmp_path, Selection(ids=[PICKED[0].id, PICKED[2].id]))
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(e["cases"][0] for e in data["entries"]) == sorted([PICKED[0].id, PICKED[2].id])
    assert "deselected" in done.stdout
