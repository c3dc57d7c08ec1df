"""``conformance merge OUT [NAME=]REPORT_DIR...``: the fleet report of single-host
certifications made apart (e.g. one CI job per runner), as ``certify --host A --host B``
writes it when it runs them itself: the same schema, verdict rules, four files and the same
writing step (:func:`conformance.run.reports.write_fleet_reports`).

Each REPORT_DIR holds one host's reports (``report.json`` and its junit.xml, report.html,
report.subunit, pytest.log), copied to ``OUT/hosts/<NAME>/`` with the failure artefacts the
report links (``artifacts/``, ``attempts/<n>/artifacts/``). NAME defaults to the label
the report carries, else the directory's name. Every report must verify against its digest
and judge the same driver; the mode is ``replicate`` when every host ran the same
selection, else ``shard``. Exit 0 when the fleet is certified, 1 when not, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path

from conformance.errors import HarnessError
from conformance.run.hosts import LABEL
from conformance.run.reports import FleetHost, write_fleet_reports
from conformance.report.digest import verify

REPORT_FILES = ("report.json", "junit.xml", "report.html", "report.subunit", "pytest.log",
                "pytest-junit.xml")


class MergeError(HarnessError):
    exit_code = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", help="directory for the fleet reports (hosts' reports in OUT/hosts/NAME/)")
    parser.add_argument("reports", nargs="+", metavar="[NAME=]REPORT_DIR",
                        help="a directory written by `conformance certify` for one host")


def run(args) -> int:
    from conformance.run.terminal import print_fleet
    out = Path(args.out).resolve()
    fleet = merge(out, [_parse(spec) for spec in args.reports])
    print_fleet(fleet, out)
    return 0 if fleet["certification"]["verdict"] == "certified" else 1


def _parse(spec: str) -> tuple[str | None, Path]:
    match = re.match(r"^([^=/]+)=(.+)$", spec)
    return (match[1], Path(match[2])) if match else (None, Path(spec))


def load(name: str | None, where: Path) -> tuple[str, dict]:
    """(label, report) of the single-host report in directory ``where``, verified."""
    path = where / "report.json" if where.is_dir() else where
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise MergeError(f"cannot read {path}: {exc}") from None
    if not isinstance(report, dict) or report.get("kind") == "fleet" or "cases" not in report:
        raise MergeError(f"{path}: not a single-host report of `conformance certify`")
    if not verify(report):
        raise MergeError(f"{path}: TAMPERED (digest does not match the content)")
    label = name or report["host"].get("label") or path.parent.resolve().name
    if not LABEL.match(label):
        raise MergeError(f"{path}: {label!r} is no host name (letters, digits, . _ -; give NAME=DIR)")
    return label, report


def merge(out: Path, specs: list[tuple[str | None, Path]]) -> dict:
    """Write the fleet reports of ``specs`` ((NAME or None, REPORT_DIR)) to ``out``; the
    finished fleet report."""
    loaded = [(*load(name, where), where) for name, where in specs]
    labels = [label for label, _, _ in loaded]
    twice = sorted({label for label in labels if labels.count(label) > 1})
    if twice:
        raise MergeError(f"two reports for host {', '.join(twice)}: give each NAME=DIR")
    drivers = {report["driver"] for _, report, _ in loaded}
    if len(drivers) > 1:
        raise MergeError(f"the reports judge different drivers: {', '.join(sorted(drivers))}")
    hosts = []
    for label, report, where in loaded:
        _copy(where if where.is_dir() else where.parent, out / "hosts" / label, report)
        caps = report["host"].get("capabilities") or {}
        cert = report["certification"]
        blocker = caps["error"] if caps.get("error") and caps.get("error") == cert.get("problem") else None
        hosts.append(FleetHost(label, report["host"]["libvirt_uri"], report, f"hosts/{label}/report.json",
                               report["host"].get("workers") or 1, blocker))
    reports = {host.label: host.report for host in hosts}
    first = loaded[0][1]
    selections = [json.dumps(report.get("selection"), sort_keys=True) for _, report, _ in loaded]
    interrupted = next((r["certification"]["interrupted"] for _, r, _ in loaded
                        if r["certification"]["verdict"] == "interrupted"), None)
    return write_fleet_reports(out, hosts, first["driver"],
                               "replicate" if len(set(selections)) == 1 else "shard",
                               first.get("selection") or {}, interrupted,
                               min(r.get("started", "") for r in reports.values()),
                               max(r.get("finished", "") for r in reports.values()),
                               max(r.get("wall_seconds", 0.0) for r in reports.values()),
                               first.get("versions") or {})


def _copy(source: Path, target: Path, report: dict) -> None:
    """The host's report files, and the failure artefacts its reports link (only those:
    :func:`conformance.report.artifacts.copy_linked`)."""
    from conformance.report.artifacts import copy_linked
    target.mkdir(parents=True, exist_ok=True)
    for name in REPORT_FILES:
        if (source / name).is_file() and (source / name).resolve() != (target / name).resolve():
            shutil.copy2(source / name, target / name)
    copy_linked(report, source, target)
