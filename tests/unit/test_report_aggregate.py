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
                                   evidence={"expected": "on", "actual": "off"}), entry("guest")]
    [result] = aggregate(entries, [CASE])
    assert result["verdict"] == "fail" and result["level_reached"] == "xml"
    assert "pmu=on" in result["reason"]
    assert result["levels"]["host"]["evidence"] == {"expected": "on", "actual": "off"}


def test_setup_failure_is_an_error_and_skips_keep_their_reason():
    """A setup failure is an error; a skipped level carries its exact reason."""
    [errored] = aggregate([entry("xml"), entry("host", "failed", when="setup"), entry("guest")], [CASE])
    assert errored["verdict"] == "error"
    [skipped] = aggregate([entry("xml"), entry("host"), entry("guest", "skipped", when="setup",
                                               detail="needs KVM; accelerator is TCG")], [CASE])
    assert skipped["verdict"] == "pass"
    assert skipped["skipped_levels"]["guest"] == "needs KVM; accelerator is TCG"


def test_uncovered_levels_say_why():
    """Levels without a result are n/a with the reason given (e.g. rejected cases)."""
    [result] = aggregate([entry("xml")], [CASE], {CASE.id: "reference rejects it (X): level 1 only"})
    assert result["levels"]["host"] == {"status": "n/a", "reason": "reference rejects it (X): level 1 only",
                                        "duration": 0.0, "evidence": None, "test": None, "checks": []}


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


# ---- verdict honesty (issue 17): these failed on 44a5ab8 ----------------------------------

def test_a_skipped_check_is_not_hidden_by_a_passing_one_at_the_same_level():
    """Per level the status is the worst of its checks: xml test_case passes while
    test_case_defines_in_libvirt skips -> xml is skip, and the reason names the skipped check."""
    entries = [entry("xml"), entry("xml", "skipped", when="setup", detail="libvirt is not reachable",
                                   nodeid="t::test_case_defines_in_libvirt"),
               entry("host"), entry("guest")]
    [result] = aggregate(entries, [CASE])
    assert result["levels"]["xml"]["status"] == "skip"
    assert "test_case_defines_in_libvirt" in result["levels"]["xml"]["reason"]
    assert "libvirt is not reachable" in result["levels"]["xml"]["reason"]
    assert result["level_reached"] == "none"


def test_a_failing_check_wins_over_a_pass_and_every_non_passing_check_is_listed():
    entries = [entry("xml"), entry("host"),
               entry("guest", nodeid="t::test_guest"),
               entry("guest", "skipped", when="setup", detail="arming needs the agent", nodeid="t::fires"),
               entry("guest", "failed", detail="E no reset seen", nodeid="t::fires2")]
    [result] = aggregate(entries, [CASE])
    guest = result["levels"]["guest"]
    assert guest["status"] == "fail"
    assert "arming needs the agent" in guest["reason"] and "no reset seen" in guest["reason"]
    assert [c["status"] for c in guest["checks"]] == ["pass", "skip", "fail"]


def test_a_level_whose_check_never_reported_is_an_error_not_na():
    """A live level that has a check but no result (the test recorded no cases, or never ran)
    is an error: the case must not pass on XML alone without a stated reason."""
    [result] = aggregate([entry("xml")], [CASE])
    assert result["levels"]["host"]["status"] == "error"
    assert "no result" in result["levels"]["host"]["reason"]
    assert result["verdict"] == "error"


def test_na_only_where_the_plan_says_no_check_exists():
    [result] = aggregate([entry("xml"), entry("host")], [CASE],
                         {CASE.id: {"guest": "locked memory has no guest-visible effect"}})
    assert result["levels"]["guest"]["status"] == "n/a"
    assert result["verdict"] == "pass" and result["level_reached"] == "host"


def test_the_driver_refusing_the_live_request_fails_both_live_levels():
    """An entry at level 'live' (the driver must build the bootable domain the reference
    accepts) covers host and guest: a driver that rejects it fails both, with its reason."""
    entries = [entry("xml"), entry("live", "failed", detail="E driver rejected it (InvalidImage)")]
    [result] = aggregate(entries, [CASE])
    assert result["levels"]["host"]["status"] == result["levels"]["guest"]["status"] == "fail"
    assert "InvalidImage" in result["levels"]["host"]["reason"]


def test_the_live_prerequisite_alone_verifies_nothing():
    """The driver building the domain passes, but no host/guest check reported: error, not
    pass; and a level without a check (n/a) stays n/a."""
    [result] = aggregate([entry("xml"), entry("live")], [CASE], {CASE.id: {"guest": "no guest effect"}})
    assert result["levels"]["host"]["status"] == "error"
    assert result["levels"]["guest"]["status"] == "n/a"


def test_nothing_collected_is_not_a_skip():
    """pytest collected nothing (exit 5): every case is an error, never a quiet skip."""
    [result] = aggregate([], [CASE])
    assert result["verdict"] == "error"
    assert result["levels"]["xml"]["status"] == "error"


def test_declared_feature_with_a_level_that_has_no_check_is_not_failed():
    """[features] locked_memory = true must not fail a level that has no check (n/a)."""
    entries = [entry("xml"), entry("host")]
    [strict] = require_features(aggregate(entries, [CASE], {CASE.id: {"guest": "no guest-visible effect"}}),
                                [CASE.feature])
    assert strict["verdict"] == "pass"


def test_a_selected_check_that_never_reported_counts_even_beside_a_pass():
    """The watchdog presence check passed but the fire check (selected) never reported:
    an error, or not-run when the run was interrupted."""
    entries = [entry("xml"), entry("host"), entry("guest", nodeid="t::test_guest")]
    expected = [{"nodeid": "t::test_guest", "cases": [CASE.id], "level": "guest"},
                {"nodeid": "t::test_watchdog_fires", "cases": [CASE.id], "level": "guest"}]
    [result] = aggregate(entries, [CASE], expected=expected)
    assert result["levels"]["guest"]["status"] == "error"
    assert "test_watchdog_fires" in result["levels"]["guest"]["reason"]
    [stopped] = aggregate(entries, [CASE], expected=expected, interrupted=True)
    assert stopped["levels"]["guest"]["status"] == stopped["verdict"] == "not-run"


def test_a_check_that_can_assert_nothing_is_na_and_a_failed_probe_is_an_error():
    """NotApplicable (recorded as not_applicable) makes the level n/a with its reason when it
    is the only check; a probe that failed in the call (GuestError) is an error, not a fail."""
    [na] = aggregate([entry("xml"), entry("host"),
                      entry("guest", "skipped", detail="n/a: rate too small", not_applicable="rate too small")],
                     [CASE])
    assert na["levels"]["guest"]["status"] == "n/a" and na["verdict"] == "pass"
    [probe] = aggregate([entry("xml"), entry("host"),
                         entry("guest", "failed", detail="E dmesg failed", harness_error="GuestError")], [CASE])
    assert probe["levels"]["guest"]["status"] == "error" and probe["verdict"] == "error"


def test_in_a_fleet_a_missing_result_names_the_host_and_blame_host_says_why():
    """A host that died mid-run: its unreported checks are errors naming the host, and the
    reason it died goes first; passed levels keep their status and an empty reason."""
    from conformance.report.aggregate import blame_host
    host = "h2 (qemu+tcp://10.251.2.2/system)"
    expected = [{"nodeid": "t::test_guest", "cases": [CASE.id], "level": "guest"}]
    [result] = aggregate([entry("xml")], [CASE], expected=expected, host=host)
    for level in ("host", "guest"):
        assert result["levels"][level]["status"] == "error"
        assert "no result from host h2 (qemu+tcp://10.251.2.2/system)" in result["levels"][level]["reason"]
    why = "host h2 (qemu+tcp://10.251.2.2/system) unreachable: connection refused"
    blame_host(blame_host([result], why), why)  # idempotent
    assert result["levels"]["guest"]["reason"].startswith(why + "; ")
    assert result["levels"]["guest"]["reason"].count(why) == 1
    assert result["reason"].startswith("host: " + why)
    assert result["levels"]["xml"] == aggregate([entry("xml")], [CASE])[0]["levels"]["xml"]
    [alone] = aggregate([entry("xml")], [CASE])
    assert "from host" not in alone["levels"]["host"]["reason"]  # single-host reasons unchanged


def test_a_host_gone_after_its_run_keeps_its_real_failures():
    """A check that reached a verdict before the host went away stays a failure (the
    driver's); errors of that host are blamed on it. A check that failed *because* the host
    went away never reaches here as a failure: the lab turns it into an error naming the
    host (fixtures.plugin, conformance.checks.define)."""
    from conformance.report.aggregate import blame_host
    why = "host h2 (qemu+tcp://10.251.2.2/system) unreachable: connection refused"
    [kept] = blame_host(aggregate([entry("xml", "failed", detail="wrong"), entry("host"),
                                   entry("guest")], [CASE]), why)
    assert kept["levels"]["xml"]["status"] == "fail" and kept["verdict"] == "fail"
    assert not kept["levels"]["xml"]["reason"].startswith(why)
