"""Report writers: schema validation, digest tamper detection, JUnit and HTML safety."""

import json

import pytest
from lxml import etree

from conformance.report import writers
from conformance.report.aggregate import aggregate, matrix
from conformance.report.digest import verify
from report_fakes import CASE, entry


def report_with(hostile: str) -> dict:
    results = aggregate([entry("xml", "failed", detail=hostile, evidence={"xml": hostile})], [CASE])
    return writers.finish({
        "format": 1, "driver": f"exec:{hostile}", "started": "s", "finished": "f",
        "host": {"accelerator": "qemu", "accelerator_reason": hostile}, "versions": {},
        "summary": {"pass": 0, "fail": 1, "error": 0, "skip": 0, "total": 1},
        "matrix": matrix(results), "cases": results})


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
