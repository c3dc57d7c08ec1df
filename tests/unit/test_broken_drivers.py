"""Each deliberately broken driver is caught by exactly the right cases, with the right finding,
in process and served over both exec modes; the reference passes every case."""

import os
import sys
from pathlib import Path

import pytest

from conformance.catalogue import CASES, all_cases
from conformance.checks.level_xml import judge_xml
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
}


_LOADED: dict = {}    # spec -> driver, loaded once (an exec-stream driver keeps its process)
_FAILURES: dict = {}  # (spec, case ids) -> failures


@pytest.fixture(scope="module", autouse=True)
def _close_drivers():
    yield
    for driver in _LOADED.values():
        getattr(driver, "close", lambda: None)()


def spec(module: str, mode: str) -> str:
    return {"python": f"broken_drivers.{module}:driver"}.get(
        mode, f"{mode}:{SERVED} broken_drivers.{module}:driver")


def failures(spec: str, cases=CASES) -> dict:
    """(feature, name) -> failing verdict, for ``cases`` (default: the whole catalogue)."""
    key = (spec, tuple(c.id for c in cases))
    if key not in _FAILURES:
        if spec not in _LOADED:
            _LOADED[spec] = load_driver(spec)
        verdicts = (judge_xml(case, _LOADED[spec]) for case in cases)
        _FAILURES[key] = {(v.feature, v.case_name): v for v in verdicts if not v.passed}
    return _FAILURES[key]


def judged(module: str, mode: str, must_fail) -> tuple[dict, set]:
    """Failures of ``module`` served in ``mode`` and the (feature, name) set they are judged on."""
    if mode != "exec":
        return failures(spec(module, mode)), {(c.feature, c.name) for c in CASES}
    cases = [c for c in CASES if (c.feature, c.name) in set(must_fail) | {CONTROL}]
    return failures(spec(module, mode), cases), {(c.feature, c.name) for c in cases}


def test_reference_passes_every_case():
    """The reference conforms to itself: every case passes at level 1, in process and over
    the stream."""
    assert failures("reference") == {}
    assert failures(f"exec-stream:{SERVED} reference") == {}


def test_expected_catches_name_real_cases():
    """Every (feature, name) in the table is a catalogue case."""
    names = {(c.feature, c.name) for c in CASES}
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
        case_id = next(c.id for c in CASES if (c.feature, c.name) == key)
        assert verdict.reason.startswith(f"{case_id} {key[0]}/{key[1]}: ")
        if want.startswith("reject:"):
            code = want.split(":", 1)[1]
            assert verdict.evidence["observed"] == "accepted"
            assert f"expected rejection {code}" in verdict.reason and "driver accepted" in verdict.reason
        else:
            assert want in {f["check"] for f in verdict.evidence["findings"]}, verdict.reason


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
    """Rejecting with a code outside the protocol is a bad-rejection fault on every case."""
    failed, judged_on = judged("bad_rejection", mode, [(c.feature, c.name) for c in CASES[:3]])
    assert set(failed) == judged_on
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
