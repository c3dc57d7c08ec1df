"""``conformance verify-report FILE``: recompute a report's digest (0 ok, 1 tampered, 2 unreadable)."""

from __future__ import annotations

import json
import sys

from conformance.report.digest import verify


def add_arguments(parser) -> None:
    parser.add_argument("report", help="report.json written by conformance certify")


def run(args) -> int:
    try:
        with open(args.report) as handle:
            report = json.load(handle)
    except (OSError, ValueError) as exc:
        print(f"conformance: cannot read {args.report}: {exc}", file=sys.stderr)
        return 2
    if isinstance(report, dict) and verify(report):
        print(f"{args.report}: ok ({report['digest']})")
        return 0
    print(f"{args.report}: TAMPERED (digest does not match the content)")
    return 1
