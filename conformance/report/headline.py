"""What a certification verified, per level, in one honest line (and its data).

``certification()`` gives the verdict (certified / not certified / interrupted), the
certification level reached (full, host, xml-only, none), per level how many cases were
verified out of those that have a check there (and how many of them only on a rerun:
flaky), the flaky cases, and every skip reason with its count. All
four reports (terminal, report.json, report.html, junit.xml) print its ``headline``.
"""

from __future__ import annotations

from conformance.report.aggregate import LEVELS

# Level reached -> what it means; a level counts once every case that has a check there passed.
LEVEL_NAMES = {"guest": "full", "host": "host", "xml": "xml-only"}
SHORT_REASON = 110
# Short names of what a skip needs, for the headline (the full reasons stay in the lists).
NEEDS = [
    ("KVM", "need KVM"),
    ("RLIMIT_MEMLOCK", "need RLIMIT_MEMLOCK >= guest RAM or CAP_SYS_RESOURCE"),
    ("guest agent", "need the guest agent"),
    ("needs protocol 2;", "need protocol 2"),  # checks/level_xml.py: an older driver's skips
    ("needs protocol 3;", "need protocol 3"),
]


def level_counts(results: list[dict]) -> dict:
    """level -> {checked, pass, flaky, fail, error, skip, not-run, n/a}; checked excludes n/a."""
    counts = {}
    for level in LEVELS:
        row = {"checked": 0, "pass": 0, "flaky": 0, "fail": 0, "error": 0, "skip": 0, "not-run": 0, "n/a": 0}
        for result in results:
            status = result["levels"][level]["status"]
            row[status] += 1
            row["checked"] += status != "n/a"
        counts[level] = row
    return counts


def skip_reasons(results: list[dict]) -> list[dict]:
    """Every distinct reason a check was skipped, with the level and the number of cases."""
    seen: dict[tuple[str, str], set] = {}
    for result in results:
        for level in LEVELS:
            record = result["levels"][level]
            if record["status"] != "skip":
                continue
            checks = record.get("checks") or [record]
            for check in checks:
                if check["status"] == "skip":
                    seen.setdefault((level, check["reason"].strip()), set()).add(result["id"])
    rows = [{"level": level, "reason": reason, "cases": len(ids)} for (level, reason), ids in seen.items()]
    return sorted(rows, key=lambda r: (-r["cases"], LEVELS.index(r["level"]), r["reason"]))


def not_live(results: list[dict]) -> int:
    """How many cases have no live check because their operation is not executed live yet
    (``conformance.live.requests.not_live_yet``: n/a at level host with that reason)."""
    return sum(1 for r in results
               if r["levels"]["host"]["status"] == "n/a"
               and "live execution is not implemented yet" in r["levels"]["host"].get("reason", ""))


def one_host_only(results: list[dict]) -> dict[str, int]:
    """{operation: cases} with no live check because the operation needs two hosts and the
    run had one (``conformance.live.peers.needs_hosts``: n/a at level host)."""
    found: dict[str, int] = {}
    for r in results:
        host = r["levels"]["host"]
        reason = host.get("reason", "")
        if host["status"] == "n/a" and reason.endswith("hosts; this run had one"):
            operation = reason.split(" needs ", 1)[0]
            found[operation] = found.get(operation, 0) + 1
    return found


def need_of(reason: str) -> str:
    """The short requirement a skip reason names (its shortened text when unknown)."""
    for marker, label in NEEDS:
        if marker in reason:
            return label
    return _short(reason)


def needs(skips: list[dict]) -> list[tuple[str, int]]:
    """(requirement, number of skipped case levels), most frequent first."""
    counts: dict[str, int] = {}
    for skip in skips:
        counts[need_of(skip["reason"])] = counts.get(need_of(skip["reason"]), 0) + skip["cases"]
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def level_reached(counts: dict, max_level: str, flaky_passes: bool = False) -> str:
    """The deepest level up to which every case with a check there passed (``flaky_passes``:
    a level that passed only on a rerun counts as passed)."""
    reached = "none"
    for level in LEVELS[:LEVELS.index(max_level) + 1]:
        row = counts[level]
        if row["pass"] + (row.get("flaky", 0) if flaky_passes else 0) != row["checked"]:
            break
        reached = LEVEL_NAMES[level]
    return reached


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= SHORT_REASON else line[:SHORT_REASON - 3] + "..."


def _flaky_note(row: dict) -> str:
    return f" ({row['flaky']} flaky)" if row.get("flaky") else ""


def certification(results: list[dict], max_level: str = "guest", interrupted: dict | None = None,
                  problem: str | None = None, scope: str | None = None,
                  flaky_is_failure: bool = True) -> dict:
    """The verdict and what backs it; ``interrupted`` = {signal, after_seconds} if stopped,
    ``problem`` = why the pytest run cannot back a verdict (e.g. nothing collected),
    ``scope`` = what the certification is limited to (e.g. create only, protocol 1),
    ``flaky_is_failure`` (``[run] flaky_is_failure``) = whether a case that passed only on
    a rerun (``flaky``) keeps the run from being certified; either way the headline counts them."""
    counts = level_counts(results)
    skips = skip_reasons(results)
    failed = sum(1 for r in results if r["verdict"] in ("fail", "error"))
    flaky = sum(1 for r in results if r["verdict"] == "flaky")
    if interrupted:
        verdict, level = "interrupted", "none"
    elif failed or problem or (flaky and flaky_is_failure):
        verdict, level = "not certified", "none"
    else:
        verdict, level = "certified", level_reached(counts, max_level, flaky_passes=True)
    per_level = ", ".join(
        f"{lvl} {counts[lvl]['pass']}/{counts[lvl]['checked']}{_flaky_note(counts[lvl])}"
        if lvl in LEVELS[:LEVELS.index(max_level) + 1]
        else f"{lvl} not run (--level {max_level})" for lvl in LEVELS)
    detail = per_level
    if scope:
        detail = f"{scope}; {detail}"
    if skips:
        detail += "; skipped: " + ", ".join(f"{count} {need}" for need, count in needs(skips))
    xml_only = not_live(results) if max_level != "xml" else 0
    if xml_only:
        detail += f"; {xml_only} cases of protocol-3 operations at level xml only (live execution not implemented yet)"
    one_host = one_host_only(results) if max_level != "xml" else {}
    if one_host:
        detail += (f"; {', '.join(sorted(one_host))} need two hosts, this run had one: "
                   f"{sum(one_host.values())} cases at level xml only")
    if interrupted:
        headline = (f"INTERRUPTED by {interrupted['signal']} after {interrupted['after_seconds']} s: "
                    f"no certification verdict; finished before the stop: {detail}")
    elif verdict == "not certified":
        whys = [problem] if problem else []
        if failed and not problem:
            whys.append(f"{failed} of {len(results)} cases failed or errored")
        if flaky:
            whys.append(f"{_flaky(flaky)} passed only on a rerun"
                        + (", [run] flaky_is_failure = true" if flaky_is_failure else ""))
        headline = f"NOT CERTIFIED ({'; '.join(whys)}; {detail})"
    else:
        note = f", {_flaky(flaky)} (passed only on a rerun)" if flaky else ""
        headline = f"CERTIFIED, level {level}{note} ({detail})"
    return {"verdict": verdict, "level": level, "levels": counts, "skipped": skips,
            "interrupted": interrupted, "problem": problem, "scope": scope, "headline": headline,
            "flaky": flaky, "flaky_is_failure": flaky_is_failure}


def _flaky(count: int) -> str:
    return f"{count} flaky case{'s' if count != 1 else ''}"
