"""Benchmark: wall time of the live (level 2/3) suite and what its checks measured.

    .venv/bin/python benchmarks/e2e.py [--runs N] [--workers 2] [--dist load|loadgroup]
                                       [--driver SPEC] [-- PYTEST ARGS]

Runs ``pytest tests/conformance/test_live_*.py -n WORKERS --dist DIST`` N times and
prints, as medians over runs: the suite's wall time, the watchdog fire latency per action
(armed -> libvirt watchdog event), the guest's /dev/hwrng throughput per RNG configuration
(limited vs unlimited) and the slowest phases. Numbers come from the evidence the tests
record (junit-xml properties). No assertions: timings on a shared 2-core TCG host are noisy.
"""

from __future__ import annotations

import argparse
import ast
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

from lxml import etree

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIVE_TESTS = ["tests/conformance/test_live_features.py",
              "tests/conformance/test_live_negative.py",
              "tests/conformance/test_live_locked_memory.py"]
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def run_suite(workers: int, dist: str, driver: str | None, extra: list[str]
              ) -> tuple[float, str, int]:
    """(wall seconds, junit xml text, pytest exit code) of one run."""
    with tempfile.TemporaryDirectory(prefix="e2e-bench-") as tmp:
        junit = os.path.join(tmp, "junit.xml")
        cmd = [sys.executable, "-m", "pytest", *LIVE_TESTS, "-q", "-p", "no:cacheprovider",
               f"--junitxml={junit}", "-o", "junit_family=xunit1"]
        if workers > 1:
            cmd += ["-n", str(workers), "--dist", dist]
        if driver:
            cmd += ["--driver", driver]
        start = time.monotonic()
        proc = subprocess.run(cmd + extra, cwd=REPO, capture_output=True, text=True)
        wall = time.monotonic() - start
        tail = proc.stdout.strip().splitlines()[-1:] or [proc.stderr.strip()[-300:]]
        print(f"  run: {wall:.1f} s, exit {proc.returncode}: {tail[0]}")
        with open(junit, "rb") as f:
            return wall, f.read().decode(), proc.returncode


def evidence_items(junit_text: str) -> list[dict]:
    """Per test case: name, time, outcome, and its recorded properties (evidence parsed)."""
    root = etree.fromstring(junit_text.encode(), PARSER)
    items = []
    for case in root.iter("testcase"):
        props = {}
        for prop in case.iterfind("properties/property"):
            value = prop.get("value")
            if value and value[0] in "{[":  # pytest writes str(value): a Python literal
                try:
                    value = ast.literal_eval(value)
                except (ValueError, SyntaxError):
                    pass
            props[prop.get("name")] = value
        outcome = "skipped" if case.find("skipped") is not None else (
            "failed" if case.find("failure") is not None or case.find("error") is not None
            else "passed")
        failure = case.find("failure") if case.find("failure") is not None else case.find("error")
        message = (failure.get("message") or "")[:300] if failure is not None else ""
        items.append({"name": case.get("name"), "time": float(case.get("time", 0)),
                      "outcome": outcome, "message": message, **props})
    return items


def summarise(runs: list[tuple[float, list[dict]]]) -> None:
    walls = [wall for wall, _ in runs]
    print(f"suite wall time: median {statistics.median(walls):.1f} s over {len(walls)} run(s) "
          f"({', '.join(f'{w:.0f}' for w in walls)})")
    latency, throughput, outcomes = defaultdict(list), defaultdict(list), defaultdict(int)
    for _, items in runs:
        for item in items:
            outcomes[item["outcome"]] += 1
            ev = item.get("evidence")
            if not isinstance(ev, dict):
                continue
            if "fire_latency_s" in ev and "negative" not in item:
                latency[ev.get("event_action", "?")].append(ev["fire_latency_s"])
            if "bytes_per_s" in ev and "negative" not in item:
                bounds = ev.get("bounds") or [None, None]
                label = "unlimited" if bounds[1] is None else f"limited, bounds {bounds}"
                throughput[label].append(ev["bytes_per_s"])
    print("outcomes:", dict(outcomes))
    for index, (_, items) in enumerate(runs, 1):
        shared = {i["guest"] for i in items if i.get("guest")}
        print(f"run {index}: {len(shared)} shared guests served "
              f"{sum(1 for i in items if i.get('guest'))} grouped check items")
    for _, items in runs:
        for item in items:
            if item["outcome"] == "failed":
                print(f"  FAILED {item['name']}: {item['message']}")
    for action, values in sorted(latency.items()):
        print(f"watchdog fire latency ({action}, heartbeat 2 s): median "
              f"{statistics.median(values):.2f} s over {len(values)} ({values})")
    for label, values in sorted(throughput.items()):
        print(f"/dev/hwrng throughput ({label}): median {statistics.median(values):.0f} B/s "
              f"over {len(values)} ({values})")
    slowest = sorted((i for _, items in runs for i in items), key=lambda i: -i["time"])[:8]
    print("slowest items:", ", ".join(f"{i['name']} {i['time']:.1f}s" for i in slowest))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dist", default="load", choices=("load", "loadgroup"),
                        help="xdist distribution (loadgroup keeps a guest group on one worker)")
    parser.add_argument("--driver", default=None)
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    args = parser.parse_args(argv)
    runs = []
    for _ in range(args.runs):
        wall, junit, _code = run_suite(args.workers, args.dist, args.driver, args.pytest_args)
        runs.append((wall, evidence_items(junit)))
    summarise(runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
