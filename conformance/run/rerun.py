"""``certify --rerun-failures N``: run failed and errored cases again, tell flakes apart.

After a host's first run, every case that failed or errored is run again together with the
cases that shared a guest with it (its guest group or lifecycle trail, as the first run's
results name them), by a pytest child of its own writing into ``attempts/<n>/`` (pytest.log,
artefacts); up to N times, as long as some case has not passed yet. Every attempt of a
rerun case is kept (``attempts``), and each level is decided over them:

- it failed or errored on one attempt and passed on another: ``flaky`` (its reason says on
  which attempts, its evidence and artefacts are those of the failed attempts);
- it failed or errored and never passed: its first failure, as it was;
- otherwise: as on the first attempt.

So a case that passes on a rerun is ``flaky``, never ``pass``; whether a flaky case keeps
the run from being certified is ``[run] flaky_is_failure`` (default true,
:func:`conformance.report.headline.certification`).
"""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path

from conformance.report.aggregate import FAILED, LEVELS, reverdict, union

ATTEMPTS_DIR = "attempts"


def rerun_failures(verdicts: list[dict], results: dict, selection, times: int, run, judge,
                   stop=None, say=lambda text: None) -> list[dict]:
    """``verdicts`` (the first attempt, judged from ``results``) after up to ``times`` reruns.

    ``run(selection, out_dir: relative Path) -> results`` runs a pytest child for the
    ``selection``; ``judge(results, case_ids) -> verdicts`` aggregates its results for
    those cases as the first attempt's were; ``stop`` (StopSignals) ends the reruns."""
    by_id = {v["id"]: v for v in verdicts}
    attempts: dict[str, list[dict]] = {}
    entries = list(results.get("entries") or [])
    for number in range(2, times + 2):
        waiting = [i for i, v in by_id.items() if _never_passed(attempts.get(i), v)]
        if not waiting or (stop is not None and stop.requested):
            break
        ids = _with_guest_mates(waiting, entries)
        say(f"rerun {number - 1} of {times}: {len(waiting)} failed or errored cases"
            + (f" and {len(ids) - len(waiting)} sharing their guests" if len(ids) > len(waiting) else ""))
        where = Path(ATTEMPTS_DIR) / str(number)
        found = run(replace(selection, ids=ids), where)
        entries += found.get("entries") or []
        for fresh in judge(found, ids):
            _relink(fresh, f"{where.as_posix()}/")
            first = by_id[fresh["id"]]
            attempts.setdefault(fresh["id"], [_attempt(first, 1, "pytest.log")])
            attempts[fresh["id"]].append(_attempt(fresh, number, f"{where.as_posix()}/pytest.log"))
            attempts[fresh["id"]][-1]["_verdict"] = fresh
    return [_decided(v, attempts[v["id"]]) if v["id"] in attempts else v for v in verdicts]


def rerun_host(settings, verdicts: list[dict], results: dict, selection, cases, out: Path, run, judge,
               say=lambda text: None) -> list[dict]:
    """:func:`rerun_failures` for one host's certification (``settings.rerun_failures`` times):
    ``run(selection, directory) -> results`` runs a pytest child writing into ``directory``
    (``out/attempts/<n>``, made here); ``judge(results, cases, interrupted) -> verdicts``
    judges it as the first run was judged."""
    def attempt(chosen, where: Path) -> dict:
        (out / where).mkdir(parents=True, exist_ok=True)
        return run(chosen, out / where)

    def judged(found: dict, ids: list[str]) -> list[dict]:
        return judge(found, [c for c in cases if c.id in ids], settings.stop.summary())

    return rerun_failures(verdicts, results, selection, settings.rerun_failures, attempt, judged,
                          settings.stop, say)


def _never_passed(kept: list[dict] | None, first: dict) -> bool:
    if kept is None:
        return first["verdict"] in FAILED
    return not any(a["verdict"] == "pass" for a in kept)


def _with_guest_mates(ids: list[str], entries: list[dict]) -> list[str]:
    """``ids`` and every case that shared a guest (or a check) with one of them."""
    wanted, chosen = set(ids), list(ids)
    guests = {e["guest"] for e in entries if e.get("guest") and wanted & set(e.get("cases") or ())}
    for entry in entries:
        cases = entry.get("cases") or []
        if (entry.get("guest") in guests) or (wanted & set(cases)):
            for case_id in cases:
                if case_id not in wanted:
                    wanted.add(case_id)
                    chosen.append(case_id)
    return chosen


def _relink(verdict: dict, prefix: str) -> None:
    """Artefact paths of an attempt's results are relative to its own directory."""
    lists = [verdict.get("artifacts")]
    for level in verdict["levels"].values():
        lists += [level.get("artifacts")] + [c.get("artifacts") for c in level.get("checks") or []]
    done = set()
    for entries in lists:
        for item in entries or ():
            if "path" in item and id(item) not in done:
                done.add(id(item))
                item["path"] = prefix + item["path"]


def _attempt(verdict: dict, number: int, log: str) -> dict:
    found = {"attempt": number, "verdict": verdict["verdict"], "reason": verdict["reason"],
             "pytest_log": log,
             "levels": {lvl: {"status": verdict["levels"][lvl]["status"],
                              "reason": verdict["levels"][lvl]["reason"],
                              "evidence": verdict["levels"][lvl].get("evidence")} for lvl in LEVELS}}
    if verdict.get("artifacts"):
        found["artifacts"] = verdict["artifacts"]
    return found


def _decided(first: dict, kept: list[dict]) -> dict:
    """The case over its attempts (``kept[0]`` is ``first``; the others carry ``_verdict``)."""
    judged = [first] + [a.pop("_verdict") for a in kept[1:]]
    result = copy.deepcopy(first)
    for level in LEVELS:
        records = [(a["attempt"], v["levels"][level]) for a, v in zip(kept, judged)]
        failed = [(n, r) for n, r in records if r["status"] in FAILED]
        passed = [(n, r) for n, r in records if r["status"] == "pass"]
        if failed and passed:
            record = copy.deepcopy(passed[0][1])
            record.update(status="flaky", evidence=failed[0][1].get("evidence"), reason=(
                f"flaky: passed on attempt {', '.join(str(n) for n, _ in passed)}; "
                + "; ".join(f"attempt {n} {r['status']}: {r['reason']}" for n, r in failed))[:4000])
            kept_files = union(r.get("artifacts") for _, r in failed)
            record.pop("artifacts", None)
            if kept_files:
                record["artifacts"] = kept_files
            result["levels"][level] = record
        elif failed:
            result["levels"][level] = copy.deepcopy(failed[0][1])
    result.pop("artifacts", None)
    reverdict(result)
    result["attempts"] = kept
    return result
