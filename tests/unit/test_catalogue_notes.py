"""Version notes: a case carries ``since`` exactly when its expected outcome rests on a
documented change (the reference's outcome differs for the flavor/image as the release
before the change saw them); API-validation rejections (microversion 2.86, Victoria) are not
covered by these notes."""

from dataclasses import replace

import pytest

from conformance.catalogue import ALL_CASES as CASES
from conformance.catalogue.expected import expected_outcome
from conformance.catalogue.notes import NOTES, expected_to_pass, note_for

API_REJECTIONS = ("InvalidExtraSpec", "InvalidImageProperty")


def _outcome(case):
    found = expected_outcome(case.request())
    return ("rejected", found.rejection.code) if found.rejection else ("accepted", found.features)


def _depends_on(case) -> str | None:
    outcome = _outcome(case)
    if outcome[0] == "rejected" and outcome[1] in API_REJECTIONS:
        return None
    for note in NOTES:
        if note.feature == case.feature:
            specs, image = note.before(dict(case.extra_specs), dict(case.image_properties))
            if _outcome(replace(case, extra_specs=specs, image_properties=image)) != outcome:
                return note.since
    return None


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.slug)
def test_since_is_set_exactly_where_the_outcome_rests_on_a_note(case):
    assert case.since == _depends_on(case)


def test_every_since_names_a_note_of_its_feature():
    for case in CASES:
        if case.since:
            assert note_for(case.feature, case.since).text


def test_the_three_documented_changes_are_marked():
    """Ussuri's RNG default and hw:hide_hypervisor_id, Zed's locked memory."""
    marked = {(c.feature, c.since) for c in CASES if c.since}
    assert {("rng", "21.0.0"), ("hidden_hypervisor", "21.0.0"), ("locked_memory", "26.0.0")} <= marked
    assert next(c for c in CASES if c.feature == "rng" and c.name == "default-on").since == "21.0.0"
    assert next(c for c in CASES if c.feature == "locked_memory" and c.name == "unset").since is None


def test_expected_to_pass_compares_releases_numerically():
    assert expected_to_pass(None, "20.0.0")
    assert expected_to_pass("26.0.0", "26.0.0") and expected_to_pass("26.0.0", "100.1.0")
    assert not expected_to_pass("26.0.0", "25.3.0") and not expected_to_pass("21.0.0", "3.0.0")
