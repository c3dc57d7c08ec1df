"""Benchmark: wall time of the whole XML-level catalogue for one driver.

    .venv/bin/python benchmarks/xml_catalogue.py [--runs 5] [--exec] [--exec-runs 1]

Judges every case of conformance.catalogue.all_cases() at the XML level with the reference
driver in-process (median of --runs) and, with --exec, through
``exec:<python> -m conformance.cli driver-exec reference`` (one process per request).
Prints the number of cases and seconds per run and the median.
"""
import argparse
import os
import shlex
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from conformance.catalogue import all_cases  # noqa: E402
from conformance.checks.level_xml import judge_xml  # noqa: E402
from conformance.drivers import load_driver  # noqa: E402


def time_catalogue(driver, cases, virt_type):
    """Seconds to judge every case at the XML level."""
    started = time.monotonic()
    for case in cases:
        judge_xml(case, driver, virt_type=virt_type)
    return time.monotonic() - started


def bench(label, spec, runs, cases, virt_type):
    driver = load_driver(spec)
    times = []
    for i in range(runs):
        times.append(time_catalogue(driver, cases, virt_type))
        print(f"{label} run {i + 1}: {len(cases)} cases in {times[-1]:.2f} s", flush=True)
    print(f"{label}: {len(cases)} cases, median {statistics.median(times):.2f} s "
          f"over {runs} run(s)")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5, help="in-process runs (default 5)")
    p.add_argument("--exec", action="store_true", help="also time the exec: driver")
    p.add_argument("--exec-runs", type=int, default=1)
    p.add_argument("--virt-type", default="qemu")
    a = p.parse_args(argv)
    cases = list(all_cases())
    bench("reference (in-process)", "reference", a.runs, cases, a.virt_type)
    if a.exec:
        spec = "exec:" + shlex.join([sys.executable, "-m", "conformance.cli",
                                     "driver-exec", "reference"])
        bench("reference (exec:)", spec, a.exec_runs, cases, a.virt_type)
    return 0


if __name__ == "__main__":
    sys.exit(main())
