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

It also prints the run's **floor** and the ratio of the wall time to it:

    floor = measurement windows / overlap + boot CPU / cores

*Measurement windows* are the seconds of the RNG rate reads and the watchdog fires: time a
guest holds a measurement open but mostly idles (a rate-limited read, a guest that stopped
feeding its watchdog). ``--overlap`` is how many of them may run at once without weakening
them (default: the run's workers, what the current schedule achieves). *Boot CPU* is the
CPU time each QEMU process had used when its guest was ready (boot marker, or the agent's
first answer where it has one), read from /proc/<pid>/stat of local guests: the work that
needs a core. ``cores`` is os.cpu_count() unless ``--cores`` says otherwise.
"""

from __future__ import annotations

import argparse
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


TICKS = os.sysconf("SC_CLK_TCK")
WINDOWS = ("check guest rng", "watchdog fire")  # measurement windows (mostly idle)


def qemu_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) the process ``pid`` has used, or None."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def _after_ready(func):
    """Record the guest's QEMU CPU seconds when ``func`` (a wait for readiness) returns."""
    @functools.wraps(func)
    def ready(guest, *args, **kwargs):
        result = func(guest, *args, **kwargs)
        try:
            pid = guest.pid if getattr(guest, "host", None) is None or guest.host.local else None
        except Exception:  # a remote or vanished guest: no reading
            pid = None
        cpu = qemu_cpu(pid) if pid else None
        if cpu is not None:
            _write({"phase": "boot cpu", "pid": pid, "name": guest.name, "cpu": cpu,
                    "ready": func.__name__, "at": time.time()})
        return result
    return ready


def _instrument() -> None:
    from conformance.host import accel
    from conformance.lab.guest import Guest
    from conformance.lab.lab import Lab
    from conformance.live import lifecycle, plan, watchdog
    Guest.wait_for_boot = _after_ready(Guest.wait_for_boot)
    Guest.wait_for_agent = _after_ready(Guest.wait_for_agent)
    _wrap(Lab, "start", "define+start")
    _wrap(Lab, "capabilities", "host capabilities")
    _wrap(Guest, "wait_for_boot", "wait boot marker")
    _wrap(Guest, "wait_for_agent", "wait agent")
    _wrap(Guest, "destroy", "destroy guest")
    _wrap(lifecycle, "apply", "lifecycle: destroy+define+start")
    lifecycle.wait_for_new_boot = _after_ready(lifecycle.wait_for_new_boot)
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


def boot_cpu(readings: list[dict]) -> dict[int, float]:
    """QEMU CPU seconds at readiness per process: its first reading when the agent first
    answered, else its first at the boot marker (a later reading, e.g. after a watchdog
    reset in the same process, includes measurements)."""
    first: dict[int, dict] = {}
    for r in sorted(readings, key=lambda r: r["at"]):
        known = first.get(r["pid"])
        if known is None or (known["ready"] != "wait_for_agent" and r["ready"] == "wait_for_agent"
                             and r["at"] - known["at"] < 60):
            first[r["pid"]] = r
    return {pid: r["cpu"] for pid, r in first.items()}


def floor_of(windows: float, overlap: int, cpu: float, cores: int) -> float:
    """The wall time no schedule beats: idle measurement windows ``overlap`` at a time, boot
    CPU on ``cores``."""
    return windows / max(overlap, 1) + cpu / max(cores, 1)


def summarise(directory: str, overlap: int | None = None, cores: int | None = None) -> None:
    """Print per-process busy/idle seconds, the summed seconds of every phase, the floor and
    the wall time's ratio to it."""
    totals, counts, outer, per_worker = (collections.Counter(), collections.Counter(),
                                          collections.Counter(), [])
    readings, wall = [], None
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name)) as handle:
            records = [json.loads(line) for line in handle]
        head = next((r for r in records if r["phase"] == "session"), None)
        end = max((r.get("end", 0) for r in records), default=0)
        items = [r for r in records if r["phase"].startswith("item ") and "end" in r]
        readings += [r for r in records if r["phase"] == "boot cpu"]
        if head is None:
            continue
        if head["worker"] == "controller":
            wall = end - head["start"]
        if head["worker"] != "controller":
            per_worker.append(head["worker"])
        busy = sum(r["end"] - r["start"] for r in items)
        first = min((r["start"] for r in items), default=end)
        print(f"{head['worker']}: session {end - head['start']:.1f} s, start->first item "
              f"{first - head['start']:.1f} s, items busy {busy:.1f} s, idle after start "
              f"{end - first - busy:.1f} s")
        for r in records:
            if "end" in r and r["phase"] not in ("session end", "boot cpu"):
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
    windows = sum(outer[p] for p in WINDOWS)
    per_boot = boot_cpu(readings)
    cpu, overlap, cores = sum(per_boot.values()), overlap or workers, cores or os.cpu_count()
    least = floor_of(windows, overlap, cpu, cores)
    print(f"measurement windows {windows:.1f} s ({counts['check guest rng']} RNG checks, "
          f"{counts['watchdog fire']} watchdog fires), overlap {overlap}; boot CPU {cpu:.1f} s "
          f"for {len(per_boot)} QEMU processes (median "
          f"{sorted(per_boot.values())[len(per_boot) // 2] if per_boot else 0:.2f} s), {cores} cores")
    print(f"floor = {windows:.1f} / {overlap} + {cpu:.1f} / {cores} = {least:.1f} s")
    if wall is not None and least:
        print(f"wall (controller session) {wall:.1f} s = {wall / least:.2f}x the floor")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Where a certify run's time went, and its floor.")
    parser.add_argument("directory", help="the CFM_PHASES_DIR of the run")
    parser.add_argument("--overlap", type=int, help="measurement windows that may run at once "
                        "(default: the run's workers)")
    parser.add_argument("--cores", type=int, help="cores for the boots (default: this machine's)")
    args = parser.parse_args(argv)
    summarise(args.directory, args.overlap, args.cores)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
