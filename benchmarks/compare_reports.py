"""Compare two report.json files (single-host or fleet) apart from what differs run to run.

    .venv/bin/python benchmarks/compare_reports.py BEFORE AFTER [--show 20]

BEFORE and AFTER are report.json files or directories holding one (a fleet directory: its
report.json and every ``hosts/<label>/report.json`` are compared too). Ignored: times,
durations and digests (keys such as ``started``, ``duration``, ``digest``), process ids,
run and guest ids (``cfm-<run-id>-...``, a driver's ``instance-<hex>``, uuids other than
the catalogue's case ids, boot ids), paths, the numbers a check measured (numbers inside
``evidence``, decimals and ISO times in text), and which of a level's equally bad checks the
level names (the first to arrive from parallel workers). Everything else (verdicts, levels,
reasons, checks and their test ids, evidence keys, summary, certification, matrices,
selection, host facts) must be equal.

Prints one line per difference (the first ``--show``), then a verdict line; exit 0 when
the reports are the same, 1 when they differ, 2 on unreadable input.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

VOLATILE_KEYS = {"started", "finished", "wall_seconds", "duration", "digest", "report_digest",
                 "after_seconds", "pid", "seconds", "elapsed"}
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
TEXT_RULES = [  # (pattern, replacement), applied in order to every string
    (re.compile(r"\bcfm-[0-9a-z]{6,}(-[\w.-]+)?"), "<guest>"),
    (re.compile(r"\binstance-[0-9a-f]{8}\b"), "instance-<id>"),  # a driver's instance name
    (re.compile(r"(?<![\w.])(/[\w.@%+=,:~-]+)+/?"), "<path>"),
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d)?(\.\d+)?Z?( UTC)?"), "<time>"),
    (re.compile(r"\b(pid|uptime|boot_id)[=:]\s*\S+"), r"\1=<n>"),
    (re.compile(r"\b\d+\.\d+\b"), "<n>"),
]


def load(path: Path) -> dict[str, dict]:
    """name -> report: ``report.json`` of ``path``, and each fleet host's as ``hosts/<label>``."""
    file = path / "report.json" if path.is_dir() else path
    reports = {"report.json": json.loads(file.read_text())}
    for host in reports["report.json"].get("hosts") or []:
        if isinstance(host, dict) and host.get("report"):
            reports[host["report"]] = json.loads((file.parent / host["report"]).read_text())
    return reports


def case_ids(report: dict) -> set[str]:
    return {case["id"] for case in report.get("cases", []) if isinstance(case, dict) and "id" in case}


def normalise(value, keep: set[str], in_evidence: bool = False):
    """``value`` with everything that differs run to run replaced by a placeholder."""
    if isinstance(value, dict):
        value = _any_worst_check(value)
        return {key: normalise(item, keep, in_evidence or key == "evidence")
                for key, item in value.items() if key not in VOLATILE_KEYS}
    if isinstance(value, list):
        items = [normalise(item, keep, in_evidence) for item in value]
        if all(isinstance(item, dict) for item in items):  # e.g. checks: in the order results came
            items.sort(key=_identity)
        return items
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return "<n>" if in_evidence or isinstance(value, float) else value
    if isinstance(value, str):
        text = UUID.sub(lambda m: m[0] if m[0] in keep else "<uuid>", value)
        for pattern, replacement in TEXT_RULES:
            text = pattern.sub(replacement, text)
        return text
    return value


def _identity(item: dict) -> tuple[str, str]:
    """Sort key of a list's dicts: what names the item (a host's label, a case's id, a
    check's test), then its whole content."""
    name = next((str(item[key]) for key in ("label", "id", "test") if key in item), "")
    return name, json.dumps(item, sort_keys=True)


def _any_worst_check(level: dict) -> dict:
    """A level names the first of its worst checks to report back; with parallel workers
    that is whichever came first, so any check of the level's status is the same answer."""
    checks = level.get("checks")
    if not isinstance(checks, list) or "test" not in level or "status" not in level:
        return level
    worst = {c.get("test") for c in checks if isinstance(c, dict) and c.get("status") == level["status"]}
    return {**level, "test": "<a check of its status>"} if level["test"] in worst else level


def differences(before, after, where: str = "") -> list[str]:
    """One line per path at which the normalised values differ."""
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in sorted(set(before) | set(after), key=str):
            here = f"{where}.{key}" if where else str(key)
            if key not in after:
                found.append(f"{here}: only before")
            elif key not in before:
                found.append(f"{here}: only after")
            else:
                found += differences(before[key], after[key], here)
        return found
    if isinstance(before, list) and isinstance(after, list):
        if len(before) != len(after):
            return [f"{where}: {len(before)} items before, {len(after)} after"]
        found = []
        for index, (one, other) in enumerate(zip(before, after)):
            found += differences(one, other, f"{where}[{index}]")
        return found
    if before != after:
        return [f"{where}: {json.dumps(before)[:150]} -> {json.dumps(after)[:150]}"]
    return []


def compare(before: Path, after: Path) -> tuple[list[str], dict[str, int]]:
    """(differences, counts): the differing paths of every report of the two runs, and
    what was compared (reports, cases)."""
    old, new = load(before), load(after)
    found = [f"{name}: only before" for name in old if name not in new]
    found += [f"{name}: only after" for name in new if name not in old]
    cases = 0
    for name in [n for n in old if n in new]:
        keep = case_ids(old[name]) | case_ids(new[name])
        cases += len(old[name].get("cases", []))
        found += [f"{name}: {line}" for line in
                  differences(normalise(old[name], keep), normalise(new[name], keep))]
    return found, {"reports": len(old), "cases": cases}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--show", type=int, default=20, help="differences printed (default %(default)s)")
    args = parser.parse_args(argv)
    try:
        found, counts = compare(args.before, args.after)
    except (OSError, ValueError) as exc:
        print(f"compare_reports: {exc}", file=sys.stderr)
        return 2
    for line in found[:args.show]:
        print(f"differs: {line}")
    if len(found) > args.show:
        print(f"... and {len(found) - args.show} more differences")
    what = f"{counts['reports']} report(s), {counts['cases']} case rows"
    ignored = ("times, durations, digests, pids, run/guest/instance ids, paths, measured numbers,"
               " which equal check a level names")
    print(f"{'SAME' if not found else 'DIFFERENT'}: {what} compared; ignored: {ignored}"
          + (f"; {len(found)} differences" if found else ""))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
