"""What a certification prints: progress lines (whole lines, a fleet's hosts labelled), a
host's failed cases and headline, a fleet's hosts, differences and headline."""

from __future__ import annotations

import re
import sys
import threading
from pathlib import Path

SHOWN_CASES = 10  # case differences printed on the terminal (the reports list all)
_SAY = threading.Lock()  # hosts' threads print whole lines


def say(label: str | None, text: str) -> None:
    """``certify[LABEL]: text`` (a fleet's host) or ``certify: text`` on stderr."""
    line = f"certify[{label}]: {text}\n" if label else f"certify: {text}\n"
    with _SAY:
        sys.stderr.write(line)
        sys.stderr.flush()


def print_host(report: dict, problem: str | None, out: Path) -> None:
    """A single host's failed and errored cases (first line of each reason), its problem and
    its headline."""
    for verdict in report["cases"]:
        if verdict["verdict"] in ("fail", "error", "flaky"):
            first = verdict["reason"].splitlines()[0] if verdict["reason"] else ""
            first = re.sub(r"^(\w+: )E\s+", r"\1", first)  # pytest's "E   " assertion prefix
            print(f"{verdict['verdict'].upper()} {verdict['id']} {verdict['feature']}/{verdict['name']}: "
                  f"{first}"[:300])
            kept = sorted({a["path"].rsplit("/", 1)[0] for a in verdict.get("artifacts") or [] if "path" in a})
            if kept:
                print(f"  artefacts: {', '.join(str(out / k) + '/' for k in kept)}"[:600])
    if problem:
        print(f"conformance: {problem}", file=sys.stderr)
    summary = report["summary"]
    print(f"certify: {summary['headline']}")
    flaky = f", {summary['flaky']} flaky" if summary.get("flaky") else ""
    print(f"certify: {summary['pass']} passed{flaky}, {summary['fail']} failed, {summary['error']} errors, "
          f"{summary['skip']} skipped of {summary['total']} cases in {report['wall_seconds']} s; "
          f"reports in {out}/ (report.json, junit.xml, report.html, report.subunit)")


def print_fleet(fleet: dict, out: Path) -> None:
    """A line per host (its headline), the fleet's differences, then the fleet headline."""
    for host in fleet["hosts"]:
        print(f"certify[{host['label']}]: {host['certification']['headline']}")
    cases = [diff for diff in fleet["differences"] if diff["kind"] == "case"]
    for diff in [d for d in fleet["differences"] if d["kind"] != "case"] + cases[:SHOWN_CASES]:
        values = ", ".join(f"{label}: {value}" for label, value in diff["hosts"].items())
        what = f"case {diff['what']} ({diff['id'][:8]})" if diff["kind"] == "case" else diff["what"]
        why = diff.get("explained") or "UNEXPLAINED: neither a host fact nor a version rule"
        print(f"certify: hosts differ in {what}: {values}"[:400] + f" ({why})"[:300])
    if len(cases) > SHOWN_CASES:
        print(f"certify: ... and {len(cases) - SHOWN_CASES} more cases differ between hosts "
              f"(all in report.html and report.json)")
    summary = fleet["summary"]
    print(f"certify: {summary['headline']}")
    flaky = f", {summary['flaky']} flaky" if summary.get("flaky") else ""
    print(f"certify: {summary['pass']} passed{flaky}, {summary['fail']} failed, {summary['error']} errors, "
          f"{summary['skip']} skipped of {summary['runs']} case runs ({summary['cases']} cases, "
          f"{summary['hosts']} hosts) in {fleet['wall_seconds']} s; reports in {out}/ (report.json, "
          f"junit.xml, report.html, report.subunit; per host in hosts/<label>/)")
    sys.stdout.flush()
