"""Writing a certification's reports: a host's four files (:func:`write_host_reports`) and
a fleet's (:func:`write_fleet_reports`, also what ``conformance merge`` writes for hosts
certified apart): report.json (digested, schema-checked), junit.xml, report.html,
report.subunit (docs/report-schema.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


def write_host_reports(report: dict, out: Path) -> None:
    """A host's report.json (digested, schema-checked), junit.xml, report.html and
    report.subunit in ``out``; ``report`` gets its digest."""
    from conformance.report import subunit_stream, writers
    report.pop("digest", None)
    final = writers.finish(report)
    report["digest"] = final["digest"]
    writers.write_json(final, out / "report.json")
    writers.write_junit(final, out / "junit.xml")
    writers.write_html(final, out / "report.html")
    subunit_stream.write_subunit(final, out / "report.subunit")


@dataclass
class FleetHost:
    """One host of a fleet report: its finished single-host report and where it lies."""
    label: str
    uri: str
    report: dict
    path: str  # of its report.json, relative to the fleet's directory
    workers: int
    blocker: str | None = None  # why the host could not deliver results (e.g. unreachable)


def write_fleet_reports(out: Path, hosts: list[FleetHost], driver: str, mode: str, selection: dict,
                        interrupted: dict | None, started: str, finished: str, wall_seconds: float,
                        versions: dict) -> dict:
    """Build, digest, validate and write the fleet's report.json, junit.xml, report.html and
    report.subunit into ``out``; returns the finished fleet report."""
    from conformance.report import fleet, fleet_writers
    entries = [fleet.host_entry(h.label, h.uri, h.report, h.path, h.workers, h.blocker) for h in hosts]
    reports = {h.label: h.report for h in hosts}
    body = fleet.build(driver, mode, selection, entries, reports, interrupted, started, finished,
                       wall_seconds, versions)
    out.mkdir(parents=True, exist_ok=True)
    return fleet_writers.write_all(body, reports, out)
