"""``conformance merge``: single-host reports made apart become the fleet report that
``certify --host`` writes (same builder, schema and verdict rules); bad input is refused
with a named reason."""

import json
import subprocess
import sys

import pytest

from conformance import merge
from conformance.report import writers
from fleet_fakes import fleet_of, two_hosts


def write_hosts(tmp_path, reports: dict, labelled: bool = True) -> list:
    dirs = []
    for label, report in reports.items():
        if not labelled:
            report = dict(report, host={k: v for k, v in report["host"].items() if k != "label"})
            report.pop("digest")
            report = writers.finish(report)
        where = tmp_path / f"job-{label}"
        where.mkdir()
        writers.write_json(report, where / "report.json")
        (where / "junit.xml").write_text("<testsuite/>")
        dirs.append(where)
    return dirs


def test_merge_gives_the_fleet_certify_would_write(tmp_path):
    reports = two_hosts()
    dirs = write_hosts(tmp_path, reports)
    fleet = merge.merge(tmp_path / "out", [(None, d) for d in dirs])
    expected = fleet_of(reports)
    assert fleet["certification"] == expected["certification"]
    assert fleet["cases"] == expected["cases"] and fleet["differences"] == expected["differences"]
    assert [h["label"] for h in fleet["hosts"]] == ["h1", "h2"]
    for name in ("report.json", "junit.xml", "report.html", "report.subunit"):
        assert (tmp_path / "out" / name).is_file()
    assert (tmp_path / "out" / "hosts" / "h2" / "junit.xml").is_file()
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "verify-report",
                           str(tmp_path / "out" / "report.json")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_unlabelled_reports_take_the_given_name_or_their_directorys(tmp_path):
    dirs = write_hosts(tmp_path, two_hosts(), labelled=False)
    fleet = merge.merge(tmp_path / "out", [("first", dirs[0]), (None, dirs[1])])
    assert [h["label"] for h in fleet["hosts"]] == ["first", "job-h2"]


def test_command_exit_status_is_the_fleet_verdict(tmp_path):
    dirs = write_hosts(tmp_path, two_hosts())
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "merge", str(tmp_path / "out"),
                           *map(str, dirs)], capture_output=True, text=True, timeout=60)
    fleet = json.loads((tmp_path / "out" / "report.json").read_text())
    assert done.returncode == (0 if fleet["certification"]["verdict"] == "certified" else 1)
    assert fleet["summary"]["headline"] in done.stdout


@pytest.mark.parametrize("spoil, message", [
    (lambda r: r["cases"][0].update(verdict="pass", reason="edited"), "TAMPERED"),
    (lambda r: r.update(kind="fleet"), "not a single-host report"),
])
def test_tampered_or_foreign_reports_are_refused(tmp_path, spoil, message):
    dirs = write_hosts(tmp_path, two_hosts())
    report = json.loads((dirs[1] / "report.json").read_text())
    spoil(report)
    (dirs[1] / "report.json").write_text(json.dumps(report))
    with pytest.raises(merge.MergeError, match=message):
        merge.merge(tmp_path / "out", [(None, d) for d in dirs])


def test_same_host_twice_different_drivers_and_bad_names_are_refused(tmp_path):
    dirs = write_hosts(tmp_path, two_hosts())
    with pytest.raises(merge.MergeError, match="two reports for host h1"):
        merge.merge(tmp_path / "out", [(None, dirs[0]), (None, dirs[0])])
    with pytest.raises(merge.MergeError, match="no host name"):
        merge.merge(tmp_path / "out", [("../escape", dirs[0])])
    other = json.loads((dirs[1] / "report.json").read_text())
    other["driver"] = "exec:other"
    other.pop("digest")
    writers.write_json(writers.finish(other), dirs[1] / "report.json")
    with pytest.raises(merge.MergeError, match="different drivers"):
        merge.merge(tmp_path / "out", [(None, d) for d in dirs])
