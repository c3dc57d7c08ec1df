"""``conformance certify --host A --host B ...``: certify on every host at once, then join.

Each host is certified by :func:`conformance.host_certify.certify_host` in a thread of its
own (its own pytest child, session, accelerator, capability facts and workers) into
``OUT/hosts/<label>/``; then the fleet report (``conformance.report.fleet``) goes to
``OUT/``. Every case runs on every host, or with ``--shard`` on one host each
(``conformance.fleet.shard``). A stop request reaches every child (each supervises its own);
the caller (``conformance.certify.run``) then cleans leftovers on every host.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from conformance.errors import HarnessError
from conformance.fleet.hosts import Host
from conformance.host_certify import (HostOutcome, Settings, _certification, _report, certify_host,
                                      say, versions, write_reports)
from conformance.lab.runs import owned_temp_dir
from conformance.report.headline import certification
from conformance.report.selection import Selection
from conformance.stopping import kill_orphans

SHOWN_CASES = 10  # case differences printed on the terminal (the reports list all)
JOIN_POLL = 0.2  # seconds between checks that the hosts' threads are done (signals stay live)


def selections(settings: Settings, hosts: list[Host], selection: Selection,
               shard: bool) -> dict[str, Selection]:
    """label -> what that host certifies: everything, or with ``shard`` its share of the
    selected cases (whole guest groups; ids restricted, the other filters kept)."""
    if not shard:
        return {host.label: selection for host in hosts}
    from conformance.catalogue import ALL_CASES
    from conformance.fleet.shard import live_groups
    from conformance.fleet.shard import shard as split
    ids = [case.id for case in ALL_CASES if selection.case_wanted(case)]
    groups = [] if settings.level == "xml" else live_groups(
        settings.driver, getattr(settings.config, "exec_driver_timeout", None))
    shares = split(ids, [host.label for host in hosts], groups)
    return {label: replace(selection, ids=share) for label, share in shares.items()}


def certify_fleet(settings: Settings, hosts: list[Host], selection: Selection, out: Path,
                  workers: int, per_host: int | None = None, shard: bool = False) -> int:
    """Certify on every host in parallel, write the fleet reports; the exit status."""
    per_host = per_host or max(1, workers // len(hosts))
    if settings.progress == "auto":
        settings.progress = "plain"  # several children share the terminal: whole labelled lines
    shares = selections(settings, hosts, selection, shard)
    out.mkdir(parents=True, exist_ok=True)
    started, clock = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), time.monotonic()
    say(None, f"fleet of {len(hosts)} hosts ({', '.join(h.title for h in hosts)}); "
        f"{'cases sharded across them' if shard else 'every case on every host'}; "
        f"{per_host} workers per host")
    scratch = owned_temp_dir("cfm-fleet-")  # `cleanup` removes it if we are SIGKILLed
    try:
        outcomes = run_hosts(settings, hosts, shares, out, per_host, scratch)
    finally:
        kill_orphans()  # drivers of every host's child, before their temp files go
        shutil.rmtree(scratch, ignore_errors=True)
    lost = [host.title for host in hosts if host.label not in outcomes]
    if lost:
        raise HarnessError(f"no report could be written for host(s) {', '.join(lost)} (see above)")
    for outcome in outcomes.values():
        outcome.mark_interrupted(settings)  # the stop came after that host had finished
    fleet = write_fleet(settings, hosts, outcomes, out, per_host, "shard" if shard else "replicate",
                        selection, started, clock)
    if settings.stop.requested and fleet["certification"]["verdict"] != "interrupted":
        for outcome in outcomes.values():  # the signal arrived while the reports were written
            outcome.mark_interrupted(settings)
        fleet = write_fleet(settings, hosts, outcomes, out, per_host, "shard" if shard else "replicate",
                            selection, started, clock)
    print_outcome(fleet, out)
    if settings.stop.requested:
        return settings.stop.exit_status
    return 0 if fleet["certification"]["verdict"] == "certified" else 1


def host_dir(out: Path, host: Host) -> Path:
    return out / "hosts" / host.label


def run_hosts(settings: Settings, hosts: list[Host], shares: dict[str, Selection], out: Path,
              per_host: int, scratch: Path) -> dict[str, HostOutcome]:
    """label -> outcome: one thread per host; a host whose certification raised gets
    reports in which every case errors with that reason (the others are unaffected), also
    when writing those reports raised as well (:func:`failed_outcome`)."""
    outcomes: dict[str, HostOutcome] = {}

    def work(host: Host) -> None:
        where = host_dir(out, host)
        try:
            outcomes[host.label] = certify_host(settings, host.uri, shares[host.label], where,
                                                per_host, host.label, scratch)
        except Exception as exc:  # noqa: BLE001 - one host's crash must not lose the others
            why = f"certification failed: {type(exc).__name__}: {exc}"
            say(host.label, why)
            try:
                outcomes[host.label] = certify_host(settings, host.uri, shares[host.label], where,
                                                    per_host, host.label, scratch, failed=why)
            except Exception as again:  # noqa: BLE001 - nor may its error report
                why += f"; its error report failed too: {type(again).__name__}: {again}"
                say(host.label, f"its error report failed too: {type(again).__name__}: {again}")
                outcomes[host.label] = failed_outcome(settings, host.uri, shares[host.label],
                                                      where, host.label, why)

    threads = [threading.Thread(target=work, args=(host,), name=f"certify {host.label}")
               for host in hosts]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():  # each thread's work is bounded: its child is supervised
            thread.join(JOIN_POLL)
    return outcomes


def failed_outcome(settings: Settings, uri: str, selection: Selection, out: Path,
                   label: str | None, why: str) -> HostOutcome:
    """The outcome of a host whose certification raised and whose error report
    (``certify_host(failed=...)``) raised too: every selected case errors at every level with
    ``why``, decided without the planning that may have raised; its reports are written
    when that is possible (the fleet report needs only this outcome)."""
    from conformance.catalogue import ALL_CASES
    from conformance.report.aggregate import aggregate, blame_host
    from conformance.report.digest import digest
    title = f"{label} ({uri})" if label else uri
    blocker = f"host {title}: {why}"
    cases = [c for c in ALL_CASES if selection.case_wanted(c)]
    verdicts = blame_host(aggregate([], cases, {}, settings.level, host=title), blocker)
    results = {"entries": [], "expected": [], "exitstatus": None}
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    report = _report(settings, verdicts, results, selection, uri, "unknown", blocker,
                     {"error": blocker}, stamp, time.monotonic())
    if label:
        report["host"]["label"] = label
    _certification(report, certification(verdicts, settings.level, settings.stop.summary(),
                                          blocker, settings.scope))
    try:
        out.mkdir(parents=True, exist_ok=True)
        write_reports(report, out)
    except Exception as exc:  # noqa: BLE001 - the fleet report still names this host
        say(label, f"its reports could not be written: {type(exc).__name__}: {exc}")
        report["digest"] = digest(report)
    return HostOutcome(report, verdicts, blocker, out, label, blocker)


def write_fleet(settings: Settings, hosts: list[Host], outcomes: dict[str, HostOutcome], out: Path,
                per_host: int, mode: str, selection: Selection, started: str, clock: float) -> dict:
    """Build, digest, validate and write the fleet's report.json, junit.xml, report.html and
    report.subunit; returns the finished fleet report."""
    from conformance.report import fleet as fleet_mod
    from conformance.report import fleet_writers
    entries, reports = [], {}
    for host in hosts:
        outcome = outcomes[host.label]
        path = str(host_dir(out, host).relative_to(out) / "report.json")
        entries.append(fleet_mod.host_entry(host.label, host.uri, outcome.report, path, per_host,
                                            outcome.blocker))
        reports[host.label] = outcome.report
    body = fleet_mod.build(settings.driver, mode, selection.__dict__, entries, reports,
                           settings.stop.summary(), started,
                           time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                           round(time.monotonic() - clock, 1), versions())
    return fleet_writers.write_all(body, reports, out)


def print_outcome(fleet: dict, out: Path) -> None:
    """A line per host (its headline), the fleet's differences, then the fleet headline."""
    for host in fleet["hosts"]:
        print(f"certify[{host['label']}]: {host['certification']['headline']}")
    cases = [diff for diff in fleet["differences"] if diff["kind"] == "case"]
    for diff in [d for d in fleet["differences"] if d["kind"] != "case"] + cases[:SHOWN_CASES]:
        values = ", ".join(f"{label}: {value}" for label, value in diff["hosts"].items())
        what = f"case {diff['what']} ({diff['id'][:8]})" if diff["kind"] == "case" else diff["what"]
        print(f"certify: hosts differ in {what}: {values}"[:400])
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
