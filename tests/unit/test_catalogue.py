"""Catalogue coverage: enough cases per feature, valid requests, every semantics row reached."""

import dataclasses

import pytest

from conformance.catalogue import CASES, FEATURES, all_cases, by_id
from conformance.catalogue.expected import expected_outcome
from conformance.contract import REJECTION_CODES, validate

EXPECTED = {c.id: expected_outcome(c.request()) for c in CASES}


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


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.slug)
def test_case_request_is_schema_valid(case):
    """Every case turns into a protocol-1 request valid against request-v1.json."""
    validate("request", case.request().to_dict())


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.slug)
def test_documented_rejection_matches_reference(case):
    """A case's expect_rejection (documentation) agrees with what the reference decides."""
    rejection = EXPECTED[case.id].rejection
    assert (rejection.code if rejection else None) == case.expect_rejection


def test_every_reachable_rejection_code_is_covered():
    """Each rejection code appears in the catalogue, except InvalidWatchdogAction, which API
    validation (always on in protocol 1) pre-empts with InvalidExtraSpec/InvalidImageProperty."""
    codes = {e.rejection.code for e in EXPECTED.values() if not e.accepted}
    assert codes == REJECTION_CODES - {"InvalidWatchdogAction"}


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
