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
