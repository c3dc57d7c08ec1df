"""The fleet report: host differences, case x host verdicts, the fleet verdict."""

import jsonschema
import pytest

from conformance.report import fleet_writers
from conformance.report.aggregate import aggregate, blame_host
from fleet_fakes import fleet_of, host_report, kvm_results, tcg_results, two_hosts
from report_fakes import CASE, OTHER, entry


def test_differences_name_accelerator_memlock_versions_skips_and_cases():
    report = fleet_of(two_hosts())
    found = {(d["kind"], d["what"]): d["hosts"] for d in report["differences"]}
    assert found[("accelerator", "accelerator")] == {"h1": "kvm", "h2": "qemu"}
    memlock = found[("capability", "locked memory")]
    assert "unlimited" in memlock["h1"] and "8 MiB" in memlock["h2"]
    assert found[("version", "libvirt")] == {"h1": "9.0.0", "h2": "10.0.0"}
    assert found[("skip", "skipped checks")] == {"h1": "none", "h2": "1 need KVM"}
    assert found[("case", f"{OTHER.feature}/{OTHER.name}")] == {"h1": "pass, level guest",
                                                                 "h2": "pass, level host"}
    assert ("case", f"{CASE.feature}/{CASE.name}") not in found  # the same on both hosts
    assert ("version", "QEMU") not in found and ("capability", "/dev/kvm") not in found


def test_identical_hosts_have_no_differences():
    report = fleet_of({"h1": host_report(kvm_results()), "h2": host_report(kvm_results(), label="h2")})
    assert report["differences"] == []


def test_fleet_is_certified_at_the_shallowest_level_only_when_every_host_is():
    report = fleet_of(two_hosts())
    cert = report["certification"]
    assert (cert["verdict"], cert["level"]) == ("certified", "host")
    assert cert["headline"].startswith("FLEET CERTIFIED, level host: 2/2 hosts certified (h1 level full; h2 level host)")
    assert report["summary"]["runs"] == 4 and report["summary"]["pass"] == 4
    matrix = {row["id"]: row["hosts"] for row in report["cases"]}
    assert matrix[OTHER.id]["h2"]["level_reached"] == "host"


def test_a_host_that_died_makes_errors_naming_it_and_the_fleet_not_certified():
    """h2 delivered the xml level only; its libvirtd then vanished."""
    title = "h2 (qemu+tcp://10.251.2.2/system)"
    expected = [{"nodeid": "t::test_host", "cases": [CASE.id], "level": "host"}]
    died = aggregate([entry("xml"), entry("xml", cases=(OTHER.id,))], [CASE, OTHER],
                     expected=expected, host=title)
    why = f"host {title} unreachable: connection refused"
    blame_host(died, why)
    reports = {"h1": host_report(kvm_results()),
               "h2": host_report(died, "qemu", why, {"error": why}, "qemu+tcp://10.251.2.2/system", "h2",
                                 problem=why)}
    report = fleet_of(reports, blockers={"h2": why})
    cert = report["certification"]
    assert cert["verdict"] == "not certified" and cert["hosts"] == {"h1": "certified", "h2": "not certified"}
    assert "h2 NOT CERTIFIED: host h2 (qemu+tcp://10.251.2.2/system) unreachable" in cert["headline"]
    for row in report["cases"]:
        assert row["hosts"]["h1"]["verdict"] == "pass"  # the other host is unaffected
        assert row["hosts"]["h2"]["verdict"] == "error"
        assert why in row["hosts"]["h2"]["reason"]
    host_level = reports["h2"]["cases"][0]["levels"]["host"]["reason"]
    assert "no result from host h2 (qemu+tcp://10.251.2.2/system)" in host_level
    assert report["hosts"][1]["problem"] == why


def test_interrupted_fleet_claims_no_verdict():
    report = fleet_of(two_hosts(), interrupted={"signal": "SIGINT", "after_seconds": 3.0})
    cert = report["certification"]
    assert cert["verdict"] == "interrupted" and cert["level"] == "none"
    assert cert["headline"].startswith("FLEET INTERRUPTED by SIGINT after 3.0 s: no certification verdict")
    assert "FLEET CERTIFIED" not in cert["headline"]


def test_a_case_not_run_on_one_host_is_no_difference():
    stopped = aggregate([entry("xml")], [CASE], expected=[
        {"nodeid": "t::test_host", "cases": [CASE.id], "level": "host"}], interrupted=True)
    assert stopped[0]["verdict"] == "not-run"
    done = aggregate([entry("xml"), entry("host"), entry("guest")], [CASE])
    report = fleet_of({"h1": host_report(done), "h2": host_report(stopped, label="h2")},
                      interrupted={"signal": "SIGTERM", "after_seconds": 1.0})
    assert not [d for d in report["differences"] if d["kind"] == "case"]


def test_sharded_cases_appear_once_and_do_not_count_as_differences():
    one = aggregate([entry("xml"), entry("host"), entry("guest")], [CASE])
    other = aggregate([entry("xml", cases=(OTHER.id,)), entry("host", cases=(OTHER.id,))], [OTHER],
                      {OTHER.id: {"guest": "no guest check"}})
    report = fleet_of({"h1": host_report(one), "h2": host_report(other, label="h2")}, mode="shard")
    assert [sorted(row["hosts"]) for row in report["cases"]] == [["h1"], ["h2"]]
    assert not [d for d in report["differences"] if d["kind"] == "case"]
    assert "2 cases sharded across 2 hosts" in report["certification"]["headline"]


def test_schema_rejects_a_fleet_without_its_hosts():
    body = dict(fleet_of(two_hosts()))
    body.pop("digest")
    body["hosts"] = body["hosts"][:1]
    with pytest.raises(jsonschema.ValidationError):
        fleet_writers.finish(body)


def test_a_remote_host_without_a_measured_libvirtd_has_unknown_locked_memory():
    """This process's own limits say nothing about a remote host's libvirtd."""
    from fleet_fakes import caps
    remote = caps()
    remote["libvirtd"] = None
    reports = {"h1": host_report(kvm_results()),
               "h2": host_report(kvm_results(), capabilities=remote, uri="qemu+tcp://10.251.2.2/system",
                                 label="h2")}
    found = {d["what"]: d["hosts"] for d in fleet_of(reports)["differences"]}
    assert found["locked memory"]["h2"] == "unknown"
