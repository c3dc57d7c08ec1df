"""report.subunit: read back with python-subunit's own parser and its console scripts, it
holds every case, level and status of report.json and agrees with junit.xml."""

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
import subunit
import testtools
from lxml import etree

from conformance.catalogue import CASES
from conformance.report import subunit_stream, writers
from conformance.report.aggregate import aggregate
from report_fakes import entry, report_of

BIN = Path(sys.executable).parent
A, B, C, D, E = CASES[0], CASES[1], CASES[30], CASES[60], CASES[90]
HOSTILE = "E   assert 1 == 2\x00\x1b[31m <failure/> é"


def _report(interrupted: bool = False) -> dict:
    """Every status: pass, fail (with evidence), error, skip, n/a, and not-run when interrupted."""
    entries = [
        entry("xml", cases=[A.id]), entry("host", cases=[A.id]), entry("guest", cases=[A.id]),
        entry("xml", "failed", cases=[B.id], detail=HOSTILE, evidence={"xml": "<rng/>"}),
        entry("host", "skipped", cases=[B.id], detail="needs KVM"), entry("guest", cases=[B.id]),
        entry("xml", "failed", when="setup", cases=[C.id], detail="driver crashed"),
        entry("xml", cases=[D.id]), entry("host", "skipped", cases=[D.id], detail="needs RLIMIT_MEMLOCK"),
        entry("xml", cases=[E.id]),
    ]
    planned = {D.id: {"guest": "no guest-visible effect"}, E.id: "the reference rejects it"}
    expected = [{"nodeid": "t::never", "cases": [C.id], "level": "host"}]
    results = aggregate(entries, [A, B, C, D, E], planned, interrupted=interrupted, expected=expected)
    return report_of(results)


def _text(content) -> str:
    return b"".join(content.iter_bytes()).decode("utf-8")


def _read(path: Path) -> dict:
    """test id -> StreamToDict's record (status, tags, details), parsed by subunit itself."""
    found = {}
    result = testtools.StreamToDict(lambda test: found.__setitem__(test["id"], test))
    result.startTestRun()
    with open(path, "rb") as stream:
        subunit.ByteStreamToStreamResult(stream, non_subunit_name="stdout").run(result)
    result.stopTestRun()
    return found


@pytest.fixture(params=[False, True], ids=["finished", "interrupted"])
def written(request, tmp_path):
    report = _report(interrupted=request.param)
    writers.write_junit(report, tmp_path / "junit.xml")
    subunit_stream.write_subunit(report, tmp_path / "report.subunit")
    return report, tmp_path


def test_every_case_level_and_status_round_trips(written):
    """Parsed back, the stream has exactly the non-n/a levels, each with its mapped status,
    its tags and its reason/evidence attachments."""
    report, out = written
    tests = _read(out / "report.subunit")
    want = {}
    for case in report["cases"]:
        for level, record in case["levels"].items():
            if record["status"] != "n/a":
                want[f"{case['feature']}.{case['name']}[{level}] id-{case['id']}"] = (case, level, record)
    assert set(tests) == set(want)
    assert {r["status"] for _, _, r in want.values()} >= {"pass", "fail", "error", "skip"}
    for test_id, (case, level, record) in want.items():
        got = tests[test_id]
        assert got["status"] == subunit_stream.STATUS[record["status"]], test_id
        assert got["tags"] == {f"feature:{case['feature']}", "operation:create", f"level:{level}",
                               f"status:{record['status']}"}
        details = {name: _text(content) for name, content in got["details"].items()}
        if record["status"] == "pass":
            assert "reason" not in details and "error" not in details
        else:
            name = "error" if record["status"] == "error" else "reason"
            assert details[name] == record["reason"]
        if record["status"] in ("fail", "error") and record["evidence"] is not None:
            assert '"<rng/>"' in details["evidence"]


def test_not_run_levels_are_skips_with_the_interruption_reason(written):
    """An interrupted run's unreported checks are skips (as in junit.xml), tagged not-run."""
    report, out = written
    tests = _read(out / "report.subunit")
    not_run = [t for t in tests.values() if "status:not-run" in t["tags"]]
    interrupted = report["cases"][2]["levels"]["host"]["status"] == "not-run"
    assert bool(not_run) == interrupted
    for test in not_run:
        assert test["status"] == "skip"
        assert _text(test["details"]["reason"]).startswith("not run: the run was interrupted")


def test_ids_are_junit_classname_dot_name(written):
    """Test ids are junit.xml's classname + '.' + name, one for one."""
    report, out = written
    junit = etree.parse(str(out / "junit.xml")).getroot()
    names = {f"{t.get('classname')}.{t.get('name')}" for t in junit.iter("testcase")}
    assert names == set(_read(out / "report.subunit"))


def _stats(path: Path) -> dict:
    done = subprocess.run([str(BIN / "subunit-stats")], stdin=open(path, "rb"), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode in (0, 1), done.stderr  # 1: the stream has failures
    return {k.lower(): int(v) for k, v in re.findall(r"^(\w+) tests:\s+(\d+)$", done.stdout, re.M)}


def test_subunit_stats_agrees_with_report_json(written):
    """subunit-stats counts what report.json says per level (errors count as failures)."""
    report, out = written
    levels = [r["status"] for c in report["cases"] for r in c["levels"].values() if r["status"] != "n/a"]
    stats = _stats(out / "report.subunit")
    assert stats == {"total": len(levels), "passed": levels.count("pass"),
                     "failed": levels.count("fail") + levels.count("error"),
                     "skipped": levels.count("skip") + levels.count("not-run")}


def test_subunit2junitxml_agrees_with_our_junit(written):
    """subunit2junitxml's counts equal junit.xml's (its failures = our failures + errors)."""
    _, out = written
    done = subprocess.run([str(BIN / "subunit2junitxml")], stdin=open(out / "report.subunit", "rb"),
                          capture_output=True, timeout=60)
    assert done.returncode in (0, 1), done.stderr
    theirs = etree.fromstring(done.stdout)
    ours = etree.parse(str(out / "junit.xml")).getroot()
    assert int(theirs.get("tests")) == int(ours.get("tests")) == len(ours.findall("testcase"))
    assert int(theirs.get("failures")) + int(theirs.get("errors")) == \
        int(ours.get("failures")) + int(ours.get("errors"))
    assert int(theirs.get("failures")) == int(ours.get("failures")) + int(ours.get("errors"))
    assert int(theirs.get("skipped", len(theirs.findall("testcase/skipped")))) == int(ours.get("skipped"))
    assert {f"{t.get('classname')}.{t.get('name')}" for t in theirs.iter("testcase")} == \
        {f"{t.get('classname')}.{t.get('name')}" for t in ours.iter("testcase")}


def test_operation_tag_follows_the_case(tmp_path):
    """A case that names its operation (lifecycle cases) is tagged with it."""
    report = _report()
    report["cases"][0]["operation"] = "resize"
    subunit_stream.write_subunit(report, tmp_path / "report.subunit")
    first = [t["tags"] for k, t in _read(tmp_path / "report.subunit").items()
             if k.endswith(report["cases"][0]["id"])]
    assert len(first) == 3 and all("operation:resize" in tags for tags in first)


def test_large_attachments_are_chunked(tmp_path):
    """A reason longer than one packet's chunk comes back whole."""
    report = _report()
    big = "x" * (3 * subunit_stream.CHUNK + 5)
    report["cases"][1]["levels"]["xml"]["reason"] = big
    subunit_stream.write_subunit(report, tmp_path / "report.subunit")
    found = [t for t in _read(tmp_path / "report.subunit").values() if t["status"] == "fail"
             and "reason" in t["details"]]
    assert any(_text(t["details"]["reason"]) == big for t in found)


def test_stream_is_pure_subunit(tmp_path):
    """No byte outside subunit packets (a non-subunit chunk would show as 'stdout')."""
    subunit_stream.write_subunit(_report(), tmp_path / "report.subunit")
    seen = io.StringIO()
    result = testtools.StreamToDict(lambda test: seen.write(test["id"] + "\n"))
    result.startTestRun()
    with open(tmp_path / "report.subunit", "rb") as stream:
        subunit.ByteStreamToStreamResult(stream, non_subunit_name="stdout").run(result)
    result.stopTestRun()
    assert "stdout" not in seen.getvalue() and seen.getvalue().count("\n") >= 10
