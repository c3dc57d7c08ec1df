"""Benchmark: wall time of ``conformance certify --driver reference``, N runs.

    .venv/bin/python benchmarks/certify.py [--runs 1] [-- EXTRA CERTIFY ARGS...]

Runs the console script (.venv/bin/conformance) with --output-dir in a fresh temporary
directory per run (removed afterwards), prints the wall time per run and the median, and the
feature -> level -> status counts (``matrix``) and ``summary`` of each run's report.json
(schema in docs/report-schema.md). A non-zero exit of certify (failing cases) is reported,
not fatal.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFORMANCE = os.path.join(ROOT, ".venv", "bin", "conformance")


def run_once(extra):
    """Run certify once; return (seconds, exit code, parsed report.json or None)."""
    with tempfile.TemporaryDirectory(prefix="bench-certify-") as out:
        argv = [CONFORMANCE, "certify", "--driver", "reference", "--output-dir", out, *extra]
        started = time.monotonic()
        rc = subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL).returncode
        seconds = time.monotonic() - started
        path = os.path.join(out, "report.json")
        report = json.load(open(path)) if os.path.exists(path) else None
    return seconds, rc, report


def print_report(report):
    if report is None:
        print("  no report.json written")
        return
    print(f"  summary: {report.get('summary')}")
    for feature, levels in sorted(report.get("matrix", {}).items()):
        cells = ", ".join(f"{level} {counts}" for level, counts in levels.items())
        print(f"  {feature}: {cells}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("extra", nargs="*", help="extra certify arguments (after --)")
    a = p.parse_args(argv)
    times = []
    for i in range(a.runs):
        seconds, rc, report = run_once(a.extra)
        times.append(seconds)
        print(f"run {i + 1}: {seconds:.1f} s (exit {rc})", flush=True)
        print_report(report)
    print(f"certify wall time: median {statistics.median(times):.1f} s over {a.runs} run(s); "
          f"load average {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
