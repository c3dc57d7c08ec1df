"""``conformance verify-report FILE``: recompute a report's digest (0 ok, 1 tampered, 2 unreadable).

A fleet report (``kind: "fleet"``) is verified with every host report it names: each must
be readable next to it (``hosts/<label>/report.json``), verify against its own digest and
carry the digest the fleet report recorded for it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from conformance.report.digest import verify


def add_arguments(parser) -> None:
    parser.add_argument("report", help="report.json written by conformance certify (single host or fleet)")


def _load(path: Path) -> dict:
    with open(path) as handle:
        report = json.load(handle)
    if not isinstance(report, dict):
        raise ValueError("not a JSON object")
    return report


def problems(path: Path) -> tuple[int, list[str]]:
    """(exit status, what is wrong) for the report at ``path`` (and a fleet's host reports)."""
    try:
        report = _load(path)
    except (OSError, ValueError) as exc:
        return 2, [f"cannot read {path}: {exc}"]
    found = [] if verify(report) else [f"{path}: TAMPERED (digest does not match the content)"]
    if report.get("kind") != "fleet":
        return (1 if found else 0), found
    status = 1 if found else 0
    for host in report.get("hosts") or []:
        where = path.parent / str(host.get("report", ""))
        try:
            inner = _load(where)
        except (OSError, ValueError) as exc:
            found.append(f"host {host.get('label')}: cannot read {where}: {exc}")
            status = max(status, 2)
            continue
        if not verify(inner):
            found.append(f"{where}: TAMPERED (digest does not match the content)")
        elif inner.get("digest") != host.get("report_digest"):
            found.append(f"{where}: not the report the fleet report names (digest "
                         f"{inner.get('digest')} != {host.get('report_digest')})")
        else:
            continue
        status = max(status, 1)
    return status, found


def run(args) -> int:
    status, found = problems(Path(args.report))
    for line in found:
        print(f"conformance: {line}" if line.startswith("cannot read") else line,
              file=sys.stderr if line.startswith("cannot read") else sys.stdout)
    if status == 0:
        report = _load(Path(args.report))
        hosts = report.get("hosts") if report.get("kind") == "fleet" else None
        print(f"{args.report}: ok ({report['digest']})"
              + (f"; {len(hosts)} host reports ok" if hosts else ""))
    return status
