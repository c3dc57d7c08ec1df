"""Per-case verdicts from per-item pytest results: level reached, verdict, reasons, evidence."""

from __future__ import annotations

LEVELS = ("xml", "host", "guest")
RANK = {"error": 4, "fail": 3, "pass": 2, "skip": 1, "n/a": 0}


def _item_status(entry: dict) -> str:
    if entry["outcome"] == "skipped":
        return "skip"
    if entry["outcome"] == "failed":
        return "fail" if entry["when"] == "call" else "error"
    return "pass"


def _combine(old: dict | None, new: dict) -> dict:
    if old is None or RANK[new["status"]] > RANK[old["status"]]:
        return new
    if RANK[new["status"]] == RANK[old["status"]]:
        old["duration"] = round(old["duration"] + new["duration"], 3)
    return old


def aggregate(entries: list[dict], cases, not_live: dict[str, str] | None = None,
              max_level: str = "guest") -> list[dict]:
    """One dict per selected case: id, feature, name, levels{level: status...}, verdict."""
    not_live = not_live or {}
    levels: dict[str, dict[str, dict]] = {c.id: {} for c in cases}
    for entry in entries:
        status = _item_status(entry)
        for case_id in entry["cases"]:
            if case_id not in levels:
                continue
            record = {"status": status, "reason": entry["detail"] if status != "pass" else "",
                      "duration": entry["duration"], "evidence": entry.get("evidence"),
                      "test": entry["nodeid"]}
            levels[case_id][entry["level"]] = _combine(levels[case_id].get(entry["level"]), record)
            for level, reason in (entry.get("skipped_levels") or {}).items():
                if level not in levels[case_id]:
                    levels[case_id][level] = {"status": "skip", "reason": reason, "duration": 0.0,
                                              "evidence": None, "test": entry["nodeid"]}
    top = LEVELS.index(max_level)
    results = []
    for case in cases:
        by_level = levels[case.id]
        for index, level in enumerate(LEVELS):
            if level in by_level:
                continue
            if index > top:
                reason = f"not run: --level {max_level}"
            elif level == "xml":
                reason = "not run"
            else:
                reason = not_live.get(case.id, "no check of this case at this level")
            by_level[level] = {"status": "n/a", "reason": reason, "duration": 0.0,
                               "evidence": None, "test": None}
        results.append(_verdict(case, by_level))
    return results


def _verdict(case, by_level: dict) -> dict:
    statuses = [by_level[level]["status"] for level in LEVELS]
    reached = "none"
    for level in LEVELS:
        if by_level[level]["status"] == "pass":
            reached = level
        elif by_level[level]["status"] in ("fail", "error"):
            break
    if "error" in statuses:
        verdict = "error"
    elif "fail" in statuses:
        verdict = "fail"
    elif "pass" in statuses:
        verdict = "pass"
    else:
        verdict = "skip"
    failing = [f"{lvl}: {by_level[lvl]['reason']}" for lvl in LEVELS
               if by_level[lvl]["status"] in ("fail", "error")]
    skipped = {lvl: by_level[lvl]["reason"] for lvl in LEVELS
               if by_level[lvl]["status"] in ("skip", "n/a")}
    return {"id": case.id, "feature": case.feature, "name": case.name,
            "description": case.description, "verdict": verdict, "level_reached": reached,
            "reason": "; ".join(failing)[:4000], "skipped_levels": skipped,
            "duration": round(sum(by_level[lvl]["duration"] for lvl in LEVELS), 3),
            "levels": by_level}


def matrix(results: list[dict]) -> dict:
    """feature -> level -> {status: count}."""
    table: dict = {}
    for result in results:
        row = table.setdefault(result["feature"], {lvl: {} for lvl in LEVELS})
        for level in LEVELS:
            status = result["levels"][level]["status"]
            row[level][status] = row[level].get(status, 0) + 1
    return table


def require_features(results: list[dict], required: list[str]) -> list[dict]:
    """Tempest's rule: a feature declared present in the config ([features] X = true) must
    not be skipped; each skipped level of its cases fails the case, naming the reason."""
    for result in results:
        if result["feature"] not in required:
            continue
        skipped = [lvl for lvl in LEVELS if result["levels"][lvl]["status"] == "skip"]
        for level in skipped:
            entry = result["levels"][level]
            entry["status"] = "fail"
            entry["reason"] = (f"[features] {result['feature']} = true in the config, but this level "
                               f"was skipped: {entry['reason']}")
            result["skipped_levels"].pop(level, None)
        if skipped:
            fresh = _verdict(_CaseView(result), result["levels"])
            result.update(verdict=fresh["verdict"], level_reached=fresh["level_reached"],
                          reason=fresh["reason"])
    return results


class _CaseView:
    """The case fields _verdict needs, taken from an aggregated result."""

    def __init__(self, result: dict):
        self.id, self.feature, self.name = result["id"], result["feature"], result["name"]
        self.description = result.get("description", "")
