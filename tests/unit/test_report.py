"""Certification reports: aggregation per case, selection, digest, JUnit and HTML safety."""

import json

import pytest
from lxml import etree

from conformance.catalogue import CASES
from conformance.report import writers
from conformance.report.aggregate import aggregate, matrix
from conformance.report.digest import verify
from conformance.report.selection import Selection, SelectionError, read_list

CASE = CASES[0]
OTHER = next(c for c in CASES if c.feature != CASE.feature)


def entry(level, outcome="passed", when="call", cases=(CASE.id,), detail="", evidence=None, **kw):
    return {"nodeid": f"t::{level}", "when": when, "outcome": outcome, "duration": 0.5,
            "detail": detail, "cases": list(cases), "feature": CASE.feature, "level": level,
            "evidence": evidence, **kw}


def test_all_levels_pass_reaches_guest():
    """A case passing xml, host and guest is a pass that reached the guest level."""
    [result] = aggregate([entry("xml"), entry("host"), entry("guest")], [CASE])
    assert (result["verdict"], result["level_reached"]) == ("pass", "guest")


def test_a_failing_level_fails_the_case_and_keeps_evidence():
    """One failing level makes the case fail; its reason and evidence are kept."""
    entries = [entry("xml"), entry("host", "failed", detail="E expected pmu=on got off",
                                   evidence={"expected": "on", "actual": "off"})]
    [result] = aggregate(entries, [CASE])
    assert result["verdict"] == "fail" and result["level_reached"] == "xml"
    assert "pmu=on" in result["reason"]
    assert result["levels"]["host"]["evidence"] == {"expected": "on", "actual": "off"}


def test_setup_failure_is_an_error_and_skips_keep_their_reason():
    """A setup failure is an error; a skipped level carries its exact reason."""
    [errored] = aggregate([entry("xml"), entry("host", "failed", when="setup")], [CASE])
    assert errored["verdict"] == "error"
    [skipped] = aggregate([entry("xml"), entry("guest", "skipped", when="setup",
                                               detail="needs KVM; accelerator is TCG")], [CASE])
    assert skipped["verdict"] == "pass"
    assert skipped["skipped_levels"]["guest"] == "needs KVM; accelerator is TCG"


def test_uncovered_levels_say_why():
    """Levels without a result are n/a with the reason given (e.g. rejected cases)."""
    [result] = aggregate([entry("xml")], [CASE], {CASE.id: "reference rejects it (X): level 1 only"})
    assert result["levels"]["host"] == {"status": "n/a", "reason": "reference rejects it (X): level 1 only",
                                        "duration": 0.0, "evidence": None, "test": None}


def test_matrix_counts_per_feature_and_level():
    results = aggregate([entry("xml"), entry("xml", "failed", cases=(OTHER.id,))], [CASE, OTHER])
    table = matrix(results)
    assert table[CASE.feature]["xml"] == {"pass": 1}
    assert table[OTHER.feature]["xml"] == {"fail": 1}


def test_selection_by_feature_id_regex_and_lists(tmp_path):
    """Features, id prefixes, regexes and include/exclude lists narrow the cases."""
    assert Selection(features=[CASE.feature]).case_wanted(CASE)
    assert not Selection(features=[OTHER.feature]).case_wanted(CASE)
    assert Selection(ids=[CASE.id[:8]]).case_wanted(CASE)
    assert not Selection(regex=["^nomatch$"]).case_wanted(CASE)
    listing = tmp_path / "exclude.txt"
    listing.write_text(f"# comment\n{CASE.id}  # this one\n\n")
    assert read_list(str(listing)) == [CASE.id]
    assert not Selection(exclude=read_list(str(listing))).case_wanted(CASE)
    assert not Selection(max_level="xml").wants(CASE.feature, [CASE.id], "host")
    with pytest.raises(SelectionError):
        Selection(regex=["("])


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
    path = tmp_path / "report.json"
    writers.write_json(report_with("x"), path)
    assert verify(json.loads(path.read_text()))
