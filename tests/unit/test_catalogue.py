"""Catalogue coverage: enough cases per feature, valid requests, every semantics row reached."""

import dataclasses

import pytest

from conformance.catalogue import ALL_CASES, CASES, FEATURES, LIFECYCLE_CASES, all_cases, by_id
from conformance.catalogue.expected import expected_outcome
from conformance.contract import OPERATIONS, PROTOCOL_3_OPERATIONS, REJECTION_CODES, validate
from conformance.reference import resolve

EXPECTED = {c.id: expected_outcome(c.request()) for c in ALL_CASES}
LIFECYCLE_ONLY = {"ImageNUMATopologyRebuildConflict"}


def features_of(feature):
    return [EXPECTED[c.id].features for c in all_cases(feature) if EXPECTED[c.id].accepted]


@pytest.mark.parametrize("feature", FEATURES)
def test_at_least_15_cases_per_feature(feature):
    """Each feature has at least 15 cases, some accepted and some rejected, one on kvm."""
    cases = all_cases(feature)
    assert len(cases) >= 15
    assert any(EXPECTED[c.id].accepted for c in cases)
    assert any(not EXPECTED[c.id].accepted for c in cases)
    assert any(c.virt_type == "kvm" for c in cases)


def test_create_time_catalogue_is_unchanged():
    """The create-time catalogue keeps its 123 cases of the six features first, then 65 cases
    on q35, realtime and memory encryption (issue 26), all create; lifecycle cases come after."""
    assert len(CASES) == 188 and {c.operation for c in CASES} == {"create"}
    from conformance.catalogue import (agent, hidden_hypervisor, locked_memory, pmu, rng,
                                       watchdog)
    six = (agent, watchdog, rng, pmu, hidden_hypervisor, locked_memory)
    assert CASES[:123] == tuple(c for module in six for c in module.CASES)
    assert ALL_CASES == CASES + LIFECYCLE_CASES and all(c.lifecycle for c in LIFECYCLE_CASES)


@pytest.mark.parametrize("feature", FEATURES)
def test_at_least_8_lifecycle_cases_per_feature(feature):
    """Each feature has >= 8 lifecycle cases: reboot or stop/start, resize and rebuild, some
    accepted and some rejected."""
    cases = [c for c in LIFECYCLE_CASES if c.feature == feature]
    assert len(cases) >= 8
    assert {"resize", "rebuild"} <= {c.operation for c in cases}
    assert {"reboot", "stop_start"} & {c.operation for c in cases}
    assert any(EXPECTED[c.id].accepted for c in cases)
    assert any(not EXPECTED[c.id].accepted for c in cases)


def test_every_operation_is_in_the_catalogue():
    assert {c.operation for c in ALL_CASES} == set(OPERATIONS)


@pytest.mark.parametrize("case", LIFECYCLE_CASES, ids=lambda c: c.slug)
def test_lifecycle_before_state_is_creatable(case):
    """The instance's state before the operation is one the reference accepts at create."""
    assert expected_outcome(case.before_request()).accepted


@pytest.mark.parametrize("case", LIFECYCLE_CASES, ids=lambda c: c.slug)
def test_lifecycle_case_changes_something_or_persists(case):
    """resize changes the flavor, rebuild the image; reboot/stop-start change neither."""
    request = case.request()
    if case.operation == "resize":
        assert request.old_flavor.extra_specs != request.flavor.extra_specs
    elif case.operation == "rebuild":
        assert request.old_image.properties != request.image.properties
    else:
        assert request.old_flavor is None and request.old_image is None


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.slug)
def test_case_request_is_schema_valid(case):
    """A create case is a protocol-1 request (request-v1.json), a lifecycle case protocol 2
    (request-v2.json), a case of a protocol-3 operation protocol 3 (request-v3.json)."""
    data = case.request().to_dict()
    protocol = 3 if case.operation in PROTOCOL_3_OPERATIONS else 2 if case.lifecycle else 1
    assert data["protocol"] == protocol
    validate("request", data)


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.slug)
def test_documented_rejection_matches_reference(case):
    """A case's expect_rejection (documentation) agrees with what the reference decides."""
    rejection = EXPECTED[case.id].rejection
    assert (rejection.code if rejection else None) == case.expect_rejection


def test_every_reachable_rejection_code_is_covered():
    """Each rejection code appears in the catalogue, except InvalidWatchdogAction, which API
    validation (always on) pre-empts with InvalidExtraSpec/InvalidImageProperty; the rebuild-only
    code appears in lifecycle cases only."""
    codes = {EXPECTED[c.id].rejection.code for c in CASES if not EXPECTED[c.id].accepted}
    assert codes == REJECTION_CODES - {"InvalidWatchdogAction"} - LIFECYCLE_ONLY
    lifecycle = {EXPECTED[c.id].rejection.code for c in LIFECYCLE_CASES if not EXPECTED[c.id].accepted}
    assert LIFECYCLE_ONLY <= lifecycle


def test_operation_specific_rejections_are_covered():
    """The catalogue holds each operation-specific rejection: a resize and a rebuild whose PMU
    conflict pre-empts what create would report, a rebuild NUMA change, an RNG path gone at reboot."""
    by_name = {(c.feature, c.name): c for c in LIFECYCLE_CASES}
    for key, create_code in [(("pmu", "resize-pmu-before-locked-memory"), "LockMemoryForbidden"),
                             (("pmu", "rebuild-pmu-before-page-size"), "MemoryPageSizeForbidden")]:
        case = by_name[key]
        assert EXPECTED[case.id].rejection.code == "FlavorImageConflict"
        as_create = dataclasses.replace(case.request(), operation="create", old_flavor=None, old_image=None)
        with pytest.raises(Exception, match=create_code):
            resolve(as_create)
    assert EXPECTED[by_name[("rng", "reboot-host-path-gone")].id].rejection.code == "RngDeviceNotExist"


def test_every_effective_value_is_reached():
    """Accepted cases reach every effective value of every feature."""
    assert {f.agent for f in features_of("agent")} == {True, False}
    assert {f.watchdog_action for f in features_of("watchdog")} == {None, "none", "pause", "poweroff", "reset"}
    rngs = [f.rng for f in features_of("rng")]
    assert None in rngs and any(r and r.rate_bytes for r in rngs) and any(r and not r.rate_bytes for r in rngs)
    assert {r.backend_path for r in rngs if r} == {"/dev/urandom", "/dev/random"}
    assert {f.pmu for f in features_of("pmu")} == {None, True, False}
    assert {f.hide_hypervisor for f in features_of("hidden_hypervisor")} == {True, False}
    assert {f.locked_memory for f in features_of("locked_memory")} == {True, False}


def test_cases_are_immutable():
    """Cases are frozen, including their mappings."""
    case = CASES[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        case.name = "x"
    with pytest.raises(TypeError):
        case.extra_specs["hw:pmu"] = "on"


def test_slug_and_lookup():
    """Test ids are <feature>-<name>-<uuid8>; by_id finds a case."""
    case = CASES[-1]
    assert case.slug == f"{case.feature}-{case.name}-{case.id[:8]}"
    assert by_id(case.id) is case
    with pytest.raises(KeyError):
        by_id("00000000-0000-0000-0000-000000000000")


def test_virt_type_default_comes_from_the_harness():
    """virt_type None means the harness default; an explicit virt_type wins."""
    plain = next(c for c in CASES if c.virt_type is None)
    kvm = next(c for c in CASES if c.virt_type == "kvm")
    assert plain.request("kvm").virt_type == "kvm" and plain.request().virt_type == "qemu"
    assert kvm.request("qemu").virt_type == "kvm"


@pytest.mark.parametrize("operation", PROTOCOL_3_OPERATIONS)
def test_at_least_8_cases_per_protocol_3_operation(operation):
    """Each protocol-3 operation has >= 8 cases covering the six features, after every
    protocol-2 lifecycle case."""
    cases = [c for c in LIFECYCLE_CASES if c.operation == operation]
    assert len(cases) >= 8
    assert {c.feature for c in cases} >= set(FEATURES)
    assert any(EXPECTED[c.id].accepted for c in cases)
    first = LIFECYCLE_CASES.index(cases[0])
    assert all(c.operation in PROTOCOL_3_OPERATIONS for c in LIFECYCLE_CASES[first:])
