"""Record what a live test covered on its pytest item (for the certification reports).

Properties (``node.user_properties``): ``cases`` (catalogue ids), ``feature``, ``level``
(the level this item verifies: "host" or "guest"), ``evidence`` (small dict, on success
and failure), ``skipped_levels`` ({level: reason}) when a level cannot run here,
``not_applicable`` (reason) when the check can assert nothing for this expectation.
Takes any object with ``user_properties`` (a pytest item); imports no pytest.
"""

from __future__ import annotations

import json
from contextlib import contextmanager

from conformance.live import LiveCheckFailed, NotApplicable

MAX_EVIDENCE_CHARS = 2000


def small(evidence: dict) -> dict:
    """``evidence`` as JSON-safe data, cut down when it is too large for a report."""
    text = json.dumps(evidence, default=str, sort_keys=True)
    if len(text) <= MAX_EVIDENCE_CHARS:
        return json.loads(text)
    return {"truncated": text[:MAX_EVIDENCE_CHARS]}


def describe(node, cases: list[str], feature: str, level: str, **extra) -> None:
    node.user_properties.append(("cases", list(cases)))
    node.user_properties.append(("feature", feature))
    node.user_properties.append(("level", level))
    for key, value in extra.items():
        node.user_properties.append((key, value))


def skipped_level(node, level: str, reason: str) -> None:
    node.user_properties.append(("skipped_levels", {level: reason}))


@contextmanager
def evidence_of(node):
    """Run a check; store its evidence (returned dict, or the failure's) on ``node``."""
    box: dict = {}
    try:
        yield box
    except LiveCheckFailed as exc:
        node.user_properties.append(("evidence", small(exc.evidence)))
        raise
    except NotApplicable as exc:
        node.user_properties.append(("not_applicable", exc.reason))
        node.user_properties.append(("evidence", small(exc.evidence)))
        raise
    else:
        if box.get("evidence") is not None:
            node.user_properties.append(("evidence", small(box["evidence"])))
