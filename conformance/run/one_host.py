"""One host's certification, the same for a single host and for each host of a fleet: is
its libvirt there, prepare it (accelerator, shared image), run the pytest child against
it, judge per case, blame the host when it went away, write its four reports.

:func:`certify_host` runs in a thread of its own (:class:`conformance.run.certify.Run`).
"""

from __future__ import annotations

import time
from pathlib import Path

from conformance.report.headline import certification
from conformance.report.selection import Selection
from conformance.run import host_report
from conformance.run.child import run_pytest
from conformance.run.host_report import NO_RESULTS, HostOutcome, set_certification
from conformance.run.hosts import Host
from conformance.run.prepare import HostPreparation, host_facts
from conformance.run.reach import unreachable
from conformance.run.reports import write_host_reports
from conformance.run.results import pytest_problem
from conformance.run.settings import Settings
from conformance.run.terminal import say


def certify_host(settings: Settings, host: Host, selection: Selection, out: Path, parallel: int,
                 tmp: Path, label: str | None = None, failed: str | None = None) -> HostOutcome:
    """Certify ``selection`` on ``host``; reports and pytest.log in ``out``, the child's
    temp files in ``tmp`` (the run's).

    ``label`` (a fleet's host) prefixes progress lines and goes into the report. A host
    found unreachable before its run runs no child, and after a run with failures or
    errors blames itself: every unfinished check an error naming it. ``failed`` (why the
    run could not certify this host) writes reports in which every case errors with it.
    """
    from conformance.catalogue import ALL_CASES
    out.mkdir(parents=True, exist_ok=True)
    cases = [c for c in ALL_CASES if selection.case_wanted(c)]
    started, clock = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), time.monotonic()
    say(label, f"preparing: {len(cases)} cases, driver {settings.driver}"
        + ("" if settings.level == "xml" else ", choosing the accelerator"))
    blocker = f"host {host.title}: {failed}" if failed else unreachable(host)
    with HostPreparation(host.uri, settings, blocker, label) as prepared:
        virt_type, reason = prepared.virt_type, prepared.reason
        say(label, f"driver {settings.driver}; {len(cases)} cases; levels up to {settings.level}; "
            f"accelerator {virt_type} ({reason})")
        results = NO_RESULTS
        if not settings.stop.requested and not blocker:
            results = run_pytest(settings, selection, host.uri, parallel, out, label, tmp,
                                 prepared.child_env)
        interrupted = settings.stop.summary()
        verdicts = host_report.verdicts(results, cases, virt_type, settings, interrupted, host.title)
        problem = pytest_problem(results["exitstatus"], interrupted, out, results.get("stderr", ""))
        if settings.rerun_failures and not (interrupted or blocker or problem):
            from conformance.run.rerun import rerun_host
            verdicts = rerun_host(settings, verdicts, results, selection, cases, out,
                                  lambda sel, where: run_pytest(settings, sel, host.uri, parallel, where,
                                                                label, _attempt_tmp(tmp, where),
                                                                prepared.child_env),
                                  lambda found, chosen, stopped: host_report.verdicts(
                                      found, chosen, virt_type, settings, stopped, host.title),
                                  lambda text: say(label, text))
            interrupted = settings.stop.summary()
        if not interrupted and not blocker and (
                problem or any(v["verdict"] in ("fail", "error") for v in verdicts)):
            blocker = unreachable(host)  # did the host die under the run?
        prepared.lost = blocker
    if blocker and not interrupted:
        from conformance.report.aggregate import blame_host
        blame_host(verdicts, blocker)
        problem = blocker
    facts = {"error": blocker} if blocker else host_facts(host.uri)
    report = host_report.build(settings, verdicts, results, selection, host.uri, virt_type, reason,
                               facts, started, clock)
    report["host"]["workers"] = parallel  # what a fleet report says of it (conformance merge)
    if label:
        report["host"]["label"] = label
    set_certification(report, certification(verdicts, settings.level, interrupted, problem, settings.scope,
                                                  settings.flaky_is_failure))
    write_host_reports(report, out)
    outcome = HostOutcome(report, verdicts, problem, out, label, blocker)
    outcome.mark_interrupted(settings)  # the signal arrived while the reports were being written
    return outcome


def _attempt_tmp(tmp: Path, where: Path) -> Path:
    """A rerun's own temp dir inside the host's (``where``: its ``attempts/<n>`` directory)."""
    path = tmp / f"attempt-{where.name}"
    path.mkdir()
    return path
