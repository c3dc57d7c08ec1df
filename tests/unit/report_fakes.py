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


def report_of(results, driver="reference", reason="TCG", interrupted=None, problem=None) -> dict:
    """A finished (schema-valid, digested) report around aggregated ``results``."""
    from conformance.report import writers
    from conformance.report.aggregate import matrix
    from conformance.report.headline import certification
    cert = certification(results, "guest", interrupted, problem)
    summary = {k: sum(1 for r in results if r["verdict"] == k) for k in ("pass", "flaky", "fail", "error", "skip")}
    summary.update(total=len(results), verdict=cert["verdict"], certification_level=cert["level"],
                   headline=cert["headline"])
    return writers.finish({
        "format": 1, "driver": driver, "started": "s", "finished": "f",
        "host": {"accelerator": "qemu", "accelerator_reason": reason}, "versions": {},
        "summary": summary, "matrix": matrix(results), "cases": results, "certification": cert})
