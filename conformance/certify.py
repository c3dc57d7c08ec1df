"""``conformance certify --driver SPEC``: run the catalogue at every level the host supports
and write report.json, junit.xml and report.html. Exit 0 only when nothing failed.

pytest is the engine: per host this runs ``pytest tests/conformance`` (xdist-parallel, in its
own session) with the collector plugin, then aggregates per case
(:mod:`conformance.host_certify`); with two or more ``--host`` each host gets its own child,
side by side, and a fleet report joins them (:mod:`conformance.fleet.run`). SIGINT/SIGTERM
stop every child and everything it started (:mod:`conformance.stopping`); leftovers are
removed on every host and the reports are marked interrupted, with no certification verdict.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from conformance import config as config_mod
from conformance.errors import DriverLoadError, HostSpecError
# the per-host engine; _accelerator, _host_facts, read_results and the test files are used by
# name elsewhere (host_check, tests)
from conformance.host_certify import Settings, _accelerator, _host_facts, certify_host  # noqa: F401
from conformance.pytest_child import LIVE_TESTS, XML_TESTS, read_results  # noqa: F401
from conformance.lab.connection import DEFAULT_URI
from conformance.report.selection import LEVEL_ORDER, Selection, SelectionError, read_list
from conformance.stopping import StopSignals, become_subreaper, kill_orphans

CLEANUP_TIMEOUT = 60.0  # seconds for the leftovers of a stopped run to be removed from a host


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--driver", default="reference",
                        help="reference, nova, module:attr or exec:COMMAND (default %(default)s)")
    parser.add_argument("--feature", action="append", default=[], help="only this feature (repeatable)")
    parser.add_argument("--case", action="append", default=[], help="only this case id or id prefix (repeatable)")
    parser.add_argument("--regex", action="append", default=[], help="only cases whose 'id feature name' matches")
    parser.add_argument("--include-list", help="file: one regex or id per line (# comments)")
    parser.add_argument("--exclude-list", help="file: one regex or id per line (# comments)")
    parser.add_argument("--level", choices=LEVEL_ORDER, default="guest", help="deepest level to run")
    parser.add_argument("--require-level", choices=LEVEL_ORDER, default=None,
                        help="fail a case whose level up to this one was skipped (default: [run] require_level)")
    parser.add_argument("--libvirt-uri", default=None, help="the one libvirt host (default: [libvirt] uri)")
    parser.add_argument("--host", action="append", default=[], metavar="[NAME=]URI",
                        help="certify on this libvirt host (repeatable): with 2+ hosts every case runs "
                             "on every host, reports per host in OUT/hosts/NAME/ and a fleet report in "
                             "OUT/ (NAME defaults to the URI's hostname, 'local' without one)")
    parser.add_argument("--shard", action="store_true",
                        help="with 2+ --host: split the cases across the hosts (whole guest groups) "
                             "instead of running every case on every host")
    parser.add_argument("--parallel-per-host", type=int, default=None, metavar="N",
                        help="with 2+ --host: xdist workers per host (default: max(1, workers // hosts))")
    parser.add_argument("--accel", choices=("auto", "kvm", "qemu"), default=None)
    parser.add_argument("--parallel", type=int, default=None,
                        help="pytest-xdist workers (default: [run] parallel; 1 at --level xml unless "
                             "the driver is a one-shot exec: program)")
    parser.add_argument("--rerun-failures", type=int, default=None, metavar="N",
                        help="run failed and errored cases (with the cases sharing their guests) up to N "
                             "more times; one that passes on a rerun is flaky (default: [run] rerun_failures, 0)")
    parser.add_argument("--output-dir", default=None, help="default results/<timestamp>")
    parser.add_argument("--config", default=None, help="INI config (see etc/conformance.conf.example)")
    parser.add_argument("--no-progress", action="store_true")


def _selection(args, config) -> Selection:
    features = args.feature or config.enabled_features  # --feature overrides [features]
    unknown = set(features) - set(config_mod.FEATURES)
    if unknown:
        raise SelectionError(f"unknown feature(s): {', '.join(sorted(unknown))} "
                             f"(known: {', '.join(config_mod.FEATURES)})")
    return Selection(features=features, ids=args.case, regex=args.regex,
                     include=read_list(args.include_list) if args.include_list else [],
                     exclude=read_list(args.exclude_list) if args.exclude_list else [],
                     max_level=args.level)


def run(args) -> int:
    """Certify; SIGINT/SIGTERM at any moment stop the run cleanly (exit 130/143)."""
    become_subreaper()
    used = {"uris": [args.libvirt_uri or DEFAULT_URI]}
    with StopSignals() as stop:
        try:
            return _certify(args, stop, used)
        finally:
            clean_leftovers(stop, used["uris"])


def _certify(args, stop, used: dict) -> int:
    config = config_mod.load(args.config)
    hosts = _hosts(args)
    if hosts:  # a stop from here on cleans these hosts
        used["uris"] = [host.uri for host in hosts]
    from conformance.contract import driver_protocol
    from conformance.drivers import load_driver
    try:
        protocol = driver_protocol(load_driver(args.driver))
    except DriverLoadError as exc:
        print(f"conformance: --driver {args.driver}: {exc}", file=sys.stderr)
        return 3
    selection = _selection(args, config)
    if protocol < 2:  # lifecycle requests are protocol 2: such a driver is judged on create only
        selection.operations = ["create"]
    require = args.require_level or config.require_level
    if require and LEVEL_ORDER.index(require) > LEVEL_ORDER.index(args.level):
        raise SelectionError(f"--require-level {require} is deeper than --level {args.level}")
    reruns = config.rerun_failures if args.rerun_failures is None else args.rerun_failures
    if reruns < 0:
        raise SelectionError("--rerun-failures must be 0 or more")
    settings = Settings(args.driver, args.level, args.accel or config.accel, config, stop, require,
                        protocol, "none" if args.no_progress else "auto", reruns, config.flaky_is_failure)
    from conformance.catalogue import ALL_CASES
    if not any(selection.case_wanted(c) for c in ALL_CASES):
        print("conformance: the selection matches no case", file=sys.stderr)
        return 2
    out = Path(args.output_dir or f"results/{time.strftime('%Y%m%d-%H%M%S')}").resolve()
    if len(hosts) > 1:
        from conformance.fleet.run import certify_fleet
        return certify_fleet(settings, hosts, selection, out, _workers(args, config),
                             args.parallel_per_host, args.shard)
    uri = used["uris"][0] = hosts[0].uri if hosts else (args.libvirt_uri or config.libvirt_uri)
    outcome = certify_host(settings, uri, selection, out, _workers(args, config))
    _print_outcome(outcome.report, outcome.problem, out)
    if stop.requested:
        return stop.exit_status
    return 0 if outcome.report["certification"]["verdict"] == "certified" else 1


def _hosts(args) -> list:
    """The ``--host`` list (parsed, labelled); empty for the ``--libvirt-uri`` form."""
    from conformance.fleet.hosts import parse_hosts
    if args.host and args.libvirt_uri:
        raise HostSpecError("give either --libvirt-uri (one host) or --host (one or more), not both")
    if args.parallel_per_host is not None and args.parallel_per_host < 1:
        raise HostSpecError("--parallel-per-host must be at least 1")
    return parse_hosts(args.host)


def _print_outcome(report: dict, problem: str | None, out: Path) -> None:
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


def _workers(args, config) -> int:
    """xdist workers: --parallel, else one at --level xml (starting workers costs more than
    judging the catalogue, measured: 2.0 s with one, 5.6-7.1 s with two) unless the driver
    is a one-shot exec program (a process per request, so workers do gain), else [run] parallel."""
    if args.parallel is not None:
        return args.parallel
    one_shot = args.driver.split(":", 1)[0] in ("exec", "exec2")
    return 1 if args.level == "xml" and not one_shot else config.parallel


def clean_leftovers(stop, uris: list[str], timeout: float = CLEANUP_TIMEOUT) -> None:
    """After the run: kill orphaned descendants; if stopped, remove guests of dead runs on
    every host (in parallel, each bounded by ``timeout`` s; a failure is reported per host,
    never fatal)."""
    kill_orphans()
    if not stop.requested:
        return
    from conformance.fleet.cleaning import clean_hosts
    for uri, removed, error in clean_hosts(uris, timeout):
        where = f" on {uri}" if len(uris) > 1 else ""
        for name in removed:
            print(f"conformance: removed leftover guest {name}{where}", file=sys.stderr)
        if error:
            print(f"conformance: cleanup after the stop failed{where} ({error}); run `conformance "
                  f"cleanup{' --host ' + uri if len(uris) > 1 else ''}`", file=sys.stderr)
