"""Per-release expectations: ``Case.changes`` names exactly the upstream changes whose absence
alone changes how the case is judged, so that each Nova release is judged on its own
behaviour and ``conformance matrix`` can say which change explains a difference."""

import pytest

from conformance.catalogue import ALL_CASES, by_id
from conformance.catalogue.changes import attributed, between, fails_under
from conformance.reference.releases import BY_NAME, CHANGES, Model


@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.slug)
def test_changes_are_exactly_the_attributed_ones(case):
    assert set(case.changes) == set(attributed(case))


# Before 34.0.0 Nova refuses stateless BIOS firmware with a plain Invalid, which has no
# contract code (docs/nova-differences.md D3): no catalogue case can carry that change; the
# differential (tests/nova) compares the reference's model of it with each release.
NO_CASE = {"stateless-bios"}


def test_every_change_explains_some_case():
    """A modelled change that no case shows would be untested modelling."""
    named = {name for case in ALL_CASES for name in case.changes}
    assert named == {change.name for change in CHANGES} - NO_CASE


def test_releases_33_and_34_differ_where_the_changes_say():
    """SEV-SNP is locked-free on 34.0.0 and invalid on 33.0.2: a 33.0.2-faithful driver fails
    that case when judged as 34.0.0, and passes it when judged as itself."""
    snp = by_id("a7869737-195b-42f6-8e4b-f9f2e387c4e3")  # locked_memory/sev-snp-not-locked
    assert {c.name for c in between(snp, "33.0.2", "34.0.0")} >= {"sev-snp"}
    assert fails_under(snp, Model("33.0.2"), Model("34.0.0"))
    assert not fails_under(snp, Model("33.0.2"), Model("33.0.2"))
    assert between(snp, "34.0.0", "34.0.1") == ()


def test_a_case_without_changes_is_judged_alike_on_every_release():
    plain = next(c for c in ALL_CASES if not c.changes and c.feature == "locked_memory")
    for old in ("32.2.1", "33.0.2"):
        assert not fails_under(plain, Model(old), Model("34.0.0"))
    assert all(BY_NAME[name] for name in plain.changes)


def test_matrix_lists_release_differences_with_their_change():
    """``conformance matrix`` lists, per pair of neighbouring releases, the cases whose expected
    outcome differs, each with its upstream change; none between 32.2.1 and 33.0.2."""
    from conformance.catalogue.changes import release_differences
    newer, older = release_differences(["32.2.1", "34.0.0", "33.0.2"])
    assert (newer["new"], newer["old"], older["new"], older["old"]) == ("34.0.0", "33.0.2", "33.0.2", "32.2.1")
    assert older["cases"] == [] and len(newer["cases"]) >= 20
    snp = next(c for c in newer["cases"] if c["name"] == "sev-snp-not-locked")
    assert {c["name"] for c in snp["changes"]} >= {"sev-snp", "sev-locked-constraint"}
    assert all(c["commits"] for case in newer["cases"] for c in case["changes"])
