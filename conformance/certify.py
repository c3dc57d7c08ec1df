"""``conformance certify --driver SPEC``: run the catalogue at every level the host supports
and write report.json, junit.xml and report.html. Exit 0 only when nothing failed.

pytest is the engine: this runs ``pytest tests/conformance`` (xdist-parallel, in its own
session) with the collector plugin, then aggregates per case. SIGINT/SIGTERM stop the child
and everything it started (:mod:`conformance.stopping`); the reports are then marked
interrupted and carry no certification verdict.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from conformance import config as config_mod
from conformance.errors import DriverLoadError, HarnessError
from conformance.lab.connection import DEFAULT_URI
from conformance.process import default_signals
from conformance.report.selection import LEVEL_ORDER, Selection, SelectionError, read_list
from conformance.report.headline import certification
from conformance.stopping import StopSignals, become_subreaper, kill_orphans, supervise

REPO = Path(__file__).resolve().parents[1]
XML_TESTS = ["tests/conformance/test_xml_catalogue.py"]
LIVE_TESTS = ["tests/conformance/test_live_requests.py", "tests/conformance/test_live_features.py",
              "tests/conformance/test_live_locked_memory.py", "tests/conformance/test_live_lifecycle.py"]
STOP_GRACE = 30.0  # seconds between the stop request and SIGKILL of the pytest child's group
HARNESS_OWNED = [
    "kernel, initrd and kernel command line (supplied in the request's boot parameters)",
    "libvirt domain name and uuid (fresh per guest), <sysinfo> uuid",
    "serial console (a file of the run) and the guest-agent socket path (libvirt's default)",
    "firmware (<loader type='rom'> qboot when available)",
    "ownership marker in <metadata>",
    "live levels: virt type = the host's accelerator; non-agent cases also get hw_qemu_guest_agent=yes",
]


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
    parser.add_argument("--libvirt-uri", default=None)
    parser.add_argument("--accel", choices=("auto", "kvm", "qemu"), default=None)
    parser.add_argument("--parallel", type=int, default=None,
                        help="pytest-xdist workers (default: [run] parallel; 1 at --level xml unless "
                             "the driver is a one-shot exec: program)")
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


def _accelerator(uri: str, accel: str) -> tuple[str, str]:
    try:
        from conformance.host.accel import choose
        from conformance.lab.image import load_image
        from conformance.lab.lab import Lab
        image = load_image()
        with Lab(uri) as lab:
            chosen = choose(lab, image, accel)
        return chosen.virt_type, chosen.reason
    except HarnessError as exc:
        return "unknown", f"no guests can run here: {exc}"


def _host_facts(uri: str) -> dict:
    try:
        from conformance.host.capabilities import probe
        from conformance.lab.connection import open_connection
        conn = open_connection(uri)
        try:
            return probe(conn).to_dict()
        finally:
            conn.close()
    except Exception as exc:  # noqa: BLE001 - facts are informative, never fatal
        return {"error": str(exc)}


def run(args) -> int:
    """Certify; SIGINT/SIGTERM at any moment stop the run cleanly (exit 130/143)."""
    become_subreaper()
    used = {"uri": args.libvirt_uri or DEFAULT_URI}
    with StopSignals() as stop:
        try:
            return _certify(args, stop, used)
        finally:
            _clean_leftovers(stop, used["uri"])


def _certify(args, stop, used: dict) -> int:
    config = config_mod.load(args.config)
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
    uri = used["uri"] = args.libvirt_uri or config.libvirt_uri
    accel = args.accel or config.accel
    parallel = _workers(args, config)
    out = Path(args.output_dir or f"results/{time.strftime('%Y%m%d-%H%M%S')}").resolve()
    out.mkdir(parents=True, exist_ok=True)
    from conformance.catalogue import ALL_CASES
    cases = [c for c in ALL_CASES if selection.case_wanted(c)]
    if not cases:
        print("conformance: the selection matches no case", file=sys.stderr)
        return 2
    started, clock = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), time.monotonic()
    print(f"certify: preparing: {len(cases)} cases, driver {args.driver}"
          + ("" if args.level == "xml" else ", choosing the accelerator"), file=sys.stderr, flush=True)
    virt_type, reason = ("qemu", "not needed: --level xml") if args.level == "xml" else _accelerator(uri, accel)
    print(f"certify: driver {args.driver}; {len(cases)} cases; levels up to {args.level}; "
          f"accelerator {virt_type} ({reason})", file=sys.stderr)
    results = {"entries": [], "expected": [], "exitstatus": None}
    if not stop.requested:
        results = _run_pytest(args, selection, uri, accel, parallel, out,
                              os.path.abspath(config.path) if config.path else None, stop)
    verdicts = _verdicts(results, cases, virt_type, args.level, config, require, stop.summary())
    problem = _pytest_problem(results["exitstatus"], stop.summary(), out)
    report = _report(args, verdicts, results, selection, config, require, uri, virt_type, reason,
                     started, clock)
    report["driver_protocol"] = protocol
    scope = None if protocol >= 2 else "create only: the driver speaks protocol 1 (no lifecycle requests)"
    _certification(report, certification(verdicts, args.level, stop.summary(), problem, scope))
    _write_reports(report, out)
    if stop.requested and report["certification"]["verdict"] != "interrupted":
        # the signal arrived while the reports were being written: mark them after all
        _certification(report, certification(verdicts, args.level, stop.summary(), problem, scope))
        _write_reports(report, out)
    _print_outcome(report, problem, out)
    if stop.requested:
        return stop.exit_status
    return 0 if report["certification"]["verdict"] == "certified" else 1


def _verdicts(results, cases, virt_type, max_level, config, require, interrupted) -> list[dict]:
    """Per-case verdicts: aggregated checks, then the config's and the CLI's requirements."""
    from conformance.live.plan import no_check_levels
    from conformance.report.aggregate import aggregate, require_features, require_level
    planned = {c.id: no_check_levels(c, virt_type if virt_type != "unknown" else "qemu") for c in cases}
    verdicts = aggregate(results["entries"], cases, planned, max_level, interrupted=bool(interrupted),
                         expected=results["expected"])
    return require_level(require_features(verdicts, config.required_features), require)


def _report(args, verdicts, results, selection, config, require, uri, virt_type, reason,
            started, clock) -> dict:
    from conformance.report.aggregate import matrix, operation_matrix
    summary = {k: sum(1 for v in verdicts if v["verdict"] == k)
               for k in ("pass", "fail", "error", "skip", "not-run")}
    summary["total"] = len(verdicts)
    return {
        "format": 1, "driver": args.driver, "started": started,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "wall_seconds": round(time.monotonic() - clock, 1),
        "selection": selection.__dict__,
        "host": {"accelerator": virt_type, "accelerator_reason": reason, "libvirt_uri": uri,
                 "kernel": platform.release(), "config": config.path,
                 "rng_dev_path": config.rng_dev_path, "required_features": config.required_features,
                 "required_level": require, "capabilities": _host_facts(uri)},
        "versions": _versions(),
        "harness_owned": HARNESS_OWNED,
        "pytest_exitstatus": results["exitstatus"],
        "summary": summary, "matrix": matrix(verdicts), "operations": operation_matrix(verdicts),
        "cases": verdicts,
    }


def _print_outcome(report: dict, problem: str | None, out: Path) -> None:
    for verdict in report["cases"]:
        if verdict["verdict"] in ("fail", "error"):
            first = verdict["reason"].splitlines()[0] if verdict["reason"] else ""
            first = re.sub(r"^(\w+: )E\s+", r"\1", first)  # pytest's "E   " assertion prefix
            print(f"{verdict['verdict'].upper()} {verdict['id']} {verdict['feature']}/{verdict['name']}: "
                  f"{first}"[:300])
    if problem:
        print(f"conformance: {problem}", file=sys.stderr)
    summary = report["summary"]
    print(f"certify: {summary['headline']}")
    print(f"certify: {summary['pass']} passed, {summary['fail']} failed, {summary['error']} errors, "
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


def _pytest_problem(exitstatus, interrupted, out: Path) -> str | None:
    """Why the pytest run itself cannot back a verdict (None when it can)."""
    if interrupted:
        return None
    if exitstatus is None:
        return f"pytest wrote no final result (it died); see {out}/pytest.log"
    if exitstatus == 5:
        return f"pytest collected no test for this selection; see {out}/pytest.log"
    if exitstatus not in (0, 1):
        return f"pytest ended with status {exitstatus}; see {out}/pytest.log"
    return None


def _certification(report: dict, found: dict) -> None:
    report["certification"] = found
    report["summary"].update(verdict=found["verdict"], certification_level=found["level"],
                             headline=found["headline"])


def _write_reports(report: dict, out: Path) -> None:
    from conformance.report import subunit_stream, writers
    report.pop("digest", None)
    final = writers.finish(report)
    report["digest"] = final["digest"]
    writers.write_json(final, out / "report.json")
    writers.write_junit(final, out / "junit.xml")
    writers.write_html(final, out / "report.html")
    subunit_stream.write_subunit(final, out / "report.subunit")


def _clean_leftovers(stop, uri: str) -> None:
    """After the run: kill orphaned descendants; if stopped, remove guests of dead runs."""
    kill_orphans()
    if not stop.requested:
        return
    try:
        from conformance.lab.cleanup import cleanup
        from conformance.lab.connection import open_connection
        conn = open_connection(uri)
        try:
            report = cleanup(conn)
        finally:
            conn.close()
        for name in report.removed_domains:
            print(f"conformance: removed leftover guest {name}", file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 - best effort; `conformance cleanup` remains
        print(f"conformance: cleanup after the stop failed ({exc}); run `conformance cleanup`",
              file=sys.stderr)


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version
    found = {"python": platform.python_version()}
    for name in ("hv-conformance", "libvirt-python", "lxml", "pytest"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def _run_pytest(args, selection, uri, accel, parallel, out: Path, config_path: str | None,
                stop) -> dict:
    """Run pytest in its own session; its temp files live in (and go with) our temp dir."""
    tests = XML_TESTS + ([] if args.level == "xml" else LIVE_TESTS)
    with tempfile.TemporaryDirectory(prefix="cfm-certify-") as tmp:
        select, results = Path(tmp) / "select.json", Path(tmp) / "results.jsonl"
        child_tmp = Path(tmp) / "tmp"
        child_tmp.mkdir()
        selection.save(str(select))
        argv = [sys.executable, "-m", "pytest", *tests, "-p", "conformance.report.collector",
                "--cfm-results", str(results), "--cfm-select", str(select),
                "--cfm-progress", "none" if args.no_progress else "auto",
                "--driver", args.driver, "--libvirt-uri", uri, "--accel", accel,
                *(["--conformance-config", config_path] if config_path else []),
                "--results-dir", str(out), "-p", "no:cacheprovider", "-q", "-rN",
                "--junitxml", str(out / "pytest-junit.xml")]
        if parallel > 1:  # loadgroup: a guest group's items (xdist_group marks) on one worker
            argv += ["-n", str(parallel), "--dist", "loadgroup"]
        env = dict(os.environ, CONFORMANCE_DRIVER=args.driver, TMPDIR=str(child_tmp))
        with open(out / "pytest.log", "w") as log:
            proc = subprocess.Popen(argv, cwd=REPO, stdout=log, stderr=None, env=env,
                                    start_new_session=True, preexec_fn=default_signals)
            code = supervise(proc, stop, grace=STOP_GRACE)
        kill_orphans()  # driver processes in other sessions, before their temp files go
        return read_results(results, code)


def read_results(path: Path, code: int) -> dict:
    """Entries the collector streamed (one JSON line each), whatever the child's fate; the
    exit status is the collector's final line when pytest got that far, else None."""
    entries, exitstatus = [], None
    try:
        lines = path.read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut short by a kill
        if "exitstatus" in record:
            exitstatus = record["exitstatus"]
        else:
            entries.append(record)
    try:
        expected = json.loads(Path(f"{path}.expected").read_text())
    except (OSError, ValueError):
        expected = []
    return {"entries": entries, "expected": expected, "exitstatus": exitstatus if exitstatus is not None else
            (None if code < 0 or not lines else code)}
