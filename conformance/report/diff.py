"""``conformance diff OLD NEW``: what changed between two certifications, per case and level.

OLD and NEW are report.json files or the output directories holding them, both single-host
reports or both fleet reports (whose levels are then ``<host>:<level>``, read from the host
reports the fleet report names). Each report must verify against its digest.

A change is classed (:data:`KINDS`): a level that fails or errors now and did not before is
a *new failure*, one that failed and passes now is *fixed*, one that became flaky is *flaky*,
a skip that appeared or went is said so, any other move is a *change*, and cases only one
report has are *added*/*removed*. New failures are regressions (exit 1); with ``--strict``
new flaky levels and new skips are too. The page ``diff.html`` (:mod:`conformance.report.
diff_html`) goes next to NEW's report unless ``--html`` says where (``--html ''``: none).
Exit 0 without regression, 1 with one, 2 on unreadable or mismatched input.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from conformance.errors import HarnessError
from conformance.report.digest import verify

FAILED = frozenset({"fail", "error"})
KINDS = ("new failure", "flaky", "skip appeared", "fixed", "skip gone", "changed", "added", "removed")
REGRESSIONS = frozenset({"new failure"})
STRICT_REGRESSIONS = REGRESSIONS | {"flaky", "skip appeared"}
# what the schemas allow: only such paths become links (a report is data, never a path to follow)
ARTIFACT_PATH = re.compile(r"^(attempts/[0-9]{1,3}/)?artifacts/[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}/[a-z][a-z0-9_.-]{0,47}$")
HOST_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class DiffError(HarnessError):
    exit_code = 2


@dataclass
class Side:
    """One report, flattened: case id -> (label, verdict, {level: (status, reason, artefact paths)})."""
    path: Path
    kind: str
    driver: str
    verdict: str
    cases: dict = field(default_factory=dict)


@dataclass
class Change:
    case: str
    label: str
    level: str
    kind: str
    old: str
    new: str
    reason: str = ""
    artifacts: list = field(default_factory=list)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", help="the earlier report.json (or the output directory holding it)")
    parser.add_argument("new", help="the later report.json (or the output directory holding it)")
    parser.add_argument("--html", default=None, metavar="PATH",
                        help="write the html page here (default: diff.html next to NEW's report; '' for none)")
    parser.add_argument("--strict", action="store_true",
                        help="new flaky levels and new skips are regressions too")


def _read(path: Path) -> dict:
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DiffError(f"cannot read {path}: {exc}") from None
    if not isinstance(report, dict) or not isinstance(report.get("cases"), list):
        raise DiffError(f"{path}: not a report.json of `conformance certify`")
    if not verify(report):
        raise DiffError(f"{path}: TAMPERED (digest does not match the content)")
    return report


def _levels(case: dict, prefix: str = "", base: str = "") -> dict:
    levels = {}
    for level, entry in (case.get("levels") or {}).items():
        paths = [base + a["path"] for a in entry.get("artifacts") or []
                 if isinstance(a, dict) and ARTIFACT_PATH.match(str(a.get("path", "")))]
        levels[prefix + str(level)] = (str(entry.get("status")), str(entry.get("reason", "")), paths)
    return levels


def load(where: str | Path) -> Side:
    """The report at ``where`` (a report.json or its directory), flattened."""
    path = Path(where)
    path = path / "report.json" if path.is_dir() else path
    report = _read(path)
    certification = report.get("certification") or {}
    side = Side(path, "fleet" if report.get("kind") == "fleet" else "single", str(report.get("driver")),
                str(certification.get("verdict")))
    if side.kind == "single":
        for case in report["cases"]:
            side.cases[case["id"]] = (_label(case), str(case.get("verdict")), _levels(case))
        return side
    for host in report.get("hosts") or []:
        label = str(host.get("label"))
        if not HOST_LABEL.match(label) or host.get("report") != f"hosts/{label}/report.json":
            raise DiffError(f"{path}: host {label!r} has no report at hosts/<label>/report.json")
        inner_path = path.parent / "hosts" / label / "report.json"
        inner = _read(inner_path)
        if inner.get("digest") != host.get("report_digest"):
            raise DiffError(f"{inner_path}: not the report {path} names for host {label}")
        base = f"hosts/{label}/"
        for case in inner["cases"]:
            name, verdict, levels = side.cases.get(case["id"], (_label(case), "pass", {}))
            levels.update(_levels(case, f"{label}:", base))
            side.cases[case["id"]] = (name, _worse(verdict, str(case.get("verdict"))), levels)
    return side


def _label(case: dict) -> str:
    return f"{case.get('feature')}/{case.get('name')}"


ORDER = ("error", "fail", "flaky", "not-run", "skip", "n/a", "pass")


def _worse(a: str, b: str) -> str:
    return min(a, b, key=lambda s: ORDER.index(s) if s in ORDER else 0)


def classify(old: str, new: str) -> str | None:
    """The kind of change of one level from status ``old`` to ``new`` (None: no change)."""
    if old == new:
        return None
    if new in FAILED and old not in FAILED:
        return "new failure"
    if new == "flaky":
        return "flaky"
    if old in FAILED and new == "pass":
        return "fixed"
    if new == "skip":
        return "skip appeared"
    if old == "skip":
        return "skip gone"
    return "changed"


def compare(old: Side, new: Side) -> list[Change]:
    """Every change from ``old`` to ``new``, in the order of :data:`KINDS` then case label."""
    if old.kind != new.kind:
        raise DiffError(f"cannot compare a {old.kind} report ({old.path}) with a {new.kind} report ({new.path})")
    changes = []
    for case_id in sorted(set(old.cases) | set(new.cases)):
        if case_id not in new.cases:
            label, verdict, _ = old.cases[case_id]
            changes.append(Change(case_id, label, "case", "removed", verdict, "-"))
            continue
        label, verdict, levels = new.cases[case_id]
        if case_id not in old.cases:
            kind = "new failure" if verdict in FAILED else "added"
            reason, paths = _first_failure(levels)
            changes.append(Change(case_id, label, "case", kind, "-", verdict, reason, paths))
            continue
        before = old.cases[case_id][2]
        for level in sorted(set(before) | set(levels)):
            was = before.get(level, ("-", "", []))[0]
            now, reason, paths = levels.get(level, ("-", "", []))
            kind = classify(was, now)
            if kind:
                changes.append(Change(case_id, label, level, kind, was, now, reason, paths))
    return sorted(changes, key=lambda c: (KINDS.index(c.kind), c.label, c.case, c.level))


def _first_failure(levels: dict) -> tuple[str, list]:
    for status, reason, paths in levels.values():
        if status in FAILED:
            return reason, paths
    return "", []


def first_line(reason: str) -> str:
    """A reason's first line without pytest's ``E   `` prefix, at most 200 characters."""
    line = reason.strip().splitlines()[0] if reason.strip() else ""
    return re.sub(r"^((?:\[\w+\] )?\w+: )E\s+", r"\1", line)[:200]


def regressions(changes: list[Change], strict: bool = False) -> list[Change]:
    kinds = STRICT_REGRESSIONS if strict else REGRESSIONS
    return [c for c in changes if c.kind in kinds]


def text(old: Side, new: Side, changes: list[Change], strict: bool = False) -> str:
    lines = [f"old: {old.path} ({old.driver}, {old.verdict})", f"new: {new.path} ({new.driver}, {new.verdict})"]
    for kind in KINDS:
        some = [c for c in changes if c.kind == kind]
        if not some:
            continue
        lines.append(f"{kind} ({len({c.case for c in some})} case(s)):")
        for c in some:
            why = f"  {first_line(c.reason)}" if c.reason and c.kind in REGRESSIONS | {"flaky"} else ""
            lines.append(f"  {c.label} [{c.level}] id-{c.case}: {c.old} -> {c.new}{why}")
    bad = regressions(changes, strict)
    if not changes:
        lines.append("no change")
    lines.append(f"REGRESSION: {len({c.case for c in bad})} case(s)" if bad else "no regression")
    return "\n".join(lines)


def run(args) -> int:
    from conformance.report.diff_html import write_html
    old, new = load(args.old), load(args.new)
    changes = compare(old, new)
    print(text(old, new, changes, args.strict))
    page = new.path.parent / "diff.html" if args.html is None else (Path(args.html) if args.html else None)
    if page is not None:
        write_html(page, old, new, changes, regressions(changes, args.strict))
        print(f"html: {page}")
    return 1 if regressions(changes, args.strict) else 0
