"""Per-case verdicts from per-item pytest results: every check per level, its worst status.

A case has three levels (xml, host, guest). Each level holds every check (pytest item) that
reported on the case there; the level's status is the worst of them (error > fail > skip >
not-run > pass), and its reason lists every check that did not pass. A level with no result
is ``n/a`` only where the plan says no check exists (with that reason); otherwise a check
should have reported and did not, which is an ``error`` (``not-run`` if the run was
interrupted). Entries at level ``live`` (the driver must build the bootable domain) are a
prerequisite of host and guest: their failure fails those levels, their pass alone verifies
nothing (a level with only that pass still lacks its own check's result). In a fleet run
(``host`` given: ``label (uri)``) a missing result names the host it was missing from, and
:func:`blame_host` puts why a host failed (e.g. unreachable) in front of its errors.
"""

from __future__ import annotations

LEVELS = ("xml", "host", "guest")
LIVE_LEVELS = ("host", "guest")
RANK = {"error": 6, "fail": 5, "skip": 4, "not-run": 3, "flaky": 2, "pass": 1, "n/a": 0}
FAILED = ("fail", "error")  # a case or level that did not pass, and why a run reruns it
NO_RESULT = "no result: no check reported on this case at this level (it should have run)"
INTERRUPTED = "not run: the run was interrupted before this check reported"


def _item_status(entry: dict) -> str:
    if entry["when"] == "missing":
        return "not-run" if entry["outcome"] == "skipped" else "error"
    if entry["outcome"] == "skipped":
        return "n/a" if entry.get("not_applicable") else "skip"
    if entry["outcome"] == "failed":
        # conformance.report.blame: the driver's failure (also while a fixture booted the
        # guest) is a fail; anything else (a probe that failed, the host, a harness fault) an
        # error. Entries without a mark: a failed call is a fail, a failed set-up an error.
        if entry.get("harness_error"):
            return "error"
        if entry.get("driver_failure"):
            return "fail"
        return "fail" if entry["when"] == "call" else "error"
    return "pass"


def _check_name(nodeid: str) -> str:
    """``path::test_name[params]`` -> ``test_name``."""
    return nodeid.rsplit("::", 1)[-1].split("[", 1)[0]


def _level(checks: list[dict]) -> dict:
    """A level's record from its checks: the worst status (a check that is n/a counts only
    when every check is), and the reason of each check that did not pass."""
    worst = max(checks, key=lambda c: RANK[c["status"]])
    listed = [c for c in checks if c["status"] == worst["status"] or RANK[c["status"]] > RANK["pass"]]
    if worst["status"] == "pass":
        reason = ""
    elif len(checks) == 1:
        reason = worst["reason"]
    else:
        reason = "\n".join(f"[{_check_name(c['test'])}] {c['status']}: {c['reason']}" for c in listed)
    evidence = worst["evidence"] if worst["status"] != "pass" else next(
        (c["evidence"] for c in checks if c["evidence"] is not None), None)
    found = {"status": worst["status"], "reason": reason,
             "duration": round(sum(c["duration"] for c in checks), 3),
             "evidence": evidence, "test": worst["test"], "checks": checks}
    kept = union(c.get("artifacts") for c in checks if c["status"] != "pass")
    if kept:
        found["artifacts"] = kept
    return found


def union(lists) -> list[dict]:
    """The artefact entries of ``lists`` (each a list or None), each once, in order."""
    seen, found = set(), []
    for entries in lists:
        for item in entries or ():
            key = item.get("path") or (item.get("guest"), item["name"], item.get("unavailable"))
            if key not in seen:
                seen.add(key)
                found.append(item)
    return found


def _absent(status: str, reason: str) -> dict:
    return {"status": status, "reason": reason, "duration": 0.0, "evidence": None, "test": None,
            "checks": []}


def _planned_na(planned: dict, case_id: str) -> dict[str, str]:
    """level -> n/a reason; a plain string means both live levels (e.g. rejected cases)."""
    value = planned.get(case_id) or {}
    return {level: value for level in LIVE_LEVELS} if isinstance(value, str) else dict(value)


def no_result(host: str | None = None) -> str:
    """The reason of a check that should have reported and did not (on ``host``)."""
    return NO_RESULT if host is None else NO_RESULT.replace("no result:", f"no result from host {host}:")


def missing(expected: list[dict], entries: list[dict], interrupted: bool,
            host: str | None = None) -> list[dict]:
    """Entries for the selected items that never reported: not-run if the run was
    interrupted, else errors (the check should have run and did not)."""
    reported = {entry["nodeid"] for entry in entries}
    status, reason = ("skipped", INTERRUPTED) if interrupted else ("failed", no_result(host))
    return [{"nodeid": item["nodeid"], "when": "missing", "outcome": status, "duration": 0.0,
             "detail": reason, "cases": item["cases"], "level": item["level"], "evidence": None}
            for item in expected if item["nodeid"] not in reported]


def aggregate(entries: list[dict], cases, planned: dict | None = None,
              max_level: str = "guest", interrupted: bool = False,
              expected: list[dict] | None = None, host: str | None = None) -> list[dict]:
    """One dict per selected case: id, feature, name, levels{level: record}, verdict.

    ``planned`` maps a case id to the levels that have no check for it ({level: reason},
    or one reason for host and guest); every other level up to ``max_level`` must report.
    ``expected`` lists the selected items ({nodeid, cases, level}); one that did not report
    counts as a check that did not run. ``host`` (a fleet's ``label (uri)``) is named in
    the reason of every missing result.
    """
    planned = planned or {}
    entries = entries + missing(expected or [], entries, interrupted, host)
    checks: dict[str, dict[str, list]] = {c.id: {lvl: [] for lvl in LEVELS} for c in cases}
    for entry in entries:
        status = _item_status(entry)
        prerequisite = entry["level"] == "live"
        for case_id in entry["cases"]:
            for level in LIVE_LEVELS if prerequisite else (entry["level"],):
                if case_id in checks and level in checks[case_id]:
                    check = {
                        "status": status, "reason": entry["detail"] if status != "pass" else "",
                        "duration": entry["duration"], "evidence": entry.get("evidence"),
                        "test": entry["nodeid"], "prerequisite": prerequisite}
                    if entry.get("artifacts") and status != "pass":
                        check["artifacts"] = entry["artifacts"]
                    checks[case_id][level].append(check)
    top = LEVELS.index(max_level)
    results = []
    for case in cases:
        na = _planned_na(planned, case.id)
        by_level = {}
        for index, level in enumerate(LEVELS):
            found = checks[case.id][level]
            if level in na or all(c["prerequisite"] and c["status"] == "pass" for c in found):
                found = [c for c in found if c["status"] != "pass"]  # a prerequisite verifies nothing
            if found:
                by_level[level] = _level(found)
            elif index > top:
                by_level[level] = _absent("n/a", f"not run: --level {max_level}")
            elif level in na:
                by_level[level] = _absent("n/a", na[level])
            else:
                by_level[level] = _absent("not-run", INTERRUPTED) if interrupted else _absent("error", no_result(host))
        results.append(_verdict(case, by_level))
    return results


def _verdict(case, by_level: dict) -> dict:
    """A case's verdict from its levels: error, fail, not-run, flaky (a level passed only on
    a rerun, :mod:`conformance.run.rerun`), then pass if any level passed, else skip."""
    statuses = [by_level[level]["status"] for level in LEVELS]
    reached = "none"
    for level in LEVELS:
        status = by_level[level]["status"]
        if status in ("pass", "flaky"):
            reached = level
        elif status != "n/a":
            break
    for verdict in ("error", "fail", "not-run", "flaky"):
        if verdict in statuses:
            break
    else:
        verdict = "pass" if "pass" in statuses else "skip"
    failing = [f"{lvl}: {by_level[lvl]['reason']}" for lvl in LEVELS
               if by_level[lvl]["status"] in ("fail", "error", "not-run", "flaky")]
    skipped = {lvl: by_level[lvl]["reason"] for lvl in LEVELS
               if by_level[lvl]["status"] in ("skip", "n/a")}
    found = {"id": case.id, "feature": case.feature, "name": case.name,
             "operation": getattr(case, "operation", "create"),
             "description": case.description, "verdict": verdict, "level_reached": reached,
             "reason": "; ".join(failing)[:4000], "skipped_levels": skipped,
             "duration": round(sum(by_level[lvl]["duration"] for lvl in LEVELS), 3),
             "levels": by_level}
    kept = union(by_level[lvl].get("artifacts") for lvl in LEVELS)
    if kept:
        found["artifacts"] = kept
    return found


def matrix(results: list[dict]) -> dict:
    """feature -> level -> {status: count}."""
    table: dict = {}
    for result in results:
        row = table.setdefault(result["feature"], {lvl: {} for lvl in LEVELS})
        for level in LEVELS:
            status = result["levels"][level]["status"]
            row[level][status] = row[level].get(status, 0) + 1
    return table


def operation_matrix(results: list[dict]) -> dict:
    """operation -> level -> {status: count} (every operation of the cases, in catalogue order)."""
    table: dict = {}
    for result in results:
        row = table.setdefault(result.get("operation", "create"), {lvl: {} for lvl in LEVELS})
        for level in LEVELS:
            status = result["levels"][level]["status"]
            row[level][status] = row[level].get(status, 0) + 1
    return table


def _fail_skips(result: dict, levels, why: str) -> None:
    """Turn each skipped level of ``levels`` into a failure whose reason says ``why``."""
    skipped = [lvl for lvl in levels if result["levels"][lvl]["status"] == "skip"]
    for level in skipped:
        entry = result["levels"][level]
        entry["status"] = "fail"
        entry["reason"] = f"{why}, but this level was skipped: {entry['reason']}"
        result["skipped_levels"].pop(level, None)
    if skipped:
        reverdict(result)


def blame_host(results: list[dict], why: str) -> list[dict]:
    """Put ``why`` (e.g. ``host h2 (URI) unreachable: ...``) in front of the reason of every
    level that errored or did not run, and of the case's reason. A failed level stays a
    failure: its check reached a verdict (a check that failed because its host went away is
    an error already, naming the host: fixtures.plugin)."""
    for result in results:
        blamed = False
        for level in LEVELS:
            entry = result["levels"][level]
            if entry["status"] in ("error", "not-run") and not entry["reason"].startswith(why):
                entry["reason"] = f"{why}; {entry['reason']}"
                blamed = True
        if blamed:
            reverdict(result)
    return results


def require_features(results: list[dict], required: list[str]) -> list[dict]:
    """Tempest's rule: a feature declared present in the config ([features] X = true) must
    not be skipped; each skipped level of its cases fails the case, naming the reason.
    A level with no check (n/a) is not a skip and stays as it is."""
    for result in results:
        if result["feature"] in required:
            _fail_skips(result, LEVELS, f"[features] {result['feature']} = true in the config")
    return results


def require_level(results: list[dict], level: str | None) -> list[dict]:
    """``--require-level LEVEL``: a skip at LEVEL or below fails the case, naming the reason."""
    if level:
        wanted = LEVELS[:LEVELS.index(level) + 1]
        for result in results:
            _fail_skips(result, wanted, f"level {level} is required (--require-level / [run] require_level)")
    return results


def reverdict(result: dict) -> dict:
    """Decide an aggregated case's verdict, level reached, reason and artefacts again from
    its (changed) levels."""
    fresh = _verdict(_CaseView(result), result["levels"])
    result.update(verdict=fresh["verdict"], level_reached=fresh["level_reached"], reason=fresh["reason"])
    if fresh.get("artifacts"):
        result["artifacts"] = fresh["artifacts"]
    return result


class _CaseView:
    """The case fields _verdict needs, taken from an aggregated result."""

    def __init__(self, result: dict):
        self.id, self.feature, self.name = result["id"], result["feature"], result["name"]
        self.operation = result.get("operation", "create")
        self.description = result.get("description", "")
