"""``conformance matrix --nova 34.0.0 33.0.2 ...``: certify several Nova releases, newest
first, and write one release x feature table (matrix.json, matrix.html).

Each release is provisioned in its own cached virtualenv (``conformance.drivers.nova_versions``),
its worker started once (does that Nova import here?), then certified by ``conformance
certify --driver nova==VERSION`` (level ``xml`` unless ``--level`` says deeper) into
``<output-dir>/nova-<version>/``. A release that does not install or import gets a row with
the exact error. Exit 0 when every release ran and matches its documented version notes.
SIGINT/SIGTERM stop the running certify (it cleans up after itself) and the matrix.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

from conformance.catalogue.changes import release_differences
from conformance.catalogue.notes import release_tuple
from conformance.errors import DriverFault, HarnessError
from conformance.report import matrix_table
from conformance.report.selection import LEVEL_ORDER
from conformance.stopping import StopSignals, supervise

STOP_GRACE = 60.0  # certify's own stop grace (30 s) plus its report writing


def _version(text: str) -> str:
    if not re.fullmatch(r"\d+\.\d+\.\d+", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a Nova release X.Y.Z")
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--nova", nargs="+", required=True, metavar="VERSION", type=_version,
                        help="Nova releases (X.Y.Z), certified newest first")
    parser.add_argument("--level", choices=LEVEL_ORDER, default="xml", help="deepest level (default %(default)s)")
    parser.add_argument("--feature", action="append", default=[], help="only this feature (repeatable)")
    parser.add_argument("--parallel", type=int, default=None, help="pytest-xdist workers per certify")
    parser.add_argument("--output-dir", default=None, help="default results/matrix-<timestamp>")


def _last_line(text: str) -> str:
    lines = [line for line in str(text).strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else str(text)


def _import(python: str) -> str:
    """Start the release's worker once (imports Nova and nova_build); its version."""
    from conformance.drivers.nova import NovaDriver
    with NovaDriver(python=python) as driver:
        return driver.nova_version


def _certify(version: str, args, out: Path, stop) -> tuple[int, Path]:
    where = out / f"nova-{version}"
    where.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "conformance.cli", "certify", "--driver", f"nova=={version}",
            "--level", args.level, "--output-dir", str(where), "--no-progress",
            *[f"--feature={f}" for f in args.feature],
            *(["--parallel", str(args.parallel)] if args.parallel is not None else [])]
    with open(where / "certify.log", "w") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return supervise(proc, stop, grace=STOP_GRACE), where / "report.json"


def release(version: str, args, out: Path, stop) -> dict:
    """Provision, import and certify one release; its table row."""
    from conformance.drivers.nova_versions import provision
    wall: dict[str, float] = {}
    clock = time.monotonic()
    try:
        python = provision(version)
    except HarnessError as exc:
        wall["provision"] = round(time.monotonic() - clock, 1)
        return matrix_table.release_row(version, "does not install", None, error=str(exc), wall=wall)
    wall["provision"] = round(time.monotonic() - clock, 1)
    clock = time.monotonic()
    try:
        _import(python)
    except DriverFault as exc:
        wall["import"] = round(time.monotonic() - clock, 1)
        return matrix_table.release_row(version, "does not import", None, error=_last_line(exc.detail),
                                        wall=wall)
    wall["import"] = round(time.monotonic() - clock, 1)
    clock = time.monotonic()
    code, path = _certify(version, args, out, stop)
    wall["certify"] = round(time.monotonic() - clock, 1)
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError):
        return matrix_table.release_row(version, "certify failed", None, wall=wall,
                                        error=f"certify exited {code} without a report; see {path.parent}/certify.log")
    status = "interrupted" if report["certification"]["verdict"] == "interrupted" else "ran"
    return matrix_table.release_row(version, status, report, wall=wall, report_path=str(path))


def _print(matrix: dict) -> None:
    features = matrix["features"]
    print("release  " + " ".join(f"{f[:12]:>12}" for f in features) + "  notes")
    for row in matrix["releases"]:
        if not row["features"]:
            print(f"{row['version']:<8} {row['status']}: {(row['error'] or '')[:200]}")
            continue
        cells = []
        for feature in features:
            counts = row["features"].get(feature)
            cells.append(f"{counts['pass']}/{counts['total']}" if counts else "-")
        notes = "matches" if row["notes"]["matches"] else "DIFFERS"
        print(f"{row['version']:<8} " + " ".join(f"{c:>12}" for c in cells) + f"  {notes}  "
              f"({', '.join(f'{k} {v:g} s' for k, v in row['wall_seconds'].items())})")
    for row in matrix["releases"]:
        for diff in row["differences"]:
            print(f"  {row['version']} {diff['verdict'].upper()} {diff['id']} {diff['feature']}/{diff['name']}"
                  + (f" (since {diff['since']})" if diff["since"] else "")
                  + (f" [{diff['nova_source']}]" if diff["nova_source"] else "")
                  + f": {_last_line(diff['reason'])[:200]}")


def _print_release_differences(pairs: list[dict]) -> None:
    """Where the releases' expected behaviour differs, case by case, with the upstream change."""
    for pair in pairs:
        print(f"expected behaviour, nova {pair['old']} -> {pair['new']}: "
              f"{len(pair['cases'])} cases differ")
        for case in pair["cases"]:
            why = "; ".join(f"{c['name']} ({c['release']}, {c['commits'][0][:10]})"
                            for c in case["changes"])
            print(f"  {case['id']} {case['feature']}/{case['name']} [{case['operation']}]: {why}")


def run(args) -> int:
    versions = sorted(dict.fromkeys(args.nova), key=release_tuple, reverse=True)
    out = Path(args.output_dir or f"results/matrix-{time.strftime('%Y%m%d-%H%M%S')}").resolve()
    out.mkdir(parents=True, exist_ok=True)
    started, rows = time.monotonic(), []
    with StopSignals() as stop:
        for version in versions:
            if stop.requested:
                break
            print(f"matrix: nova {version}", file=sys.stderr, flush=True)
            rows.append(release(version, args, out, stop))
    matrix = matrix_table.table(rows, args.level, time.monotonic() - started)
    matrix["release_differences"] = release_differences(versions)
    matrix_table.write_json(matrix, out / "matrix.json")
    matrix_table.write_html(matrix, out / "matrix.html")
    _print(matrix)
    _print_release_differences(matrix["release_differences"])
    print(f"matrix: {len(rows)} releases in {matrix['wall_seconds']} s; {out}/matrix.json, matrix.html")
    if stop.requested:
        return stop.exit_status
    good = all(row["status"] == "ran" and row["notes"]["matches"] for row in rows)
    return 0 if good and len(rows) == len(versions) else 1
