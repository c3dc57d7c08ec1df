"""pytest plugin used by ``conformance certify``: selects catalogue items and records results.

Loaded with ``-p conformance.report.collector``. On xdist workers it tags each item with the
catalogue cases it covers (user_properties travel to the controller); on the controller it
counts progress and appends every report entry to ``--cfm-results`` as one JSON line, at
once (so an interrupted or killed run still leaves what finished), and a final line
``{"exitstatus": N}`` when the session ends.
"""

from __future__ import annotations

import json
import os
import sys
import time

import pytest

from conformance.report.selection import Selection, item_cases

_OUT: dict = {}
_PROGRESS = {"done": 0, "total": 0, "last": 0.0, "feature": ""}


def pytest_addoption(parser):
    group = parser.getgroup("conformance certify", "certification run (used by `conformance certify`)")
    group.addoption("--cfm-results", default=None, help="write per-item results JSON here")
    group.addoption("--cfm-select", default=None, help="JSON selection file (features, ids, regex, levels)")
    group.addoption("--cfm-progress", default="auto", choices=("auto", "tty", "plain", "none"))
    group.addoption("--cfm-label", default="", help="host label in progress lines (fleet runs)")
    # --conformance-config and the conformance_config fixture: fixtures/ (plugin fixtures.plugin)


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--cfm-results"):
        return
    path = config.getoption("--cfm-select")
    selection = Selection.load(path) if path else Selection()
    keep, drop = [], []
    for item in items:
        covered = item_cases(item)
        (keep if covered and selection.wants(*covered) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    _write_expected(config.getoption("--cfm-results"), keep)


def _write_expected(results: str, items) -> None:
    """Every selected item and what it covers, so that an item that never reports (the run
    was interrupted or died) is seen as missing. Each xdist worker collects the same items;
    the atomic rename makes concurrent writers harmless."""
    expected = []
    for item in items:
        feature, ids, level = item_cases(item)
        expected.append({"nodeid": item.nodeid, "cases": list(ids), "level": level})
    temp = f"{results}.expected.{os.getpid()}"
    with open(temp, "w") as out:
        json.dump(expected, out)
    os.replace(temp, f"{results}.expected")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    covered = item_cases(item)
    if covered and not any(key == "cases" for key, _ in item.user_properties):
        feature, ids, level = covered
        item.user_properties += [("cases", ids), ("feature", feature), ("level", level)]


def pytest_collection_finish(session):
    _PROGRESS["total"] = len(session.items)


def pytest_xdist_node_collection_finished(node, ids):
    _PROGRESS["total"] = max(_PROGRESS["total"], len(ids))


def _longrepr(report) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    text = getattr(report, "longreprtext", "") or ""
    lines = text.splitlines()
    if lines and lines[0].startswith("[gw"):  # xdist's "[gw0] linux -- Python ..." header
        lines = lines[1:]
    errors = [line for line in lines if line.startswith("E ")]
    # The assertion lines first (they name the case, expected and actual), then the tail.
    return ("\n".join(errors[:40]) + "\n---\n" + "\n".join(lines[-30:]))[:4000] if errors else "\n".join(lines)[-4000:]


MAX_EVIDENCE_CHARS = 6000


def _verdict_evidence(excinfo) -> dict | None:
    """Evidence of a failed check: the ``verdict`` (conformance.verdict.Verdict) the failing
    test judged, found among the traceback's locals (read only, nothing is patched)."""
    for entry in reversed(excinfo.traceback):
        verdict = entry.frame.f_locals.get("verdict")
        if verdict is not None and isinstance(getattr(verdict, "evidence", None), dict):
            return _small(verdict.evidence)
    return None


def _small(evidence: dict) -> dict:
    text = json.dumps(evidence, default=str, sort_keys=True)
    if len(text) <= MAX_EVIDENCE_CHARS:
        return json.loads(text)
    cut = {k: (v[:MAX_EVIDENCE_CHARS // 2] + "...(truncated)" if isinstance(v, str) else v)
           for k, v in json.loads(text).items()}
    text = json.dumps(cut, sort_keys=True)
    return cut if len(text) <= MAX_EVIDENCE_CHARS else {"truncated": text[:MAX_EVIDENCE_CHARS]}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is None or not report.failed or not item_cases(item):
        return
    if any(key == "evidence" for key, _ in item.user_properties):
        return
    evidence = _verdict_evidence(call.excinfo)
    if evidence is not None:
        item.user_properties.append(("evidence", evidence))
        report.user_properties.append(("evidence", evidence))


def _assertion_evidence(detail: str) -> dict | None:
    lines = [line[1:].strip() for line in detail.splitlines() if line.startswith("E ")]
    return {"assertion": lines[:40]} if lines else None


def pytest_runtest_logreport(report):
    props = dict(report.user_properties)
    if "cases" not in props:
        return
    if report.when != "call" and report.passed:
        return
    _record({
        "nodeid": report.nodeid, "when": report.when, "outcome": report.outcome,
        "duration": round(report.duration, 3), "detail": _longrepr(report),
        "cases": props.get("cases", []), "feature": props.get("feature"),
        "level": props.get("level"),
        "evidence": props.get("evidence") or (_assertion_evidence(_longrepr(report)) if report.failed else None),
        "skipped_levels": props.get("skipped_levels"), "guest": props.get("guest"),
        "not_applicable": props.get("not_applicable"), "harness_error": props.get("harness_error"),
        "driver_failure": props.get("driver_failure"), "artifacts": props.get("artifacts"),
    })
    if report.when == "teardown" or (report.when == "setup" and not report.passed) or report.when == "call":
        if report.when != "teardown":
            _PROGRESS["done"] += 1
            _PROGRESS["feature"] = props.get("feature") or ""
            _show_progress(report)


def _show_progress(report) -> None:
    mode = _mode()
    if mode == "none":
        return
    done, total, feature = _PROGRESS["done"], _PROGRESS["total"], _PROGRESS["feature"]
    label = _CONFIG["config"].getoption("--cfm-label", "")
    who = f"certify[{label}]" if label else "certify"
    if mode == "tty":
        sys.stderr.write(f"\r\x1b[K{who}: {done}/{total} items, now {feature}")
        sys.stderr.flush()
    elif time.monotonic() - _PROGRESS["last"] >= 10 or done == total or done % 50 == 0:
        _PROGRESS["last"] = time.monotonic()
        sys.stderr.write(f"{who}: {done}/{total} items done, current feature {feature}\n")
        sys.stderr.flush()


_CONFIG = {}


def pytest_configure(config):
    _CONFIG["config"] = config
    path = config.getoption("--cfm-results", None)
    if path and not hasattr(config, "workerinput"):
        _OUT["file"] = open(path, "a", encoding="utf-8")


def _record(entry: dict) -> None:
    out = _OUT.get("file")
    if out is not None:
        out.write(json.dumps(entry, default=str) + "\n")
        out.flush()


def _mode() -> str:
    config = _CONFIG.get("config")
    if config is not None and hasattr(config, "workerinput"):
        return "none"  # xdist workers: the controller reports progress
    mode = config.getoption("--cfm-progress") if config else "none"
    if mode == "auto":
        return "tty" if sys.stderr.isatty() else "plain"
    return mode


def pytest_sessionfinish(session, exitstatus):
    path = session.config.getoption("--cfm-results")
    if not path or hasattr(session.config, "workerinput"):
        return
    if _mode() == "tty":
        sys.stderr.write("\n")
    _record({"exitstatus": int(exitstatus)})
    out = _OUT.pop("file", None)
    if out is not None:
        out.close()
