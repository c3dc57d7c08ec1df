"""Where a certify run's wall time goes: a pytest plugin that records phase spans, and
their summary.

    PYTHONPATH=benchmarks CFM_PHASES_DIR=/tmp/ph PYTEST_ADDOPTS="-p certify_phases" \\
        .venv/bin/conformance certify ...        # or: benchmarks/certify.py --phases
    .venv/bin/python benchmarks/certify_phases.py /tmp/ph

Each pytest process (controller, xdist workers) appends JSON lines to
``$CFM_PHASES_DIR/<pid>.jsonl``: the session (start, first item, end), every item's setup,
call and teardown, and the harness steps inside them (define+start, waits for boot and
agent, lifecycle operation, destroy, per-feature checks, watchdog fire, the driver). The
summary prints per-worker busy and idle seconds and the summed seconds of every phase.
Measurement only: the wrapped functions behave exactly as before.
"""

from __future__ import annotations

import collections
import functools
import json
import os
import sys
import threading
import time

DIR_ENV = "CFM_PHASES_DIR"
# Phases a worker cannot skip or overlap with its own others (the floor of a schedule).
SERIAL_WORK = ("define+start", "wait boot marker", "wait agent", "lifecycle: destroy+define+start",
               "lifecycle: wait new boot", "check guest rng", "watchdog fire")
_LOCAL = threading.local()  # the phases open in this thread (guests are destroyed in others)


def _write(record: dict) -> None:
    path = os.path.join(os.environ[DIR_ENV], f"{os.getpid()}.jsonl")
    with open(path, "a") as handle:
        handle.write(json.dumps(record) + "\n")


def _span(phase: str, func):
    @functools.wraps(func)
    def timed(*args, **kwargs):
        stack = _LOCAL.__dict__.setdefault("stack", [])
        started, inside = time.time(), list(stack)
        stack.append(phase)
        try:
            return func(*args, **kwargs)
        finally:
            stack.pop()
            if phase not in inside:  # a recursive call counts once
                _write({"phase": phase, "start": started, "end": time.time(),
                        "nested": bool(inside)})
    return timed


def _wrap(owner, name: str, phase: str) -> None:
    setattr(owner, name, _span(phase, getattr(owner, name)))


def _instrument() -> None:
    from conformance.host import accel
    from conformance.lab.guest import Guest
    from conformance.lab.lab import Lab
    from conformance.live import lifecycle, plan, watchdog
    _wrap(Lab, "start", "define+start")
    _wrap(Lab, "capabilities", "host capabilities")
    _wrap(Guest, "wait_for_boot", "wait boot marker")
    _wrap(Guest, "wait_for_agent", "wait agent")
    _wrap(Guest, "destroy", "destroy guest")
    _wrap(lifecycle, "apply", "lifecycle: destroy+define+start")
    _wrap(lifecycle, "wait_for_new_boot", "lifecycle: wait new boot")
    _wrap(lifecycle, "boot_xmls", "driver (boot xml)")
    _wrap(plan, "boot_xml", "driver (boot xml)")
    _wrap(watchdog, "check_fires", "watchdog fire")
    _wrap(accel, "choose", "accelerator probe")
    for level, checks in (("host", plan.HOST_CHECKS), ("guest", plan.GUEST_CHECKS)):
        for feature in list(checks):
            checks[feature] = _span(f"check {level} {feature}", checks[feature])


def pytest_configure(config):
    if os.environ.get(DIR_ENV):
        os.makedirs(os.environ[DIR_ENV], exist_ok=True)
        _instrument()
        worker = getattr(config, "workerinput", {}).get("workerid", "controller")
        _write({"phase": "session", "worker": worker, "start": time.time()})


def pytest_runtest_logstart(nodeid, location):
    if os.environ.get(DIR_ENV):
        _write({"phase": "item start", "item": nodeid, "start": time.time()})


def pytest_runtest_logreport(report):
    if os.environ.get(DIR_ENV) and not hasattr(report, "node"):  # the worker's own report
        _write({"phase": f"item {report.when}", "item": report.nodeid,
                "start": report.start, "end": report.stop})


def pytest_unconfigure(config):
    if os.environ.get(DIR_ENV):
        _write({"phase": "session end", "end": time.time()})


def summarise(directory: str) -> None:
    """Print per-process busy/idle seconds and the summed seconds of every phase."""
    totals, counts, outer, per_worker = (collections.Counter(), collections.Counter(),
                                          collections.Counter(), [])
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name)) as handle:
            records = [json.loads(line) for line in handle]
        head = next((r for r in records if r["phase"] == "session"), None)
        end = max((r.get("end", 0) for r in records), default=0)
        items = [r for r in records if r["phase"].startswith("item ") and "end" in r]
        if head is None:
            continue
        if head["worker"] != "controller":
            per_worker.append(head["worker"])
        busy = sum(r["end"] - r["start"] for r in items)
        first = min((r["start"] for r in items), default=end)
        print(f"{head['worker']}: session {end - head['start']:.1f} s, start->first item "
              f"{first - head['start']:.1f} s, items busy {busy:.1f} s, idle after start "
              f"{end - first - busy:.1f} s")
        for r in records:
            if "end" in r and r["phase"] not in ("session end",):
                totals[r["phase"]] += r["end"] - r["start"]
                counts[r["phase"]] += 1
                if not r.get("nested"):
                    outer[r["phase"]] += r["end"] - r["start"]
    for phase, seconds in totals.most_common():
        print(f"{seconds:8.1f} s {counts[phase]:5d}x  {phase}")
    boots = counts["define+start"] + counts["lifecycle: destroy+define+start"]
    print(f"boots: {boots} ({counts['define+start']} fresh guests, "
          f"{counts['lifecycle: destroy+define+start']} lifecycle operations)")
    floor = sum(outer[p] for p in SERIAL_WORK)  # each second once
    workers = max(len(per_worker), 1)
    print(f"boots, operations, RNG windows and watchdog fires: {floor:.1f} s of worker time, "
          f"{floor / workers:.1f} s wall at the best on {workers} worker(s)")


if __name__ == "__main__":
    summarise(sys.argv[1])
