"""A host's verdicts and report: per-case verdicts from the child's results (with the
config's and the command line's requirements), the single-host report, its certification,
and :class:`HostOutcome` (the report as written, and what re-deciding its verdict needs)."""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass
from pathlib import Path

from conformance.report.headline import certification
from conformance.run.reports import write_host_reports
from conformance.run.settings import Settings

HARNESS_OWNED = [
    "kernel, initrd and kernel command line (supplied in the request's boot parameters)",
    "libvirt domain name (fresh per guest); the uuid is the request's instance uuid (fresh per "
    "guest identity), the driver's <uuid>/<sysinfo> uuid must be it (sandbox rule uuid)",
    "serial console (a file of the run) and the guest-agent socket path (libvirt's default)",
    "firmware (<loader type='rom'> qboot when available)",
    "ownership marker in <metadata>",
    "live levels: virt type = the host's accelerator; non-agent cases also get hw_qemu_guest_agent=yes",
]
NO_RESULTS = {"entries": [], "expected": [], "exitstatus": None}  # no child ran


@dataclass
class HostOutcome:
    """A host's finished report (as written) and what re-deciding its verdict needs."""
    report: dict
    verdicts: list[dict]
    problem: str | None
    out: Path
    label: str | None = None
    blocker: str | None = None  # why the host could not deliver results (e.g. unreachable)

    def mark_interrupted(self, settings: Settings) -> None:
        """The stop came after this host finished: its reports say interrupted after all."""
        if self.report["certification"]["verdict"] != "interrupted" and settings.stop.requested:
            set_certification(self.report, certification(self.verdicts, settings.level,
                                                         settings.stop.summary(), self.problem,
                                                         settings.scope, settings.flaky_is_failure))
            write_host_reports(self.report, self.out)


def verdicts(results, cases, virt_type, settings: Settings, interrupted, host: str) -> list[dict]:
    """Per-case verdicts: aggregated checks (a missing result names ``host``, ``label
    (uri)``), then the config's and the command line's requirements."""
    from conformance.live.plan import no_check_levels
    from conformance.report.aggregate import aggregate, require_features, require_level
    planned = {c.id: no_check_levels(c, virt_type if virt_type != "unknown" else "qemu") for c in cases}
    found = aggregate(results["entries"], cases, planned, settings.level, interrupted=bool(interrupted),
                      expected=results["expected"], host=host)
    return require_level(require_features(found, settings.config.required_features), settings.require)


def build(settings: Settings, verdicts_, results, selection, uri, virt_type, reason, facts,
          started, clock) -> dict:
    """The single-host report (no certification yet: :func:`set_certification`)."""
    from conformance.report.aggregate import matrix, operation_matrix
    config = settings.config
    summary = {k: sum(1 for v in verdicts_ if v["verdict"] == k)
               for k in ("pass", "flaky", "fail", "error", "skip", "not-run")}
    summary["total"] = len(verdicts_)
    return {
        "format": 1, "driver": settings.driver, "started": started,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "wall_seconds": round(time.monotonic() - clock, 1),
        "selection": selection.__dict__,
        "host": {"accelerator": virt_type, "accelerator_reason": reason, "libvirt_uri": uri,
                 "kernel": platform.release(), "config": config.path,
                 "rng_dev_path": config.rng_dev_path, "required_features": config.required_features,
                 "required_level": settings.require, "capabilities": facts},
        "versions": versions(),
        "harness_owned": HARNESS_OWNED,
        "pytest_exitstatus": results["exitstatus"],
        "driver_protocol": settings.protocol,
        "summary": summary, "matrix": matrix(verdicts_), "operations": operation_matrix(verdicts_),
        "cases": verdicts_,
    }


def set_certification(report: dict, found: dict) -> None:
    """``found`` (:func:`conformance.report.headline.certification`) into ``report``."""
    report["certification"] = found
    report["summary"].update(verdict=found["verdict"], certification_level=found["level"],
                             headline=found["headline"])


def failed_outcome(settings: Settings, host, selection, out: Path, label: str | None,
                   workers: int, why: str) -> HostOutcome:
    """The outcome of a host whose certification raised, and whose error report raised too:
    every selected case errors at every level with ``why``, decided without the planning
    that may have raised; its reports are written when that is possible (a fleet report
    needs only this outcome)."""
    from conformance.catalogue import ALL_CASES
    from conformance.report.aggregate import aggregate, blame_host
    from conformance.report.digest import digest
    from conformance.run.terminal import say
    blocker = f"host {host.title}: {why}"
    cases = [c for c in ALL_CASES if selection.case_wanted(c)]
    found = blame_host(aggregate([], cases, {}, settings.level, host=host.title), blocker)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    report = build(settings, found, NO_RESULTS, selection, host.uri, "unknown", blocker,
                   {"error": blocker}, stamp, time.monotonic())
    report["host"]["workers"] = workers
    if label:
        report["host"]["label"] = label
    set_certification(report, certification(found, settings.level, settings.stop.summary(),
                                            blocker, settings.scope))
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_host_reports(report, out)
    except Exception as exc:  # noqa: BLE001 - the fleet report still names this host
        say(label, f"its reports could not be written: {type(exc).__name__}: {exc}")
        report["digest"] = digest(report)
    return HostOutcome(report, found, blocker, out, label, blocker)


def versions() -> dict:
    """Python's and the harness's packages' versions (a report's ``versions``)."""
    from importlib.metadata import PackageNotFoundError, version
    found = {"python": platform.python_version()}
    for name in ("hv-conformance", "libvirt-python", "lxml", "pytest"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found
