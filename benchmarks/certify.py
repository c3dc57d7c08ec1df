"""Benchmark: wall time of a full ``conformance certify`` per driver, median of N runs.

    .venv/bin/python benchmarks/certify.py [--runs 3] [--driver reference --driver nova]
                                           [--create-only] [--phases] [-- EXTRA CERTIFY ARGS...]

Runs ``python -m conformance.cli certify`` of the checkout this script is in (its directory
first on PYTHONPATH, so a git worktree measures its own code with the main virtualenv) with
--output-dir in a fresh temporary directory per run (removed afterwards), for each driver
(default: reference and nova; nova needs CONFORMANCE_NOVA_PYTHON or a .venv-nova in the
repo). Drivers alternate run by run, so a change of load hits both. Per run it prints the wall time,
the load average, and figures that do not depend on the machine's load as much: guests
(distinct guest names in pytest's junit), the sum of pytest item durations, pytest's
own session time and the CPU seconds of certify's process tree (QEMU runs under libvirtd and
is not counted); then the ``summary`` of report.json (schema in docs/report-schema.md).
Last, one line per driver with the median wall time. A non-zero exit of certify (failing
cases) is reported, not fatal. ``--create-only`` leaves out the lifecycle cases (an
``--exclude-list`` of their ids): the 123 create-time cases. ``--phases`` also prints where
each run's time went (benchmarks/certify_phases.py: per-worker busy and idle seconds,
summed seconds of boots, agent waits, destroys, lifecycle operations, checks).
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
BENCHMARKS = os.path.join(ROOT, "benchmarks")
PYTEST_TIME = re.compile(r" in ([0-9.]+)s")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def junit_figures(path: str) -> dict:
    """Guests (a lifecycle trail's guest boots once per operation too: certify_phases.py
    counts boots) and summed item seconds of pytest's junit file ({} when absent)."""
    if not os.path.exists(path):
        return {}
    tree = etree.parse(path, etree.XMLParser(resolve_entities=False, no_network=True))
    guests = {p.get("value") for p in tree.iter("property") if p.get("name") == "guest"}
    seconds = sum(float(t.get("time") or 0) for t in tree.iter("testcase"))
    return {"guests": len(guests), "item_seconds": round(seconds, 1)}


def pytest_seconds(log: str) -> float | None:
    """pytest's session time from the last line of its log."""
    try:
        with open(log) as handle:
            lines = handle.read().strip().splitlines()
    except OSError:
        return None
    match = PYTEST_TIME.search(lines[-1]) if lines else None
    return float(match.group(1)) if match else None


def certify_env(phases_dir: str | None) -> dict:
    """This checkout first on PYTHONPATH; with ``phases_dir``, the phase recorder loaded."""
    path = [ROOT] + ([BENCHMARKS] if phases_dir else [])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path + [os.environ.get("PYTHONPATH", "")]))
    if phases_dir:
        env.update(CFM_PHASES_DIR=phases_dir,
                   PYTEST_ADDOPTS=f"{env.get('PYTEST_ADDOPTS', '')} -p certify_phases".strip())
    return env


def run_once(driver, extra, phases=False):
    """Run certify once; return (seconds, exit code, report.json or None, figures)."""
    with tempfile.TemporaryDirectory(prefix="bench-certify-") as out:
        argv = [sys.executable, "-m", "conformance.cli", "certify", "--driver", driver,
                "--output-dir", out, *extra]
        env = certify_env(os.path.join(out, "phases") if phases else None)
        cpu, started = children_cpu(), time.monotonic()
        rc = subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, env=env).returncode
        seconds = time.monotonic() - started
        if phases:
            sys.path.insert(0, BENCHMARKS)
            from certify_phases import summarise
            summarise(os.path.join(out, "phases"))
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
    p.add_argument("--phases", action="store_true",
                   help="print where each run's time went (benchmarks/certify_phases.py)")
    p.add_argument("extra", nargs="*", help="extra certify arguments (after --)")
    a = p.parse_args(argv)
    if a.create_only:
        a.extra = [*a.extra, "--exclude-list", lifecycle_exclude_list()]
    drivers = a.driver or ["reference", "nova"]
    medians = {driver: [] for driver in drivers}
    for i in range(a.runs):
        for driver in drivers:
            print(f"{driver} run {i + 1}: load average before {os.getloadavg()[0]:.2f}", flush=True)
            seconds, rc, report, figures = run_once(driver, a.extra, a.phases)
            medians[driver].append(seconds)
            print(f"{driver} run {i + 1}: {seconds:.1f} s (exit {rc}); "
                  + ", ".join(f"{k} {v}" for k, v in figures.items()), flush=True)
            print(f"  summary: {report.get('summary') if report else 'no report.json written'}")
    for driver, times in medians.items():
        print(f"certify --driver {driver}: wall median {statistics.median(times):.1f} s over "
              f"{len(times)} run(s) ({', '.join(f'{t:.1f}' for t in times)}); "
              f"load average now {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
