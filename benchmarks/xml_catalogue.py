"""Benchmark: the XML-level catalogue through the reference, in process and over both exec modes.

    .venv/bin/python benchmarks/xml_catalogue.py [--runs 3] [--modes in-process,exec,exec-stream]
                                                 [--protocol 1|2] [--certify [--parallel N]]

Judges every create-time case (``--protocol 2``: also the lifecycle cases) at the XML level
with the reference driver in process, through ``exec:<python> -m conformance.cli driver-exec
reference`` (one process per request) and through ``exec-stream:`` with the same command (one
process, one JSON line per request; its start is included in each run); ``exec2:`` and
``exec2-stream:`` for protocol 2. With ``--certify`` it also times
``conformance certify --level xml`` (wall time of the whole command: pytest, xdist workers,
reports) for the exec and exec-stream specs and for ``reference`` in process (certify's own
floor). Runs are interleaved across modes. Prints seconds per run, the medians and the
one-shot / stream ratios.
"""
import argparse
import functools
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from conformance.catalogue import ALL_CASES, CASES  # noqa: E402
from conformance.checks.level_xml import judge_xml  # noqa: E402
from conformance.drivers import load_driver  # noqa: E402

SERVER = shlex.join([sys.executable, "-m", "conformance.cli", "driver-exec", "reference"])
MODES = ("in-process", "exec", "exec-stream")


def specs(protocol: int) -> dict:
    """Mode -> driver spec of the reference (``exec2:``/``exec2-stream:`` for protocol 2)."""
    exec_ = "exec" if protocol == 1 else f"exec{protocol}"
    return {"in-process": "reference", "exec": f"{exec_}:{SERVER}",
            "exec-stream": f"{exec_}-stream:{SERVER}"}


def time_catalogue(spec, cases, virt_type):
    """Seconds to load ``spec`` and judge every case at the XML level (driver closed after)."""
    started = time.monotonic()
    driver = load_driver(spec)
    try:
        for case in cases:
            verdict = judge_xml(case, driver, virt_type=virt_type)
            if verdict.outcome not in ("pass", "skip"):
                raise SystemExit(f"{spec}: {verdict.reason}")
    finally:
        getattr(driver, "close", lambda: None)()
    return time.monotonic() - started


def time_certify(spec, parallel=None):
    """Wall seconds of ``conformance certify --level xml --driver spec [--parallel N]``."""
    with tempfile.TemporaryDirectory(prefix="cfm-bench-") as out:
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "conformance.cli", "certify", "--level", "xml",
                               "--driver", spec, "--output-dir", out, "--no-progress",
                               *(["--parallel", str(parallel)] if parallel else [])],
                              cwd=REPO, capture_output=True, text=True)
        wall = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"certify {spec} failed ({done.returncode}): {done.stdout[-500:]}")
    return wall


def bench(title, measures, runs):
    """Median seconds per label of ``measures`` (label -> callable); runs interleaved, so a
    change in the host's load hits every label alike."""
    times = {label: [] for label in measures}
    for i in range(runs):
        for label, measure in measures.items():
            times[label].append(measure())
            print(f"{title}, {label} run {i + 1}: {times[label][-1]:.2f} s", flush=True)
    medians = {label: statistics.median(t) for label, t in times.items()}
    for label, median in medians.items():
        print(f"{title}, {label}: median {median:.2f} s over {runs} run(s)", flush=True)
    return medians


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3, help="runs per measurement (default 3)")
    p.add_argument("--modes", default=",".join(MODES), help=f"comma list of {', '.join(MODES)} (default all)")
    p.add_argument("--protocol", type=int, choices=(1, 2), default=1,
                   help="1: the create catalogue over exec:/exec-stream:; 2: create and lifecycle "
                        "cases over exec2:/exec2-stream: (default 1)")
    p.add_argument("--certify", action="store_true", help="also time `certify --level xml` per mode")
    p.add_argument("--parallel", type=int, default=None, help="certify --parallel (default: its own)")
    p.add_argument("--virt-type", default="qemu")
    a = p.parse_args(argv)
    modes = [m for m in MODES if m in a.modes.split(",")]
    cases, spec_of = list(CASES if a.protocol == 1 else ALL_CASES), specs(a.protocol)
    print(f"catalogue: {len(cases)} cases; load average {os.getloadavg()[0]:.2f}")
    medians = bench("judge_xml, reference", {m: functools.partial(time_catalogue, spec_of[m], cases,
                                                                  a.virt_type) for m in modes}, a.runs)
    if {"exec", "exec-stream"} <= set(modes):
        print(f"ratio judge_xml one-shot / stream: {medians['exec'] / medians['exec-stream']:.1f}x")
    if a.certify:
        walls = bench(f"certify --level xml --parallel {a.parallel or 'default'}",
                      {m: functools.partial(time_certify, spec_of[m], a.parallel) for m in modes}, a.runs)
        if {"exec", "exec-stream"} <= set(modes):
            print(f"ratio certify one-shot / stream: {walls['exec'] / walls['exec-stream']:.1f}x")
    print(f"load average {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
