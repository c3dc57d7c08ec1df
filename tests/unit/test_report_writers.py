"""Report writers: schema validation, digest tamper detection, JUnit and HTML safety."""

import json

import pytest
from lxml import etree

from conformance.report import writers
from conformance.report.aggregate import aggregate
from conformance.report.digest import verify
from report_fakes import CASE, OTHER, entry, report_of


def report_with(hostile: str) -> dict:
    results = aggregate([entry("xml", "failed", detail=hostile, evidence={"xml": hostile}),
                         entry("host"), entry("guest")], [CASE])
    return report_of(results, driver=f"exec:{hostile}", reason=hostile)


HOSTILE = "<script>alert(1)</script>\x00\x1b[31m]]></failure>&amp;"


def test_digest_detects_tampering(tmp_path):
    """The digest verifies, and any change of content breaks it."""
    report = report_with("x")
    assert verify(report)
    report["cases"][0]["verdict"] = "pass"
    assert not verify(report)


def test_schema_rejects_a_malformed_report():
    """A report missing required keys is refused before it is written."""
    import jsonschema
    with pytest.raises(jsonschema.ValidationError):
        writers.finish({"format": 1})


def test_junit_is_well_formed_with_hostile_output(tmp_path):
    """Driver output with control characters and markup still gives valid JUnit."""
    path = tmp_path / "junit.xml"
    writers.write_junit(report_with(HOSTILE), path)
    suite = etree.parse(str(path)).getroot()
    assert suite.get("failures") == "1"
    assert suite.find("testcase/failure") is not None


def test_html_escapes_untrusted_strings(tmp_path):
    """No driver-supplied markup reaches the HTML unescaped."""
    path = tmp_path / "report.html"
    writers.write_html(report_with(HOSTILE), path)
    page = path.read_text()
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "id='matrix'" in page


def test_json_round_trip(tmp_path):
    """report.json read back still verifies against its digest."""
    path = tmp_path / "report.json"
    writers.write_json(report_with("x"), path)
    assert verify(json.loads(path.read_text()))


def tcg_like_results():
    """A case fully verified, and one whose guest level skipped (needs KVM) while a second
    guest check passed: the pass must not hide the skip."""
    return aggregate([entry("xml"), entry("host"), entry("guest"),
                      entry("xml", cases=(OTHER.id,)), entry("host", cases=(OTHER.id,)),
                      entry("guest", cases=(OTHER.id,), nodeid="t::test_guest"),
                      entry("guest", "skipped", when="setup", cases=(OTHER.id,), nodeid="t::fires",
                            detail="needs KVM; accelerator is TCG (probe boot hung)")],
                     [CASE, OTHER])


def test_headline_names_skipped_levels_and_reasons_in_all_reports(tmp_path):
    """Headline of a TCG run: per level verified/checked, the skip reasons with counts, the
    level reached; the same line in report.json, report.html and junit.xml."""
    report = report_of(tcg_like_results())
    headline = report["certification"]["headline"]
    assert headline == "CERTIFIED, level host (xml 2/2, host 2/2, guest 1/2; skipped: 1 need KVM)"
    assert report["summary"]["headline"] == headline and report["summary"]["certification_level"] == "host"
    writers.write_json(report, tmp_path / "report.json")
    writers.write_html(report, tmp_path / "report.html")
    writers.write_junit(report, tmp_path / "junit.xml")
    assert json.loads((tmp_path / "report.json").read_text())["summary"]["headline"] == headline
    page = etree.parse(str(tmp_path / "report.html"), etree.HTMLParser())
    assert page.find(".//p[@id='verdict']").text == headline
    props = {p.get("name"): p.get("value") for p in etree.parse(str(tmp_path / "junit.xml")).iter("property")}
    assert props["headline"] == headline and props["certification_level"] == "host"
    assert props["level.guest"] == "1/2 passed, 1 skip"
    assert "needs KVM" in props["skipped.1"]


def test_interrupted_report_has_no_verdict(tmp_path):
    report = report_of(tcg_like_results(), interrupted={"signal": "SIGTERM", "after_seconds": 25.0})
    cert = report["certification"]
    assert cert["verdict"] == "interrupted" and cert["level"] == "none"
    assert cert["headline"].startswith("INTERRUPTED by SIGTERM after 25.0 s: no certification verdict")
    assert "CERTIFIED" not in cert["headline"]
    writers.write_html(report, tmp_path / "report.html")
    assert "data-verdict='interrupted'" in (tmp_path / "report.html").read_text()


def test_nothing_collected_is_not_certified():
    report = report_of(aggregate([], [CASE]), problem="pytest collected no test for this selection")
    assert report["certification"]["verdict"] == "not certified"
    assert report["certification"]["headline"].startswith("NOT CERTIFIED (pytest collected no test")
