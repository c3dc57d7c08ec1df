"""The run of one certification (:class:`Run`): what it owns from start to end, and its
hosts certified side by side.

A run owns the stop signals (SIGINT/SIGTERM: a request to stop, passed on to every child),
the subreaper (orphaned descendants come back to it), the child processes and what they
leave (killed once every host is done: :func:`conformance.stopping.kill_orphans` is called
here only), a temp dir per host (the pytest child's files), the host list and the reports.
One host is a fleet of one: every host is certified by
:func:`conformance.run.one_host.certify_host` in a thread of its own (its own pytest child,
accelerator, facts and workers), with the same reachability and blame rules; a host whose
certification raises gets reports in which every case errors, and the others are unaffected.
One host's reports go to ``OUT/``; with several, each host's to ``OUT/hosts/<label>/`` and
the fleet report to ``OUT/``. After a stop the run removes the guests of dead runs on every
host and its reports say interrupted, never a verdict.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path

from conformance.errors import HarnessError
from conformance.lab.runs import owned_temp_dir
from conformance.report.selection import Selection
from conformance.run.host_report import HostOutcome, failed_outcome, versions
from conformance.run.hosts import Host
from conformance.run.leftovers import clean_after_stop
from conformance.run.one_host import certify_host
from conformance.run.reports import FleetHost, write_fleet_reports
from conformance.run.settings import Settings
from conformance.run.shard import selections
from conformance.run.terminal import print_fleet, print_host, say
from conformance.stopping import StopSignals, become_subreaper, kill_orphans

JOIN_POLL = 0.2  # seconds between checks that the hosts' threads are done (signals stay live)


class Run:
    """One certification over ``hosts``; a context manager (enter: signals and subreaper;
    exit: orphans killed, temp dirs removed, after a stop every host cleaned). ``stop``:
    the caller's own :class:`StopSignals` (entered by the caller), else the run's."""

    def __init__(self, hosts: list[Host], stop: StopSignals | None = None):
        if not hosts:
            raise HarnessError("a certification needs at least one host")
        self.hosts = hosts
        self.stop = stop or StopSignals()
        self._own_stop = stop is None
        self.temp_dirs: list[Path] = []
        self.outcomes: dict[str, HostOutcome] = {}  # label -> the host's finished reports
        self.fleet: dict | None = None  # the fleet report (two or more hosts)

    @property
    def is_fleet(self) -> bool:
        return len(self.hosts) > 1

    def __enter__(self) -> Run:
        become_subreaper()
        if self._own_stop:
            self.stop.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        try:
            kill_orphans()  # every host's drivers and what they left, before their temp files go
            for path in self.temp_dirs:
                shutil.rmtree(path, ignore_errors=True)
            if self.stop.requested:
                clean_after_stop([host.uri for host in self.hosts])
        finally:
            if self._own_stop:
                self.stop.__exit__(*exc)

    def temp_dir(self) -> Path:
        """A temp dir of the run (``conformance cleanup`` removes it if we are SIGKILLed)."""
        path = owned_temp_dir("cfm-certify-")
        self.temp_dirs.append(path)
        return path

    def host_dir(self, out: Path, host: Host) -> Path:
        return out / "hosts" / host.label if self.is_fleet else out

    def certify(self, settings: Settings, selection: Selection, out: Path, workers: int,
                per_host: int | None = None, shard: bool = False) -> int:
        """Certify every host, write the reports, print the outcome; the exit status."""
        per_host = per_host or max(1, workers // len(self.hosts))
        if self.is_fleet and settings.progress == "auto":
            settings.progress = "plain"  # several children share the terminal: whole labelled lines
        shares = selections(settings, self.hosts, selection, shard)
        out.mkdir(parents=True, exist_ok=True)
        started, clock = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), time.monotonic()
        if self.is_fleet:
            say(None, f"fleet of {len(self.hosts)} hosts ({', '.join(h.title for h in self.hosts)}); "
                f"{'cases sharded across them' if shard else 'every case on every host'}; "
                f"{per_host} workers per host")
        self.outcomes = self._with_run_hosts(lambda: self._certify_hosts(settings, shares, out, per_host))
        lost = [host.title for host in self.hosts if host.label not in self.outcomes]
        if lost:
            raise HarnessError(f"no report could be written for host(s) {', '.join(lost)} (see above)")
        for outcome in self.outcomes.values():
            outcome.mark_interrupted(settings)  # the stop came after that host had finished
        if self.is_fleet:
            verdict = self._fleet_report(settings, selection, out, per_host, shard, started, clock)
        else:
            outcome = self.outcomes[self.hosts[0].label]
            print_host(outcome.report, outcome.problem, out)
            verdict = outcome.report["certification"]["verdict"]
        if self.stop.requested:
            return self.stop.exit_status
        return 0 if verdict == "certified" else 1

    def _with_run_hosts(self, work):
        """``work()`` with the run's host URIs in :data:`conformance.live.peers.RUN_HOSTS_ENV`
        (for the judging here and every host's child: the peer of a two-host operation)."""
        from conformance.live.peers import RUN_HOSTS_ENV
        before = os.environ.get(RUN_HOSTS_ENV)
        os.environ[RUN_HOSTS_ENV] = json.dumps([host.uri for host in self.hosts])
        try:
            return work()
        finally:
            if before is None:
                os.environ.pop(RUN_HOSTS_ENV, None)
            else:
                os.environ[RUN_HOSTS_ENV] = before

    def _certify_hosts(self, settings: Settings, shares: dict[str, Selection], out: Path,
                       per_host: int) -> dict[str, HostOutcome]:
        """label -> outcome: one thread per host; a host whose certification raised gets
        reports in which every case errors with that reason (the others are unaffected),
        also when writing those reports raised as well (``failed_outcome``)."""
        outcomes: dict[str, HostOutcome] = {}
        temp = {host.label: self.temp_dir() for host in self.hosts}

        def work(host: Host) -> None:
            where, share = self.host_dir(out, host), shares[host.label]
            label = host.label if self.is_fleet else None
            try:
                outcomes[host.label] = certify_host(settings, host, share, where, per_host,
                                                    temp[host.label], label)
            except Exception as exc:  # noqa: BLE001 - one host's crash must not lose the others
                why = f"certification failed: {type(exc).__name__}: {exc}"
                say(label, why)
                try:
                    outcomes[host.label] = certify_host(settings, host, share, where, per_host,
                                                        temp[host.label], label, failed=why)
                except Exception as again:  # noqa: BLE001 - nor may its error report
                    why += f"; its error report failed too: {type(again).__name__}: {again}"
                    say(label, f"its error report failed too: {type(again).__name__}: {again}")
                    outcomes[host.label] = failed_outcome(settings, host, share, where, label,
                                                          per_host, why)

        threads = [threading.Thread(target=work, args=(host,), name=f"certify {host.label}")
                   for host in self.hosts]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():  # each thread's work is bounded: its child is supervised
                thread.join(JOIN_POLL)
        return outcomes

    def _fleet_report(self, settings: Settings, selection: Selection, out: Path, per_host: int,
                      shard: bool, started: str, clock: float) -> str:
        """Write and print the fleet report (again, marked interrupted, when the stop came
        while it was written); the fleet verdict."""
        self.fleet = self._write_fleet(settings, selection, out, per_host, shard, started, clock)
        if self.stop.requested and self.fleet["certification"]["verdict"] != "interrupted":
            for outcome in self.outcomes.values():  # the signal arrived while the reports were written
                outcome.mark_interrupted(settings)
            self.fleet = self._write_fleet(settings, selection, out, per_host, shard, started, clock)
        print_fleet(self.fleet, out)
        return self.fleet["certification"]["verdict"]

    def _write_fleet(self, settings: Settings, selection: Selection, out: Path, per_host: int,
                     shard: bool, started: str, clock: float) -> dict:
        hosts = []
        for host in self.hosts:
            outcome = self.outcomes[host.label]
            path = str(self.host_dir(out, host).relative_to(out) / "report.json")
            hosts.append(FleetHost(host.label, host.uri, outcome.report, path, per_host, outcome.blocker))
        return write_fleet_reports(out, hosts, settings.driver, "shard" if shard else "replicate",
                                   selection.__dict__, settings.stop.summary(), started,
                                   time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                   round(time.monotonic() - clock, 1), versions())
