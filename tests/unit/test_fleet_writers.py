"""Fleet report files: schema-valid JSON, a JUnit suite per host, the HTML matrix, subunit
ids per host, and verify-report over the fleet and its host reports."""

import json
import shutil
import subprocess
import sys

import pytest
from lxml import etree

from conformance.report import writers
from conformance.report.fleet_writers import write_all
from conformance.report.verify import problems
from fleet_fakes import fleet_of, host_report, kvm_results, two_hosts
from report_fakes import OTHER
from test_report_subunit import _read


@pytest.fixture
def written(tmp_path):
    """A fleet written as certify writes it: hosts/<label>/report.json, then OUT/ reports."""
    reports = two_hosts()
    reports["h2"]["host"]["accelerator_reason"] = "<script>alert(1)</script>"
    reports["h2"].pop("digest")
    reports["h2"] = writers.finish(reports["h2"])
    for label, report in reports.items():
        (tmp_path / "hosts" / label).mkdir(parents=True)
        writers.write_json(report, tmp_path / "hosts" / label / "report.json")
    body = dict(fleet_of(reports))
    body.pop("digest")
    fleet = write_all(body, reports, tmp_path)
    return fleet, reports, tmp_path


def test_json_is_the_validated_fleet(written):
    fleet, _, out = written
    on_disk = json.loads((out / "report.json").read_text())
    assert on_disk == fleet and on_disk["kind"] == "fleet"
    assert [h["report"] for h in on_disk["hosts"]] == ["hosts/h1/report.json", "hosts/h2/report.json"]


def test_junit_has_one_suite_per_host_with_host_and_fleet_properties(written):
    fleet, reports, out = written
    root = etree.parse(str(out / "junit.xml")).getroot()
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["conformance[reference]@h1", "conformance[reference]@h2"]
    props = {p.get("name"): p.get("value") for p in suites[1].iter("property")}
    assert props["host.uri"] == "qemu+tcp://10.251.2.2/system" and props["host.label"] == "h2"
    assert props["headline"] == reports["h2"]["certification"]["headline"]
    assert props["fleet.certification"] == "certified" and props["fleet.mode"] == "replicate"
    names = [t.get("name") for t in suites[0].iter("testcase")]
    assert f"{OTHER.name}[guest] id-{OTHER.id}" in names  # as in a single-host junit.xml
    assert root.get("tests") == str(sum(int(s.get("tests")) for s in suites)) == "12"  # 2 hosts x 2 cases x 3 levels
    assert root.get("skipped") == "1"


def test_html_shows_verdict_differences_matrix_and_links(written):
    fleet, _, out = written
    page = (out / "report.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page
    tree = etree.parse(str(out / "report.html"), etree.HTMLParser())
    verdict = tree.find(".//p[@id='verdict']")
    assert verdict.get("data-verdict") == "certified" and verdict.text == fleet["certification"]["headline"]
    matrix = tree.find(".//table[@id='fleet-matrix']")
    assert [th.text for th in matrix.find("tr").findall("th")][-2:] == ["h1", "h2"]
    assert len(matrix.findall("tr")) == 1 + len(fleet["cases"])
    assert {a.get("href") for a in tree.iter("a")} == {"hosts/h1/report.html", "hosts/h2/report.html"}
    kinds = {li.get("data-kind") for li in tree.find(".//ul[@id='differences']")}
    assert {"accelerator", "capability", "version", "skip", "case"} <= kinds


def test_subunit_ids_are_prefixed_by_the_host_label(written):
    fleet, reports, out = written
    tests = _read(out / "report.subunit")
    prefixes = {name.split(".", 1)[0] for name in tests}
    assert prefixes == {"h1", "h2"} and len(tests) == 12
    name = f"h2.{OTHER.feature}.{OTHER.name}[guest] id-{OTHER.id}"
    assert tests[name]["status"] == "skip" and "host:h2" in tests[name]["tags"]


def test_verify_report_accepts_the_fleet_and_refuses_any_tampering(written):
    fleet, reports, out = written
    assert problems(out / "report.json") == (0, [])
    assert problems(out / "hosts" / "h1" / "report.json") == (0, [])
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "verify-report", str(out / "report.json")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "2 host reports ok" in done.stdout

    inner = out / "hosts" / "h2" / "report.json"
    original = inner.read_text()
    inner.write_text(original.replace('"verdict": "pass"', '"verdict": "fail"', 1))
    status, found = problems(out / "report.json")
    assert status == 1 and "TAMPERED" in found[0] and "h2" in found[0]

    # a genuine report, but not the one the fleet report names
    writers.write_json(host_report(kvm_results(), label="h2"), inner)
    status, found = problems(out / "report.json")
    assert status == 1 and "not the report the fleet report names" in found[0]

    inner.write_text(original)
    fleet_file = out / "report.json"
    fleet_file.write_text(fleet_file.read_text().replace('"certified_hosts": 2', '"certified_hosts": 1'))
    assert problems(fleet_file)[0] == 1


def test_verify_report_says_a_missing_host_report_is_unreadable(written):
    _, _, out = written
    shutil.rmtree(out / "hosts" / "h1")
    status, found = problems(out / "report.json")
    assert status == 2 and "host h1: cannot read" in found[0]
