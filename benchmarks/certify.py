"""Benchmark: wall time of a full ``conformance certify`` per driver, median of N runs.

    .venv/bin/python benchmarks/certify.py [--runs 3] [--driver reference --driver nova]
                                           [--create-only] [-- EXTRA CERTIFY ARGS...]

Runs the console script (.venv/bin/conformance) with --output-dir in a fresh temporary
directory per run (removed afterwards), for each driver (default: reference and nova; nova
needs CONFORMANCE_NOVA_PYTHON or a .venv-nova in the repo). Per run it prints the wall time,
the load average, and figures that do not depend on the machine's load as much: guests
booted (distinct guest names in pytest's junit), the sum of pytest item durations, pytest's
own session time and the CPU seconds of certify's process tree (QEMU runs under libvirtd and
is not counted); then the ``summary`` of report.json (schema in docs/report-schema.md).
Last, one line per driver with the median wall time. A non-zero exit of certify (failing
cases) is reported, not fatal. ``--create-only`` leaves out the lifecycle cases (an
``--exclude-list`` of their ids): the 123 create-time cases.
"""
import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from lxml import etree

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFORMANCE = os.path.join(ROOT, ".venv", "bin", "conformance")
PYTEST_TIME = re.compile(r" in ([0-9.]+)s")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def junit_figures(path: str) -> dict:
    """Guests booted and summed item seconds of pytest's junit file ({} when absent)."""
    if not os.path.exists(path):
        return {}
    tree = etree.parse(path, etree.XMLParser(resolve_entities=False, no_network=True))
    guests = {p.get("value") for p in tree.iter("property") if p.get("name") == "guest"}
    seconds = sum(float(t.get("time") or 0) for t in tree.iter("testcase"))
    return {"boots": len(guests), "item_seconds": round(seconds, 1)}


def pytest_seconds(log: str) -> float | None:
    """pytest's session time from the last line of its log."""
    try:
        with open(log) as handle:
            lines = handle.read().strip().splitlines()
    except OSError:
        return None
    match = PYTEST_TIME.search(lines[-1]) if lines else None
    return float(match.group(1)) if match else None


def run_once(driver, extra):
    """Run certify once; return (seconds, exit code, report.json or None, figures)."""
    with tempfile.TemporaryDirectory(prefix="bench-certify-") as out:
        argv = [CONFORMANCE, "certify", "--driver", driver, "--output-dir", out, *extra]
        cpu, started = children_cpu(), time.monotonic()
        rc = subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL).returncode
        seconds = time.monotonic() - started
        figures = {**junit_figures(os.path.join(out, "pytest-junit.xml")),
                   "pytest_s": pytest_seconds(os.path.join(out, "pytest.log")),
                   "cpu_s": round(children_cpu() - cpu, 1),
                   "load": tuple(round(x, 2) for x in os.getloadavg())}
        path = os.path.join(out, "report.json")
        report = json.load(open(path)) if os.path.exists(path) else None
    return seconds, rc, report, figures


def lifecycle_exclude_list() -> str:
    """A temporary exclude list (removed at exit) naming every lifecycle case id."""
    import atexit

    sys.path.insert(0, ROOT)
    from conformance.catalogue import LIFECYCLE_CASES
    handle = tempfile.NamedTemporaryFile("w", prefix="bench-lifecycle-", suffix=".txt",
                                         delete=False)
    with handle:
        handle.write("".join(f"{case.id}\n" for case in LIFECYCLE_CASES))
    atexit.register(os.unlink, handle.name)
    return handle.name


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--driver", action="append", help="driver spec (repeatable; default: "
                                                     "reference and nova)")
    p.add_argument("--create-only", action="store_true",
                   help="exclude the lifecycle cases (create-time catalogue only)")
    p.add_argument("extra", nargs="*", help="extra certify arguments (after --)")
    a = p.parse_args(argv)
    if a.create_only:
        a.extra = [*a.extra, "--exclude-list", lifecycle_exclude_list()]
    medians = {}
    for driver in a.driver or ["reference", "nova"]:
        times = []
        for i in range(a.runs):
            seconds, rc, report, figures = run_once(driver, a.extra)
            times.append(seconds)
            print(f"{driver} run {i + 1}: {seconds:.1f} s (exit {rc}); "
                  + ", ".join(f"{k} {v}" for k, v in figures.items()), flush=True)
            print(f"  summary: {report.get('summary') if report else 'no report.json written'}")
        medians[driver] = times
    for driver, times in medians.items():
        print(f"certify --driver {driver}: wall median {statistics.median(times):.1f} s over "
              f"{len(times)} run(s) ({', '.join(f'{t:.1f}' for t in times)}); "
              f"load average now {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
