"""Each deliberately broken driver is caught by exactly the right cases, with the right finding;
the reference passes every case. The lifecycle drivers (protocol 2) are right on create and wrong
after one operation; protocol-1 drivers are judged on create only."""

import functools
import os
import sys
from pathlib import Path

import pytest

from conformance.catalogue import ALL_CASES, CASES, LIFECYCLE_CASES, all_cases
from conformance.checks.level_xml import judge_xml
from conformance.drivers import load_driver
from conformance.drivers.exec import ExecDriver

TESTS = Path(__file__).resolve().parents[1]
BROKEN = TESTS / "broken_drivers"
if str(TESTS) not in sys.path:  # broken_drivers.<module>:driver specs
    sys.path.append(str(TESTS))

# broken driver module -> {(feature, case name): check name, or "reject:<Code>" when the
# driver accepts what the reference rejects}
CAUGHT = {
    "watchdog_flavor_wins": {
        ("watchdog", "image-disabled-beats-flavor-reset"): "watchdog.absent",
        ("watchdog", "image-reset-beats-flavor-pause"): "watchdog.action",
        ("watchdog", "image-pause-beats-flavor-disabled"): "watchdog.count",
        ("watchdog", "image-none-beats-flavor-poweroff"): "watchdog.action",
    },
    "rng_drops_rate": {
        ("rng", "rate"): "rng.rate",
        ("rng", "kvm-rate"): "rng.rate",
    },
    "hide_ignores_legacy": {
        ("hidden_hypervisor", "legacy-true"): "hidden.count",
        ("hidden_hypervisor", "legacy-yes-upper"): "hidden.count",
        ("hidden_hypervisor", "flavor-false-legacy-true"): "hidden.count",
        ("hidden_hypervisor", "kvm-legacy"): "hidden.count",
        ("hidden_hypervisor", "windows-upper-vendor-id"): "hidden.count",
        ("hidden_hypervisor", "legacy-invalid"): "reject:InvalidExtraSpec",
    },
    "pmu_no_conflict": {
        ("pmu", "conflict-flavor-on"): "reject:FlavorImageConflict",
        ("pmu", "conflict-flavor-off"): "reject:FlavorImageConflict",
        ("pmu", "conflict-lenient-image"): "reject:FlavorImageConflict",
    },
    "locked_no_forbidden": {
        ("locked_memory", "flavor-true-no-pages"): "reject:LockMemoryForbidden",
        ("locked_memory", "image-true-no-pages"): "reject:LockMemoryForbidden",
    },
    "agent_wrong_target": {
        ("agent", name): "agent.channel"
        for name in ("yes", "true-capitalised", "one", "on", "y", "t", "yes-upper", "padded", "kvm",
                     "windows", "with-watchdog")
    },
    # lifecycle (protocol 2): right on create, wrong after one operation
    "watchdog_dropped_on_resize": {
        ("watchdog", "resize-changes-action"): "watchdog.count",
        ("watchdog", "resize-adds-watchdog"): "watchdog.count",
        ("watchdog", "resize-image-still-wins"): "watchdog.count",
        ("agent", "resize-keeps-image-agent"): "watchdog.count",
    },
    "rng_keeps_old_rate": {
        ("rng", "resize-changes-rate"): "rng.rate",
        ("rng", "resize-removes-rate"): "rng.rate",
        ("rng", "resize-allows-again"): "rng.rate",
        ("rng", "resize-rate-invalid"): "reject:InvalidExtraSpec",
    },
    "rebuild_ignores_new_image": {
        ("agent", "rebuild-turns-on"): "agent.channel",
        ("agent", "rebuild-turns-off"): "agent.absent",
        ("agent", "rebuild-lenient-off"): "agent.absent",
        ("agent", "rebuild-other-property-invalid"): "reject:InvalidImageProperty",
        ("watchdog", "rebuild-image-turns-on"): "watchdog.count",
        ("watchdog", "rebuild-image-turns-off"): "watchdog.absent",
        ("watchdog", "rebuild-image-removed-flavor-applies"): "watchdog.action",
        ("watchdog", "rebuild-new-image-invalid"): "reject:InvalidImageProperty",
        ("pmu", "rebuild-image-turns-on"): "pmu.count",
        ("pmu", "rebuild-image-turns-off"): "pmu.state",
        ("pmu", "rebuild-conflict"): "reject:FlavorImageConflict",
        ("pmu", "rebuild-pmu-before-page-size"): "reject:FlavorImageConflict",
        ("hidden_hypervisor", "rebuild-turns-on"): "hidden.count",
        ("hidden_hypervisor", "rebuild-turns-off"): "hidden.absent",
        ("locked_memory", "rebuild-image-adds-locked"): "locked.present",
        ("locked_memory", "rebuild-image-locked-no-pages"): "reject:LockMemoryForbidden",
        ("locked_memory", "rebuild-image-adds-page-size"): "reject:ImageNUMATopologyRebuildConflict",
        ("locked_memory", "rebuild-image-removes-page-size"): "reject:ImageNUMATopologyRebuildConflict",
        ("locked_memory", "rebuild-same-page-size"): "locked.present",
    },
    "resize_create_order": {
        ("pmu", "resize-pmu-before-locked-memory"): "code:LockMemoryForbidden",
    },
}
LIFECYCLE_DRIVERS = {  # module -> the one operation it gets wrong
    "watchdog_dropped_on_resize": "resize",
    "rng_keeps_old_rate": "resize",
    "rebuild_ignores_new_image": "rebuild",
    "resize_create_order": "resize",
}


@functools.cache
def verdicts(spec: str) -> dict:
    """(feature, name) -> verdict, for the whole catalogue (create-time and lifecycle)."""
    driver = load_driver(spec)
    return {(c.feature, c.name): judge_xml(c, driver) for c in ALL_CASES}


def failures(spec: str) -> dict:
    """(feature, name) -> failing verdict (skips are not failures)."""
    return {key: v for key, v in verdicts(spec).items() if v.outcome in ("fail", "error")}


def test_reference_passes_every_case():
    """The reference conforms to itself: every case passes at level 1."""
    assert failures("reference") == {}


def test_expected_catches_name_real_cases():
    """Every (feature, name) in the table is a catalogue case."""
    names = {(c.feature, c.name) for c in ALL_CASES}
    for caught in CAUGHT.values():
        assert set(caught) <= names


@pytest.mark.parametrize("module", sorted(CAUGHT))
def test_broken_driver_caught_by_exactly_the_right_cases(module):
    """The broken driver fails exactly the listed cases, each with the listed finding."""
    failed = failures(f"broken_drivers.{module}:driver")
    assert set(failed) == set(CAUGHT[module])
    for key, want in CAUGHT[module].items():
        verdict = failed[key]
        case_id = next(c.id for c in ALL_CASES if (c.feature, c.name) == key)
        assert verdict.reason.startswith(f"{case_id} {key[0]}/{key[1]}: ")
        if want.startswith("code:"):
            assert verdict.evidence["observed"] == f"rejected:{want.split(':', 1)[1]}"
        elif want.startswith("reject:"):
            code = want.split(":", 1)[1]
            assert verdict.evidence["observed"] == "accepted"
            assert f"expected rejection {code}" in verdict.reason and "driver accepted" in verdict.reason
        else:
            assert want in {f["check"] for f in verdict.evidence["findings"]}, verdict.reason


@pytest.mark.parametrize("module", sorted(LIFECYCLE_DRIVERS))
def test_lifecycle_driver_is_right_on_create(module):
    """A lifecycle-broken driver passes every create-time case; only cases of its operation fail."""
    spec = f"broken_drivers.{module}:driver"
    assert all(verdicts(spec)[(c.feature, c.name)].passed for c in CASES)
    operations = {c.operation for c in LIFECYCLE_CASES if (c.feature, c.name) in failures(spec)}
    assert operations == {LIFECYCLE_DRIVERS[module]}


def test_new_uuid_after_resize_fails_every_accepted_resize_case():
    """A driver that regenerates the domain with another uuid on resize fails exactly the
    accepted resize cases, each with the lifecycle.uuid finding."""
    failed = failures("broken_drivers.resize_new_uuid:driver")
    accepted = {(c.feature, c.name) for c in LIFECYCLE_CASES if c.operation == "resize"
                and verdicts("reference")[(c.feature, c.name)].evidence["observed"] == "accepted"}
    assert set(failed) == accepted and len(accepted) >= 6
    for verdict in failed.values():
        assert {f["check"] for f in verdict.evidence["findings"]} == {"lifecycle.uuid"}


def test_protocol_1_driver_is_certified_on_create_only():
    """A driver without a protocol attribute (protocol 1) gets every lifecycle case skipped,
    naming the protocol; its create-time verdicts are judged as usual."""
    judged = verdicts("broken_drivers.watchdog_flavor_wins:driver")
    for case in LIFECYCLE_CASES:
        verdict = judged[(case.feature, case.name)]
        assert verdict.outcome == "skip"
        assert "speaks protocol 1 (certified on create only)" in verdict.reason
    assert all(judged[(c.feature, c.name)].outcome in ("pass", "fail") for c in CASES)


def test_crashing_driver_is_a_fault_on_its_cases():
    """A driver raising KeyError fails exactly the cases that reach the crash, as a crash fault."""
    failed = failures("broken_drivers.crashing:driver")
    crashing = {(c.feature, c.name) for c in CASES if "hw:watchdog_action" in c.extra_specs}
    assert set(failed) == crashing
    for verdict in failed.values():
        assert verdict.evidence["observed"] == "fault:crash" and "KeyError" in verdict.reason


def test_unknown_rejection_code_fails_everything():
    """Rejecting with a code outside the protocol is a bad-rejection fault on every case."""
    failed = failures("broken_drivers.bad_rejection:driver")
    assert len(failed) == len(CASES)
    assert {v.evidence["observed"] for v in failed.values()} == {"fault:bad-rejection"}


@pytest.mark.parametrize("script, kind", [
    ("exec_junk.py", "not-xml"),
    ("exec_exit_one.py", "exit-code"),
    ("exec_doctype.py", "unsafe"),
    ("exec_hang.py", "timeout"),
    ("exec_flood.py", "bad-output"),
])
def test_misbehaving_exec_driver_fails_with_named_fault(script, kind):
    """Protocol-level misbehaviour fails the case with the fault kind in evidence and reason."""
    case = all_cases("watchdog")[0]
    verdict = judge_xml(case, ExecDriver([sys.executable, str(BROKEN / script)], timeout=2))
    assert verdict.outcome == "fail"
    assert verdict.evidence["observed"] == f"fault:{kind}"
    assert verdict.reason.startswith(f"{case.id} watchdog/{case.name}: driver fault ({kind})")


def test_lifecycle_driver_over_exec2_is_caught_the_same_way():
    """Served over exec protocol 2, the old-rate driver fails the same resize cases."""
    env_cmd = ["env", f"PYTHONPATH={TESTS}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"]
    driver = load_driver("exec2:" + " ".join(env_cmd + [sys.executable, "-m", "conformance.cli",
                                                       "driver-exec", "broken_drivers.rng_keeps_old_rate:driver"]))
    names = ("reboot-keeps-rate", "resize-changes-rate", "resize-disallows", "resize-rate-invalid")
    outcomes = {c.name: judge_xml(c, driver).outcome for c in LIFECYCLE_CASES
                if c.feature == "rng" and c.name in names}
    assert outcomes == {"reboot-keeps-rate": "pass", "resize-changes-rate": "fail",
                        "resize-disallows": "pass", "resize-rate-invalid": "fail"}


def test_broken_driver_over_exec_is_caught_the_same_way():
    """Served over the exec protocol, the rate-dropping driver fails the same rng cases."""
    env_cmd = ["env", f"PYTHONPATH={TESTS}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"]
    driver = ExecDriver(env_cmd + [sys.executable, "-m", "conformance.cli", "driver-exec",
                                   "broken_drivers.rng_drops_rate:driver"])
    cases = [c for c in all_cases("rng") if c.name in ("default-on", "rate", "kvm-rate", "allowed-invalid")]
    outcomes = {c.name: judge_xml(c, driver).outcome for c in cases}
    assert outcomes == {"default-on": "pass", "rate": "fail", "kvm-rate": "fail", "allowed-invalid": "pass"}
