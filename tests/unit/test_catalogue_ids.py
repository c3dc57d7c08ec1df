"""Catalogue ids: valid uuid literals, unique, registered in ids.txt and never reused."""

import uuid
from collections import Counter
from pathlib import Path

import pytest

from conformance.catalogue import ALL_CASES as CASES  # create-time and lifecycle cases

CATALOGUE = Path(__file__).resolve().parents[2] / "conformance" / "catalogue"


def registry() -> list[tuple[str, str, str]]:
    rows = []
    for line in (CATALOGUE / "ids.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            case_id, feature, name = line.split()
            rows.append((case_id, feature, name))
    return rows


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.slug)
def test_id_is_canonical_uuid(case):
    """Each id is a canonical (lower-case, hyphenated) uuid string."""
    assert str(uuid.UUID(case.id)) == case.id


def test_ids_are_unique():
    """No two cases share an id."""
    dupes = [i for i, n in Counter(c.id for c in CASES).items() if n > 1]
    assert not dupes


def test_names_unique_within_feature():
    """(feature, name) identifies one case."""
    dupes = [k for k, n in Counter((c.feature, c.name) for c in CASES).items() if n > 1]
    assert not dupes


def test_ids_are_literals_in_their_feature_module():
    """Ids are hard-coded in conformance/catalogue/<feature>.py, or in the module of the cases
    across features (q35, realtime, mem_encryption, operations), not generated."""
    cross = "".join((CATALOGUE / f"{name}.py").read_text()
                    for name in ("q35", "realtime", "mem_encryption", "operations"))
    for case in CASES:
        source = (CATALOGUE / f"{case.feature}.py").read_text() + cross
        assert f'id="{case.id}"' in source, case.slug


def test_registry_lists_each_id_once():
    """ids.txt never lists an id twice (an id is never re-registered for another case)."""
    dupes = [i for i, n in Counter(r[0] for r in registry()).items() if n > 1]
    assert not dupes


def test_every_case_is_registered_under_its_own_name():
    """Each case's id is in ids.txt with the same feature and name (reuse for another case fails)."""
    registered = {case_id: (feature, name) for case_id, feature, name in registry()}
    for case in CASES:
        assert case.id in registered, f"{case.slug}: add '{case.id} {case.feature} {case.name}' to ids.txt"
        assert registered[case.id] == (case.feature, case.name), (
            f"id {case.id} is registered for {registered[case.id]}, now used by {case.feature}/{case.name}")
