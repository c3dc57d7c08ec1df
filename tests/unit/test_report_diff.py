"""conformance diff: changes per case and level, regressions, the html page, fleets."""

import json
import subprocess
import sys

import pytest
from lxml import html

from conformance.report import diff, diff_html, writers
from conformance.report.aggregate import aggregate
from conformance.report.digest import digest
from fleet_fakes import fleet_of, two_hosts
from report_fakes import CASE, OTHER, entry, report_of
from test_merge import write_hosts


def results(guest="passed", artifacts=None):
    extra = {"artifacts": artifacts} if artifacts else {}
    return aggregate([entry("xml"), entry("host"), entry("guest", guest, detail="console says no", **extra),
                      entry("xml", cases=(OTHER.id,)), entry("host", cases=(OTHER.id,)),
                      entry("guest", cases=(OTHER.id,))],
                     [CASE, OTHER])


def write(tmp_path, name, report) -> str:
    where = tmp_path / name
    where.mkdir()
    writers.write_json(report, where / "report.json")
    return str(where)


def cli(*args):
    return subprocess.run([sys.executable, "-m", "conformance.cli", "diff", *map(str, args)],
                          capture_output=True, text=True, timeout=60)


def test_a_new_failure_is_named_exactly_and_is_a_regression(tmp_path):
    kept = [{"name": "console.log", "what": "console", "path": "artifacts/main-1-guest/console.log", "bytes": 3}]
    old = write(tmp_path, "old", report_of(results()))
    new = write(tmp_path, "new", report_of(results(guest="failed", artifacts=kept)))
    (tmp_path / "new" / "artifacts" / "main-1-guest").mkdir(parents=True)
    (tmp_path / "new" / "artifacts" / "main-1-guest" / "console.log").write_text("oops")
    done = cli(old, new)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"new failure (1 case(s)):\n  {CASE.feature}/{CASE.name} [guest] id-{CASE.id}: pass -> fail" in done.stdout
    assert OTHER.id not in done.stdout and "REGRESSION: 1 case(s)" in done.stdout
    page = html.parse(str(tmp_path / "new" / "diff.html")).getroot()
    assert page.get_element_by_id("verdict").get("data-regressions") == "1"
    hrefs = [a.get("href") for a in page.iter("a")]
    assert "artifacts/main-1-guest/console.log" in hrefs and f"report.html#case-{CASE.id}" in hrefs
    assert f"../old/report.html#case-{CASE.id}" in hrefs
    back = cli(new, old, "--html", "")
    assert back.returncode == 0 and "fixed (1 case(s))" in back.stdout and "no regression" in back.stdout


def test_flaky_and_skips_are_told_apart_and_strict_makes_them_regressions():
    old = diff.Side(None, "single", "d", "certified", {"c": ("f/n", "pass", {"guest": ("pass", "", []),
                                                                               "host": ("pass", "", [])})})
    new = diff.Side(None, "single", "d", "not certified", {"c": ("f/n", "flaky", {"guest": ("flaky", "x", []),
                                                                                    "host": ("skip", "y", [])})})
    changes = diff.compare(old, new)
    assert [(c.level, c.kind) for c in changes] == [("guest", "flaky"), ("host", "skip appeared")]
    assert diff.regressions(changes) == [] and len(diff.regressions(changes, strict=True)) == 2
    assert diff.classify("fail", "error") == "changed" and diff.classify("skip", "pass") == "skip gone"
    assert diff.classify("pass", "not-run") == "changed" and diff.classify("pass", "pass") is None


def test_cases_only_one_report_has(tmp_path):
    old = diff.Side(None, "single", "d", "c", {"a": ("f/a", "pass", {}), "b": ("f/b", "pass", {})})
    new = diff.Side(None, "single", "d", "c", {"b": ("f/b", "pass", {}),
                                               "c": ("f/c", "fail", {"guest": ("fail", "why", ["artifacts/x/y"])})})
    kinds = {(c.case, c.kind) for c in diff.compare(old, new)}
    assert kinds == {("a", "removed"), ("c", "new failure")}


def test_html_escapes_what_reports_carry(tmp_path):
    old = diff.Side(tmp_path / "o" / "report.json", "single", "<b>", "c", {"a": ("f/a", "pass", {"guest": ("pass", "", [])})})
    new = diff.Side(tmp_path / "n" / "report.json", "single", "<b>", "c",
                    {"a": ("f/<script>", "fail", {"guest": ("fail", "<img src=x onerror=alert(1)>", ["artifacts/a'b/c"])})})
    changes = diff.compare(old, new)
    diff_html.write_html(tmp_path / "d.html", old, new, changes, diff.regressions(changes))
    text = (tmp_path / "d.html").read_text()
    assert "<script>" not in text and "<img" not in text and "<b>" not in text
    assert "artifacts/a%27b/c" in text


def test_fleet_reports_compare_per_host_and_level(tmp_path):
    reports = two_hosts()
    fail = dict(reports, h1=_host_fails(reports["h1"]))
    old, new = tmp_path / "old", tmp_path / "new"
    for where, hosts in ((old, reports), (new, fail)):
        where.mkdir()
        writers.write_json(fleet_of(hosts), where / "report.json")
        for label, report in hosts.items():
            (where / "hosts" / label).mkdir(parents=True)
            writers.write_json(report, where / "hosts" / label / "report.json")
    done = cli(old, new)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"[h1:guest] id-{CASE.id}: pass -> fail" in done.stdout and "h2:" not in done.stdout
    hrefs = [a.get("href") for a in html.parse(str(new / "diff.html")).getroot().iter("a")]
    assert f"hosts/h1/report.html#case-{CASE.id}" in hrefs


def _host_fails(report):
    from fleet_fakes import host_report
    failing = aggregate([entry("xml"), entry("host"), entry("guest", "failed", detail="no"),
                         entry("xml", cases=(OTHER.id,)), entry("host", cases=(OTHER.id,)),
                         entry("guest", cases=(OTHER.id,))], [CASE, OTHER])
    return host_report(failing)


@pytest.mark.parametrize("spoil", ["tamper", "kind", "junk"])
def test_bad_input_is_a_usage_error(tmp_path, spoil):
    good = write(tmp_path, "good", report_of(results()))
    other = tmp_path / "other"
    other.mkdir()
    if spoil == "tamper":
        report = report_of(results())
        report["driver"] = "someone else"
        (other / "report.json").write_text(json.dumps(report))
    elif spoil == "kind":
        writers.write_json(fleet_of(two_hosts()), other / "report.json")
    else:
        (other / "report.json").write_text("{")
    done = cli(good, other)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "conformance:" in done.stderr


def test_a_report_cannot_steer_links_or_reads_outside_its_directory(tmp_path):
    escape = [{"name": "x", "what": "x", "path": "../../etc/passwd"},
              {"name": "y", "what": "y", "path": "artifacts/main-1-guest/console.log"}]
    report = report_of(results(guest="failed", artifacts=escape[1:]))
    report["cases"][0]["levels"]["guest"]["artifacts"] = escape  # not what certify writes
    report["digest"] = digest(report)
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "report.json").write_text(json.dumps(report))
    side = diff.load(tmp_path / "r")
    assert side.cases[CASE.id][2]["guest"][2] == ["artifacts/main-1-guest/console.log"]
    fleet = fleet_of(two_hosts())
    fleet["hosts"][0]["report"] = "../elsewhere/report.json"
    fleet["digest"] = digest(fleet)  # a digest proves no author honest
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "report.json").write_text(json.dumps(fleet))
    with pytest.raises(diff.DiffError, match="no report at hosts/<label>/report.json"):
        diff.load(tmp_path / "f")
