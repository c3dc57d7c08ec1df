"""Fake collector entries shared by the report unit tests."""

from conformance.catalogue import CASES

CASE = CASES[0]
OTHER = next(c for c in CASES if c.feature != CASE.feature)


def entry(level, outcome="passed", when="call", cases=(CASE.id,), detail="", evidence=None,
          nodeid=None, **kw):
    """A collector entry (one pytest report) as certify receives it."""
    return {"nodeid": nodeid or f"t::{level}", "when": when, "outcome": outcome, "duration": 0.5,
            "detail": detail, "cases": list(cases), "feature": CASE.feature, "level": level,
            "evidence": evidence, **kw}
