"""Per-release expectations of catalogue cases: ``Case.changes`` names the upstream changes
(``conformance/reference/releases.py``) on either side of which a case's expected outcome
differs. A Nova release is judged on its own behaviour (the reference modelling that
release); ``conformance matrix`` lists, per pair of releases, the cases whose expectations
differ and the change that explains it.
"""

from __future__ import annotations

from lxml import etree

from conformance.catalogue.case import Case
from conformance.catalogue.expected import expected_outcome
from conformance.reference.releases import BY_NAME, CHANGES, Change, Model, release_tuple

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def between(case: Case, old: str, new: str) -> tuple[Change, ...]:
    """The case's changes that Nova ``new`` has and ``old`` has not (either order)."""
    low, high = sorted((old, new), key=release_tuple)
    return tuple(BY_NAME[name] for name in case.changes
                 if release_tuple(low) < release_tuple(BY_NAME[name].release) <= release_tuple(high))


def fails_under(case: Case, faithful_to: Model, judged_by: Model) -> bool:
    """Would a driver answering exactly like Nova ``faithful_to`` fail the case when judged
    on ``judged_by``'s expectations (acceptance, rejection code, the level-1 checks)?"""
    from conformance.checks import check_xml

    request = case.request()
    answer, want = expected_outcome(request, faithful_to), expected_outcome(request, judged_by)
    if answer.accepted != want.accepted:
        return True
    if not want.accepted:
        return answer.rejection.code != want.rejection.code
    return bool(check_xml(want.features, etree.fromstring(answer.xml.encode(), _PARSER), request))


def attributed(case: Case, newest: Model = Model()) -> tuple[str, ...]:
    """The changes whose absence alone (from ``newest``) changes how the case is judged, either
    way: what ``case.changes`` must say."""
    return tuple(change.name for change in CHANGES
                 if fails_under(case, Model(newest.version, frozenset({change.name})), newest)
                 or fails_under(case, newest, Model(newest.version, frozenset({change.name}))))


def differences(old: str, new: str) -> list[tuple[Case, tuple[Change, ...]]]:
    """The catalogue cases a driver faithful to Nova ``old`` would fail when judged on Nova
    ``new``'s behaviour, each with the changes between the two that explain it."""
    from conformance.catalogue import ALL_CASES

    return [(case, between(case, old, new)) for case in ALL_CASES
            if case.changes and fails_under(case, Model(old), Model(new))]


def release_differences(versions) -> list[dict]:
    """For each pair of neighbouring releases (newest first), the cases whose expected outcome
    differs and the upstream change (release, commits) that explains each: JSON-ready."""
    ordered = sorted(dict.fromkeys(versions), key=release_tuple, reverse=True)
    return [{"new": new, "old": old, "cases": [
                {"id": case.id, "feature": case.feature, "name": case.name,
                 "operation": case.operation,
                 "changes": [{"name": c.name, "release": c.release, "commits": list(c.commits)}
                             for c in changes]}
                for case, changes in differences(old, new)]}
            for new, old in zip(ordered, ordered[1:])]
