"""certify --rerun-failures (conformance.run.rerun): flakes told apart from failures, every
attempt kept, and the four reports saying so."""

import io
import json

from lxml import etree

from conformance.report import writers
from conformance.report.aggregate import aggregate
from conformance.report.headline import certification
from conformance.report.selection import Selection
from conformance.run.rerun import rerun_failures
from report_fakes import CASE, OTHER, entry, report_of

KEPT = [{"name": "console.log", "what": "serial console", "path": "artifacts/gw0-001-host/console.log",
         "bytes": 5, "limit": 100, "truncated": False}]


def first_attempt(host="failed", guest="cfm-a"):
    entries = [entry("xml", cases=(CASE.id, OTHER.id)),
               entry("host", host, detail="E   rate missing", artifacts=KEPT, guest=guest),
               entry("guest", guest=guest),
               entry("host", cases=(OTHER.id,), nodeid="t::other-host", guest=guest),
               entry("guest", cases=(OTHER.id,), nodeid="t::other-guest", guest=guest)]
    return {"entries": entries, "expected": [], "exitstatus": 1}


class Runs:
    """Fake pytest children: attempt n's host check of CASE (and OTHER's) per ``outcomes``."""

    def __init__(self, *outcomes, other="passed"):
        self.outcomes, self.other, self.calls = list(outcomes), other, []

    def run(self, selection, where):
        self.calls.append((sorted(selection.ids), str(where)))
        outcome = self.outcomes.pop(0)
        return {"entries": [entry("xml", cases=(CASE.id, OTHER.id)),
                            entry("host", outcome, detail="E   again", guest="cfm-b",
                                  artifacts=[dict(KEPT[0])] if outcome == "failed" else None),
                            entry("guest", guest="cfm-b"),
                            entry("host", self.other, cases=(OTHER.id,), nodeid="t::other-host",
                                  detail="E   other broke", guest="cfm-b"),
                            entry("guest", cases=(OTHER.id,), nodeid="t::other-guest", guest="cfm-b")],
                "expected": [], "exitstatus": 0}

    @staticmethod
    def judge(found, ids):
        cases = [c for c in (CASE, OTHER) if c.id in ids]
        return aggregate(found["entries"], cases)


def rerun(runs, times=2, first=None):
    first = first or first_attempt()
    verdicts = aggregate(first["entries"], [CASE, OTHER])
    return rerun_failures(verdicts, first, Selection(), times, runs.run, runs.judge)


def test_a_case_that_passes_on_its_rerun_is_flaky_with_every_attempt_kept():
    runs = Runs("passed")
    case, other = rerun(runs)
    assert runs.calls == [(sorted([CASE.id, OTHER.id]), "attempts/2")]  # with its guest mate
    assert case["verdict"] == "flaky" and case["level_reached"] == "guest"
    host = case["levels"]["host"]
    assert host["status"] == "flaky" and "passed on attempt 2" in host["reason"]
    assert "attempt 1 fail" in host["reason"] and "rate missing" in host["reason"]
    assert host["artifacts"] == KEPT == case["artifacts"]  # the failed attempt's
    assert [a["attempt"] for a in case["attempts"]] == [1, 2]
    assert [a["verdict"] for a in case["attempts"]] == ["fail", "pass"]
    assert case["attempts"][1]["pytest_log"] == "attempts/2/pytest.log"
    assert other["verdict"] == "pass" and [a["verdict"] for a in other["attempts"]] == ["pass", "pass"]


def test_a_case_that_never_passes_keeps_its_first_failure_and_every_rerun():
    runs = Runs("failed", "failed")
    case, _ = rerun(runs)
    assert case["verdict"] == "fail" and "rate missing" in case["levels"]["host"]["reason"]
    assert [a["verdict"] for a in case["attempts"]] == ["fail", "fail", "fail"]
    assert case["attempts"][2]["artifacts"][0]["path"] == "attempts/3/artifacts/gw0-001-host/console.log"
    assert [where for _, where in runs.calls] == ["attempts/2", "attempts/3"]


def test_reruns_stop_once_every_case_passed_once():
    runs = Runs("passed", "passed")
    rerun(runs, times=3)
    assert len(runs.calls) == 1


def test_a_guest_mate_that_fails_on_the_rerun_is_flaky_too():
    case, other = rerun(Runs("passed", other="failed"))
    assert case["verdict"] == other["verdict"] == "flaky"
    assert "attempt 2 fail: E   other broke" in other["levels"]["host"]["reason"]


def test_no_failure_means_no_rerun():
    runs = Runs()
    verdicts = rerun(runs, first=first_attempt(host="passed"))
    assert runs.calls == [] and all("attempts" not in v for v in verdicts)


def test_the_headline_counts_flaky_cases_and_flaky_is_failure_decides():
    results = rerun(Runs("passed"))
    strict = certification(results)
    assert strict["verdict"] == "not certified" and strict["flaky"] == 1
    assert "1 flaky case passed only on a rerun, [run] flaky_is_failure = true" in strict["headline"]
    assert "host 1/2 (1 flaky)" in strict["headline"]
    lenient = certification(results, flaky_is_failure=False)
    assert lenient["verdict"] == "certified" and lenient["level"] == "full"
    assert lenient["headline"].startswith("CERTIFIED, level full, 1 flaky case (passed only on a rerun)")


def test_the_four_reports_show_the_flaky_case(tmp_path):
    from conformance.report.subunit_stream import write_subunit
    report = report_of(rerun(Runs("passed")))  # schema-valid with flaky statuses and attempts
    assert report["certification"]["flaky"] == 1
    writers.write_junit(report, tmp_path / "junit.xml")
    suite = etree.parse(str(tmp_path / "junit.xml")).getroot()
    [failure] = suite.findall("testcase/failure")
    assert failure.get("message").startswith("flaky ([run] flaky_is_failure)")
    assert "attempt 1: fail" in failure.text and "attempt 2: pass" in failure.text
    lenient = dict(report, certification=dict(report["certification"], flaky_is_failure=False))
    writers.write_junit(lenient, tmp_path / "lenient.xml")
    lenient_suite = etree.parse(str(tmp_path / "lenient.xml")).getroot()
    assert lenient_suite.get("failures") == "0"
    assert lenient_suite.find("testcase/flakyFailure").get("message").startswith("attempt 1: E   rate missing")
    writers.write_html(report, tmp_path / "report.html")
    page = (tmp_path / "report.html").read_text()
    assert "id='flaky'>Flaky: passed only on a rerun (1)" in page and "class='attempts'" in page
    write_subunit(report, tmp_path / "report.subunit")
    tags = subunit_tags(tmp_path / "report.subunit")
    assert {"status:flaky", "level:host"} <= tags[f"{CASE.feature}.{CASE.name}[host] id-{CASE.id}"]


def subunit_tags(path) -> dict:
    import subunit
    import testtools
    found = {}

    class Collect(testtools.StreamResult):
        def status(self, test_id=None, test_status=None, test_tags=None, **_):
            if test_status not in (None, "inprogress"):
                found[test_id] = set(test_tags or ())

    stream = subunit.ByteStreamToStreamResult(io.BytesIO(path.read_bytes()))
    stream.run(Collect())
    return found


def test_attempts_survive_the_json_round_trip(tmp_path):
    report = report_of(rerun(Runs("failed", "passed"), times=2))
    writers.write_json(report, tmp_path / "report.json")
    case = json.loads((tmp_path / "report.json").read_text())["cases"][0]
    assert [a["verdict"] for a in case["attempts"]] == ["fail", "fail", "pass"]
    assert "attempt 1 fail" in case["levels"]["host"]["reason"] and "attempt 2 fail" in case["levels"]["host"]["reason"]


def test_a_fleet_and_merge_keep_the_flaky_case(tmp_path):
    from conformance import merge
    from fleet_fakes import fleet_of, host_report, kvm_results
    flaky, steady = host_report(rerun(Runs("passed")), label="h1"), host_report(kvm_results(), label="h2")
    fleet = fleet_of({"h1": flaky, "h2": steady})  # schema-valid
    case = next(c for c in fleet["cases"] if c["id"] == CASE.id)
    assert case["hosts"]["h1"]["verdict"] == "flaky" and case["hosts"]["h2"]["verdict"] == "pass"
    assert fleet["summary"]["flaky"] == 1 and fleet["certification"]["verdict"] == "not certified"
    assert "h1 NOT CERTIFIED: 1 flaky (passed only on a rerun)" in fleet["certification"]["headline"]
    source = tmp_path / "job-h1"
    (source / "artifacts" / "gw0-001-host").mkdir(parents=True)
    (source / "artifacts" / "gw0-001-host" / "console.log").write_text("boot")
    writers.write_json(flaky, source / "report.json")
    (tmp_path / "job-h2").mkdir()
    writers.write_json(steady, tmp_path / "job-h2" / "report.json")
    merged = merge.merge(tmp_path / "out", [(None, source), (None, tmp_path / "job-h2")])
    assert merged["summary"]["flaky"] == 1
    assert (tmp_path / "out" / "hosts" / "h1" / "artifacts" / "gw0-001-host" / "console.log").read_text() == "boot"
