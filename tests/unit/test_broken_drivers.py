"""Each deliberately broken driver is caught by exactly the right cases, with the right finding,
in process and served over both exec modes; the reference passes every case. The lifecycle
drivers (protocol 2, and protocol 3 for its operations) are right on create and wrong after one
operation; protocol-1 drivers are judged on create only, protocol-2 drivers without the
operations of protocol 3."""

import os
import sys
from pathlib import Path

import pytest

from conformance.catalogue import ALL_CASES, CASES, LIFECYCLE_CASES, all_cases
from conformance.checks.level_xml import judge_xml
from conformance.contract import driver_protocol
from conformance.drivers import load_driver
from conformance.drivers.exec import ExecDriver
from conformance.drivers.exec_stream import StreamDriver

TESTS = Path(__file__).resolve().parents[1]
BROKEN = TESTS / "broken_drivers"
if str(TESTS) not in sys.path:  # broken_drivers.<module>:driver specs
    sys.path.append(str(TESTS))
SERVED = (f"env PYTHONPATH={TESTS}{os.pathsep}{os.environ.get('PYTHONPATH', '')} "
          f"{sys.executable} -m conformance.cli driver-exec")
# in process; over exec-stream (whole catalogue, one process); over one-shot exec (only the
# cases a driver must fail, plus CONTROL: one process per case is slow)
MODES = ["python", "exec-stream", "exec"]
EXEC_MODES = {"exec": ExecDriver, "exec-stream": StreamDriver}
CONTROL = ("rng", "default-on")

# broken driver module -> {(feature, case name): check name, or "reject:<Code>" when the
# driver accepts what the reference rejects}
CAUGHT = {
    "watchdog_flavor_wins": {
        ("watchdog", "image-disabled-beats-flavor-reset"): "watchdog.absent",
        ("watchdog", "image-reset-beats-flavor-pause"): "watchdog.action",
        ("watchdog", "image-pause-beats-flavor-disabled"): "watchdog.count",
        ("watchdog", "image-none-beats-flavor-poweroff"): "watchdog.action",
        ("watchdog", "q35-image-action"): "watchdog.action",
    },
    "rng_drops_rate": {
        ("rng", "rate"): "rng.rate",
        ("rng", "kvm-rate"): "rng.rate",
        ("rng", "q35-rate"): "rng.rate",
        ("rng", "sev-rng-rate"): "rng.rate",
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
        ("locked_memory", "realtime-locked-true-no-pages"): "reject:LockMemoryForbidden",
    },
    "agent_wrong_target": {
        ("agent", name): "agent.channel"
        for name in ("yes", "true-capitalised", "one", "on", "y", "t", "yes-upper", "padded", "kvm",
                     "windows", "with-watchdog", "q35-yes", "sev-agent")
    },
    # implicit locked memory (realtime, SEV) and the watchdog on q35 (issue 26)
    "realtime_drops_locked": {
        ("locked_memory", name): "locked.present"
        for name in ("realtime-implies-locked", "realtime-mask-explicit", "realtime-true-string",
                     "realtime-image-mask", "realtime-image-mask-beats-flavor",
                     "realtime-image-policy", "realtime-locked-false-still-locked",
                     "realtime-image-locked-false", "realtime-locked-true-pages",
                     "realtime-pmu-off", "realtime-kvm")
    },
    "sev_obeys_locked_false": {
        ("locked_memory", name): "locked.present"
        for name in ("sev-flavor-locked-false", "sev-image-locked-false",
                     "resize-sev-flavor-locked-false", "rebuild-sev-image-locked-false")
    },
    "q35_no_watchdog": {
        ("watchdog", name): "watchdog.count"
        for name in ("q35-reset", "q35-pause", "q35-poweroff", "q35-none", "q35-image-action",
                     "host-default-q35-reset")
    },
    # lifecycle (protocol 2): right on create, wrong after one operation
    "watchdog_dropped_on_resize": {
        ("watchdog", "resize-changes-action"): "watchdog.count",
        ("watchdog", "resize-adds-watchdog"): "watchdog.count",
        ("watchdog", "resize-image-still-wins"): "watchdog.count",
        ("watchdog", "resize-q35-changes-action"): "watchdog.count",
        ("agent", "resize-keeps-image-agent"): "watchdog.count",
    },
    "rng_keeps_old_rate": {
        ("rng", "resize-changes-rate"): "rng.rate",
        ("rng", "resize-removes-rate"): "rng.rate",
        ("rng", "resize-allows-again"): "rng.rate",
        ("rng", "resize-rate-invalid"): "reject:InvalidExtraSpec",
        ("rng", "resize-q35-rate"): "rng.rate",
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
        ("agent", "rebuild-onto-q35-image"): "domain.machine",
        ("watchdog", "rebuild-onto-q35-image"): "domain.machine",
        ("watchdog", "rebuild-q35-image-disabled"): "watchdog.absent",
        ("locked_memory", "rebuild-image-moves-mask"): "realtime.vcpusched",
        ("locked_memory", "rebuild-image-drops-policy"): "reject:RealtimeConfigurationInvalid",
        ("locked_memory", "rebuild-onto-sev-image"): "encryption.present",
        ("locked_memory", "rebuild-sev-image-locked-false"): "locked.present",
    },
    "resize_create_order": {
        ("pmu", "resize-pmu-before-locked-memory"): "code:LockMemoryForbidden",
    },
    # each passed every case at every level before its case was catalogued
    "image_lost_on_reboot:watchdog": {
        ("watchdog", "reboot-keeps-image-action"): "watchdog.action",
    },
    "image_lost_on_reboot:hiding": {
        ("hidden_hypervisor", "reboot-keeps-image-hiding"): "hidden.count",
    },
    "rng_path_unchecked:stop_start": {
        ("rng", "stop-start-host-path-gone"): "reject:RngDeviceNotExist",
    },
    "rng_path_unchecked:resize": {
        ("rng", "resize-host-path-gone"): "reject:RngDeviceNotExist",
    },
    # protocol 3: right on create and every other operation, wrong after one
    "watchdog_dropped_on_live_migrate": {
        ("watchdog", "live-migrate-image-action-wins"): "watchdog.count",
        ("watchdog", "live-migrate-keeps-flavor-action-kvm"): "watchdog.count",
    },
    "cold_migrate_on_source_host": {
        ("rng", "cold-migrate-destination-path-gone"): "reject:RngDeviceNotExist",
        ("locked_memory", "cold-migrate-destination-without-dedicated-cpus"): "reject:NoValidHost",
    },
    "rng_rate_dropped_on_resume": {
        ("rng", "suspend-resume-keeps-rate"): "rng.rate",
        ("rng", "suspend-resume-host-path-gone-keeps-domain"): "rng.rate",
    },
    "unpause_regenerates": {
        ("rng", "pause-unpause-host-path-gone-keeps-domain"): "code:RngDeviceNotExist",
    },
    "agent_lost_on_unshelve": {
        ("agent", "unshelve-keeps-agent"): "agent.channel",
    },
    "evacuate_keeps_domain": {
        ("rng", "evacuate-host-path-gone"): "reject:RngDeviceNotExist",
    },
    "soft_reboot_is_hard": {
        ("rng", "soft-reboot-host-path-gone-keeps-domain"): "code:RngDeviceNotExist",
    },
    "clean_start_keeps_domain": {
        ("rng", "clean-stop-start-host-path-gone"): "reject:RngDeviceNotExist",
    },
}
LIFECYCLE_DRIVERS = {  # module -> the one operation it gets wrong
    "watchdog_dropped_on_resize": "resize",
    "rng_keeps_old_rate": "resize",
    "rebuild_ignores_new_image": "rebuild",
    "resize_create_order": "resize",
    "image_lost_on_reboot:watchdog": "reboot",
    "image_lost_on_reboot:hiding": "reboot",
    "rng_path_unchecked:stop_start": "stop_start",
    "rng_path_unchecked:resize": "resize",
    "watchdog_dropped_on_live_migrate": "live_migrate",
    "cold_migrate_on_source_host": "cold_migrate",
    "rng_rate_dropped_on_resume": "suspend_resume",
    "unpause_regenerates": "pause_unpause",
    "agent_lost_on_unshelve": "shelve_unshelve",
    "evacuate_keeps_domain": "evacuate",
    "soft_reboot_is_hard": "soft_reboot",
    "clean_start_keeps_domain": "clean_stop_start",
}


_LOADED: dict = {}    # spec -> driver, loaded once (an exec-stream driver keeps its process)
_VERDICTS: dict = {}  # (spec, case ids) -> verdicts


@pytest.fixture(scope="module", autouse=True)
def _close_drivers():
    yield
    for driver in _LOADED.values():
        getattr(driver, "close", lambda: None)()


def spec(module: str, mode: str = "python") -> str:
    """The spec of ``broken_drivers.<module>:driver`` (``<module>:<attr>`` as given) in process,
    or served by driver-exec in ``mode`` with the protocol the driver declares
    (exec2-stream: for protocol 2)."""
    attr = "" if ":" in module else ":driver"  # a module with one driver per operation
    python = f"broken_drivers.{module}{attr}" if module != "reference" else "reference"
    if mode == "python":
        return python
    protocol = driver_protocol(load_driver(python))
    prefix = mode.replace("exec", "exec" if protocol == 1 else f"exec{protocol}", 1)
    return f"{prefix}:{SERVED} {python}"


def verdicts(spec: str, cases=ALL_CASES) -> dict:
    """(feature, name) -> verdict, for ``cases`` (default: the whole catalogue, create-time
    and lifecycle)."""
    key = (spec, tuple(c.id for c in cases))
    if key not in _VERDICTS:
        if spec not in _LOADED:
            _LOADED[spec] = load_driver(spec)
        _VERDICTS[key] = {(c.feature, c.name): judge_xml(c, _LOADED[spec]) for c in cases}
    return _VERDICTS[key]


def failures(spec: str, cases=ALL_CASES) -> dict:
    """(feature, name) -> failing verdict (skips are not failures)."""
    return {key: v for key, v in verdicts(spec, cases).items() if v.outcome in ("fail", "error")}


def judged(module: str, mode: str, must_fail) -> tuple[dict, set]:
    """Failures of ``module`` in ``mode`` and the (feature, name) set they are judged on (all
    cases, or for one-shot exec the ``must_fail`` cases plus CONTROL)."""
    if mode != "exec":
        return failures(spec(module, mode)), {(c.feature, c.name) for c in ALL_CASES}
    cases = [c for c in ALL_CASES if (c.feature, c.name) in set(must_fail) | {CONTROL}]
    return failures(spec(module, mode), cases), {(c.feature, c.name) for c in cases}


@pytest.mark.parametrize("mode", ["python", "exec-stream"])
def test_reference_passes_every_case(mode):
    """The reference conforms to itself: every case passes at level 1 (also over the stream)."""
    assert failures(spec("reference", mode)) == {}


def test_expected_catches_name_real_cases():
    """Every (feature, name) in the table is a catalogue case."""
    names = {(c.feature, c.name) for c in ALL_CASES}
    for caught in CAUGHT.values():
        assert set(caught) <= names


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("module", sorted(CAUGHT))
def test_broken_driver_caught_by_exactly_the_right_cases(module, mode):
    """The broken driver fails exactly the listed cases, each with the listed finding."""
    failed, _ = judged(module, mode, CAUGHT[module])
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


@pytest.mark.parametrize("mode", ["python", "exec-stream"])
@pytest.mark.parametrize("module", sorted(LIFECYCLE_DRIVERS))
def test_lifecycle_driver_is_right_on_create(module, mode):
    """A lifecycle-broken driver passes every create-time case; only cases of its operation fail."""
    judged_spec = spec(module, mode)
    assert all(verdicts(judged_spec)[(c.feature, c.name)].passed for c in CASES)
    failed = failures(judged_spec)
    operations = {c.operation for c in LIFECYCLE_CASES if (c.feature, c.name) in failed}
    assert operations == {LIFECYCLE_DRIVERS[module]}


@pytest.mark.parametrize("mode", ["python", "exec-stream"])
def test_new_uuid_after_resize_fails_every_accepted_resize_case(mode):
    """A driver that regenerates the domain with another uuid on resize fails exactly the
    accepted resize cases, each with the lifecycle.uuid finding."""
    failed = failures(spec("resize_new_uuid", mode))
    accepted = {(c.feature, c.name) for c in LIFECYCLE_CASES if c.operation == "resize"
                and verdicts("reference")[(c.feature, c.name)].evidence["observed"] == "accepted"}
    assert set(failed) == accepted and len(accepted) >= 6
    for verdict in failed.values():
        assert {f["check"] for f in verdict.evidence["findings"]} == {"lifecycle.uuid"}


# The sandbox judges every answer at level 1 too: another name is its rule ``name``, a
# <sysinfo> uuid other than the domain's <uuid> its rule ``uuid`` (libvirt refuses it).
IDENTITY_FINDING = {"uuid": {"lifecycle.uuid"}, "sysinfo": {"lifecycle.uuid", "sandbox.uuid"},
                    "name": {"lifecycle.name", "sandbox.name"}}


@pytest.mark.parametrize("operation", ["reboot", "stop_start", "resize", "rebuild"])
@pytest.mark.parametrize("rule", sorted(IDENTITY_FINDING))
def test_another_identity_after_an_operation_fails_its_accepted_cases(rule, operation):
    """A driver that answers another uuid (its <uuid> or its <sysinfo> system uuid) or name
    after one operation fails exactly the accepted cases of that operation at level 1, each
    with the identity finding; it is right on create."""
    judged_spec = f"broken_drivers.lifecycle_identity:{rule}_{operation}"
    failed = failures(judged_spec)
    accepted = {(c.feature, c.name) for c in LIFECYCLE_CASES if c.operation == operation
                and verdicts("reference")[(c.feature, c.name)].evidence["observed"] == "accepted"}
    assert set(failed) == accepted and accepted
    for verdict in failed.values():
        assert {f["check"] for f in verdict.evidence["findings"]} == IDENTITY_FINDING[rule]


@pytest.mark.parametrize("operation", ["resize", "rebuild"])
def test_ignoring_the_operation_fails_only_that_operation(operation):
    """A driver that answers the domain before a resize/rebuild for the request after it is
    right on create and fails only cases of that operation."""
    judged_spec = f"broken_drivers.ignores_operation:{operation}"
    assert all(verdicts(judged_spec)[(c.feature, c.name)].passed for c in CASES)
    failed = failures(judged_spec)
    assert failed and {c.operation for c in LIFECYCLE_CASES if (c.feature, c.name) in failed} == {operation}


def test_protocol_1_driver_is_certified_on_create_only():
    """A driver without a protocol attribute (protocol 1) gets every lifecycle case skipped,
    naming the protocol; its create-time verdicts are judged as usual."""
    judged = verdicts("broken_drivers.watchdog_flavor_wins:driver")
    for case in LIFECYCLE_CASES:
        verdict = judged[(case.feature, case.name)]
        assert verdict.outcome == "skip"
        assert "speaks protocol 1 (certified on create only)" in verdict.reason
    assert all(judged[(c.feature, c.name)].outcome in ("pass", "fail") for c in CASES)


def test_protocol_2_driver_is_certified_without_the_protocol_3_operations():
    """A protocol-2 driver gets every case of a protocol-3 operation skipped, naming both
    protocols; its protocol-2 lifecycle cases are judged as usual."""
    from conformance.contract import PROTOCOL_3_OPERATIONS
    judged = verdicts("broken_drivers.watchdog_dropped_on_resize:driver")
    for case in LIFECYCLE_CASES:
        verdict = judged[(case.feature, case.name)]
        if case.operation in PROTOCOL_3_OPERATIONS:
            assert verdict.outcome == "skip"
            assert (f"{case.operation} needs protocol 3; the driver speaks protocol 2 "
                    "(certified on create and the operations of protocol 2)") in verdict.reason
        else:
            assert verdict.outcome in ("pass", "fail")


@pytest.mark.parametrize("mode", MODES)
def test_crashing_driver_is_a_fault_on_its_cases(mode):
    """A driver raising KeyError fails exactly the cases that reach the crash, as a crash fault
    (served one-shot: driver-exec exits 1 with the traceback on stderr)."""
    crashing = {(c.feature, c.name) for c in CASES if "hw:watchdog_action" in c.extra_specs}
    failed, judged_on = judged("crashing", mode, crashing)
    assert set(failed) == crashing & judged_on
    kind = "exit-code" if mode == "exec" else "crash"
    for verdict in failed.values():
        assert verdict.evidence["observed"] == f"fault:{kind}" and "KeyError" in verdict.reason


@pytest.mark.parametrize("mode", MODES)
def test_unknown_rejection_code_fails_everything(mode):
    """Rejecting with a code outside the protocol is a bad-rejection fault on every create case
    (a protocol-1 driver: its lifecycle cases are skipped)."""
    failed, judged_on = judged("bad_rejection", mode, [(c.feature, c.name) for c in CASES[:3]])
    assert set(failed) == judged_on & {(c.feature, c.name) for c in CASES}
    assert {v.evidence["observed"] for v in failed.values()} == {"fault:bad-rejection"}


@pytest.mark.parametrize("mode", sorted(EXEC_MODES))
@pytest.mark.parametrize("script, kind", [
    ("exec_junk.py", "not-xml"),
    ("exec_exit_one.py", "exit-code"),
    ("exec_doctype.py", "unsafe"),
    ("exec_hang.py", "timeout"),
    ("exec_flood.py", "bad-output"),
])
def test_misbehaving_exec_driver_fails_with_named_fault(script, kind, mode):
    """Protocol-level misbehaviour fails the case with the fault kind in evidence and reason."""
    case = all_cases("watchdog")[0]
    driver = EXEC_MODES[mode]([sys.executable, str(BROKEN / script)], timeout=2)
    try:
        verdict = judge_xml(case, driver)
    finally:
        getattr(driver, "close", lambda: None)()
    assert verdict.outcome == "fail"
    assert verdict.evidence["observed"] == f"fault:{kind}"
    assert verdict.reason.startswith(f"{case.id} watchdog/{case.name}: driver fault ({kind})")
