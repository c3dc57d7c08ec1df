"""Version rules (conformance.host.versions) and the fleet report's explanations."""

import pytest

from conformance.host import versions
from fleet_fakes import fleet_of, two_hosts

Q35_WATCHDOG = {"kind": "case", "what": "watchdog/q35 disabled", "id": "x", "feature": "watchdog",
                "hosts": {"old": "pass, level host", "new": "fail, level xml"}}


def hosts(*pairs):
    return [{"label": label, "accelerator_reason": "probe", "versions": {"libvirt": lv, "qemu": qv}}
            for label, lv, qv in pairs]


@pytest.mark.parametrize("text, parsed", [("11.3.0", (11, 3, 0)), ("9.0", (9, 0, 0)),
                                          ("QEMU 10.0.13 (Debian 1:10.0.13+ds)", (10, 0, 13)),
                                          (None, None), ("unknown", None)])
def test_versions_parsed(text, parsed):
    assert versions.parse(text) == parsed


def test_implicit_itco_from_libvirt_9_1_on_q35_only():
    assert versions.implicit_devices("9.0.0", "pc-q35-7.2") == []
    assert versions.implicit_devices("9.1.0", "pc-q35-7.2") == [("watchdog", "itco")]
    assert versions.implicit_devices("11.3.0", "q35") == [("watchdog", "itco")]
    assert versions.implicit_devices("11.3.0", "pc-i440fx-10.0") == []
    assert versions.implicit_devices(None, "q35") == []  # unknown: not assumed


def test_a_q35_watchdog_case_differing_across_the_itco_release_is_explained_by_its_rule(monkeypatch):
    monkeypatch.setattr(versions, "case_machine", lambda case_id: "q35")
    why = versions.explain(Q35_WATCHDOG, hosts(("old", "9.0.0", "7.2.0"), ("new", "11.3.0", "10.0.13")))
    assert why.startswith("version rule implicit-itco: libvirt >= 9.1")


def test_the_itco_rule_explains_no_case_on_machine_pc(monkeypatch):
    monkeypatch.setattr(versions, "case_machine", lambda case_id: None)  # the default, pc
    assert versions.explain(Q35_WATCHDOG, hosts(("old", "9.0.0", "7.2.0"), ("new", "11.3.0", "10.0.13"))) is None


def test_a_case_difference_no_rule_covers_is_unexplained(monkeypatch):
    monkeypatch.setattr(versions, "case_machine", lambda case_id: "q35")
    """Same side of every rule, or another feature: nothing explains it (a harness defect
    to fix, or the driver's)."""
    assert versions.explain(Q35_WATCHDOG, hosts(("old", "11.0.0", "9.0"), ("new", "11.3.0", "10.0.13"))) is None
    rng = dict(Q35_WATCHDOG, what="rng/rate", feature="rng")
    assert versions.explain(rng, hosts(("old", "9.0.0", "7.2.0"), ("new", "11.3.0", "10.0.13"))) is None


def test_fleet_report_explains_host_facts_and_leaves_case_differences_open():
    report = fleet_of(two_hosts())
    why = {(d["kind"], d["what"]): d["explained"] for d in report["differences"]}
    assert why[("version", "libvirt")] == "the hosts run different releases"
    assert why[("accelerator", "accelerator")].startswith("h1: ")
    assert why[("capability", "locked memory")].startswith("measured on each host")
    assert [what for (kind, what), text in why.items() if kind == "case" and text is None]
