"""Per-case aggregation of pytest results: level reached, verdict, reasons, evidence, matrix."""

from conformance.report.aggregate import aggregate, matrix, require_features
from report_fakes import CASE, OTHER, entry


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
    """The matrix counts case statuses per feature and level."""
    results = aggregate([entry("xml"), entry("xml", "failed", cases=(OTHER.id,))], [CASE, OTHER])
    table = matrix(results)
    assert table[CASE.feature]["xml"] == {"pass": 1}
    assert table[OTHER.feature]["xml"] == {"fail": 1}


def test_declared_feature_that_is_skipped_fails():
    """[features] X = true (declared present): a skipped level fails the case, naming the skip."""
    entries = [entry("xml"), entry("host"), entry("guest", "skipped", when="setup", detail="needs KVM")]
    [relaxed] = aggregate(entries, [CASE])
    assert relaxed["verdict"] == "pass"
    [strict] = require_features(aggregate(entries, [CASE]), [CASE.feature])
    assert strict["verdict"] == "fail" and strict["level_reached"] == "host"
    assert "needs KVM" in strict["reason"] and "guest" not in strict["skipped_levels"]
    [other] = require_features(aggregate(entries, [CASE]), [OTHER.feature])
    assert other["verdict"] == "pass"
