"""``conformance certify --driver SPEC``: run the catalogue at every level the host supports
and write report.json, junit.xml and report.html. Exit 0 only when nothing failed.

pytest is the engine: this runs ``pytest tests/conformance`` (xdist-parallel) with the
collector plugin, then aggregates per case.
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
from conformance.report.selection import LEVEL_ORDER, Selection, SelectionError, read_list

REPO = Path(__file__).resolve().parents[1]
XML_TESTS = ["tests/conformance/test_xml_catalogue.py"]
LIVE_TESTS = ["tests/conformance/test_live_features.py", "tests/conformance/test_live_watchdog_fire.py"]
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
    parser.add_argument("--libvirt-uri", default=None)
    parser.add_argument("--accel", choices=("auto", "kvm", "qemu"), default=None)
    parser.add_argument("--parallel", type=int, default=None, help="pytest-xdist workers")
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


def _not_live_reasons(cases, virt_type: str) -> dict[str, str]:
    from conformance.catalogue.expected import expected_outcome
    from conformance.live.plan import live_request
    reasons = {}
    for case in cases:
        expected = expected_outcome(live_request(case, virt_type if virt_type != "unknown" else "qemu"))
        if not expected.accepted:
            reasons[case.id] = f"reference rejects it ({expected.rejection.code}): level 1 only"
    return reasons


def run(args) -> int:
    config = config_mod.load(args.config)
    from conformance.drivers import load_driver
    try:
        load_driver(args.driver)
    except DriverLoadError as exc:
        print(f"conformance: --driver {args.driver}: {exc}", file=sys.stderr)
        return 3
    selection = _selection(args, config)
    uri = args.libvirt_uri or config.libvirt_uri
    accel = args.accel or config.accel
    parallel = args.parallel if args.parallel is not None else config.parallel
    out = Path(args.output_dir or f"results/{time.strftime('%Y%m%d-%H%M%S')}").resolve()
    out.mkdir(parents=True, exist_ok=True)
    from conformance.catalogue import CASES
    cases = [c for c in CASES if selection.case_wanted(c)]
    if not cases:
        print("conformance: the selection matches no case", file=sys.stderr)
        return 2
    started, clock = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), time.monotonic()
    virt_type, reason = ("qemu", "not needed: --level xml") if args.level == "xml" else _accelerator(uri, accel)
    print(f"certify: driver {args.driver}; {len(cases)} cases; levels up to {args.level}; "
          f"accelerator {virt_type} ({reason})", file=sys.stderr)
    results = _run_pytest(args, selection, uri, accel, parallel, out,
                          os.path.abspath(config.path) if config.path else None)
    from conformance.report.aggregate import aggregate, matrix, require_features
    verdicts = aggregate(results["entries"], cases, _not_live_reasons(cases, virt_type), args.level)
    verdicts = require_features(verdicts, config.required_features)
    summary = {k: sum(1 for v in verdicts if v["verdict"] == k) for k in ("pass", "fail", "error", "skip")}
    summary["total"] = len(verdicts)
    report = {
        "format": 1, "driver": args.driver, "started": started,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "wall_seconds": round(time.monotonic() - clock, 1),
        "selection": selection.__dict__,
        "host": {"accelerator": virt_type, "accelerator_reason": reason, "libvirt_uri": uri,
                 "kernel": platform.release(), "config": config.path,
                 "rng_dev_path": config.rng_dev_path, "required_features": config.required_features,
                 "capabilities": _host_facts(uri)},
        "versions": _versions(),
        "harness_owned": HARNESS_OWNED,
        "pytest_exitstatus": results["exitstatus"],
        "summary": summary, "matrix": matrix(verdicts), "cases": verdicts,
    }
    from conformance.report import writers
    report = writers.finish(report)
    writers.write_json(report, out / "report.json")
    writers.write_junit(report, out / "junit.xml")
    writers.write_html(report, out / "report.html")
    for verdict in verdicts:
        if verdict["verdict"] in ("fail", "error"):
            first = verdict["reason"].splitlines()[0] if verdict["reason"] else ""
            first = re.sub(r"^(\w+: )E\s+", r"\1", first)  # pytest's "E   " assertion prefix
            print(f"{verdict['verdict'].upper()} {verdict['id']} {verdict['feature']}/{verdict['name']}: "
                  f"{first}"[:300])
    print(f"certify: {summary['pass']} passed, {summary['fail']} failed, {summary['error']} errors, "
          f"{summary['skip']} skipped of {summary['total']} cases in {report['wall_seconds']} s; "
          f"reports in {out}/ (report.json, junit.xml, report.html)")
    if results["exitstatus"] == 2:
        return 130
    if results["exitstatus"] not in (0, 1, 5):
        print(f"conformance: pytest ended with status {results['exitstatus']}; see {out}/pytest.log",
              file=sys.stderr)
        return 1
    return 0 if summary["fail"] == summary["error"] == 0 else 1


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version
    found = {"python": platform.python_version()}
    for name in ("hv-conformance", "libvirt-python", "lxml", "pytest"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def _run_pytest(args, selection, uri, accel, parallel, out: Path, config_path: str | None) -> dict:
    tests = XML_TESTS + ([] if args.level == "xml" else LIVE_TESTS)
    with tempfile.TemporaryDirectory(prefix="cfm-certify-") as tmp:
        select, results = Path(tmp) / "select.json", Path(tmp) / "results.json"
        selection.save(str(select))
        argv = [sys.executable, "-m", "pytest", *tests, "-p", "conformance.report.collector",
                "--cfm-results", str(results), "--cfm-select", str(select),
                "--cfm-progress", "none" if args.no_progress else "auto",
                "--driver", args.driver, "--libvirt-uri", uri, "--accel", accel,
                *(["--conformance-config", config_path] if config_path else []),
                "--results-dir", str(out), "-p", "no:cacheprovider", "-q", "-rN",
                "--junitxml", str(out / "pytest-junit.xml")]
        if parallel > 1:
            argv += ["-n", str(parallel)]
        env = dict(os.environ, CONFORMANCE_DRIVER=args.driver)
        with open(out / "pytest.log", "w") as log:
            proc = subprocess.Popen(argv, cwd=REPO, stdout=log, stderr=None, env=env)
            try:
                code = proc.wait()
            except KeyboardInterrupt:
                proc.wait(timeout=120)  # the child got the same Ctrl-C and tears down
                raise
        if not results.exists():
            raise HarnessError(f"pytest wrote no results (exit {code}); see {out}/pytest.log")
        data = json.loads(results.read_text())
        data["exitstatus"] = code
        return data
