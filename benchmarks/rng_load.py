"""Benchmark: the RNG live check's reads while something else loads the host.

    .venv/bin/python benchmarks/rng_load.py [--rate 2048/500] [--quiet-windows 2] [-- LOAD COMMAND...]

Boots one reference guest with the rate (TCG), reads ``--quiet-windows`` windows alone, then
keeps reading windows while LOAD COMMAND runs (e.g. ``./run tests tests/faults/test_fleet.py``
or ``sh -c 'yes >/dev/null & yes >/dev/null & sleep 60'``; killed with its process group
when it ends), with the check's own
reader and window (:func:`conformance.live.rng.read_window`). Per window: bytes, whether the
check's bounds hold, and the CPU the host denied QEMU meanwhile
(:func:`conformance.live.qemu.cpu_denied`); last: windows outside the bounds, min/median bytes
and the largest QEMU run-queue wait. No assertions. The guest is destroyed, also on Ctrl-C.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from conformance.lab.image import load_image  # noqa: E402
from conformance.lab.lab import Lab  # noqa: E402
from conformance.live import qemu, rng  # noqa: E402
from conformance.process import kill_group  # noqa: E402
from fixtures.guests import reference_xml  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rate", default="2048/500")
    p.add_argument("--quiet-windows", type=int, default=2)
    p.add_argument("load", nargs=argparse.REMAINDER)
    a = p.parse_args(argv)
    rate_bytes, period = (int(v) for v in a.rate.split("/"))
    expected = rng.Expected("/dev/urandom", rate_bytes, period)
    window = rng.window_for(expected)
    low, high = rng.rate_bounds(rate_bytes, period, window)
    image = load_image()
    specs = {"hw_rng:rate_bytes": str(rate_bytes), "hw_rng:rate_period": str(period)}
    rows = []
    with Lab("qemu:///system") as lab:
        name = f"instance-bench-{uuid.uuid4().hex[:6]}"
        placement = lab.placement(image.boot, slug="bench-rngload", instance_name=name,
                                  loader=image.loader)
        guest = lab.start(reference_xml(image, "qemu", name, specs), placement)
        guest.wait_for_boot(180)
        guest.wait_for_agent(180)

        def read(label):
            before = qemu.cpu_snapshot(guest)
            count, _ = rng.read_window(guest, window)
            denied = qemu.cpu_denied(before, qemu.cpu_snapshot(guest)) or {}
            rows.append((count, denied.get("qemu_waited_s", 0.0)))
            print(f"{time.strftime('%H:%M:%S')} {label}: {count} B "
                  f"({'in' if low <= count <= high else 'OUTSIDE'} [{low}, {high}]) {denied}",
                  flush=True)

        for _ in range(a.quiet_windows):
            read("quiet")
        load = a.load[1:] if a.load[:1] == ["--"] else a.load
        if load:
            proc = subprocess.Popen(load, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
            try:
                while proc.poll() is None:
                    read("load")
            finally:
                kill_group(proc)  # the load and all it started
    counts = [c for c, _ in rows]
    print(f"rate {a.rate}, {window:g} s windows: {len(rows)} windows, "
          f"{sum(1 for c in counts if not low <= c <= high)} outside [{low}, {high}]; bytes min "
          f"{min(counts)}, median {statistics.median(counts):.0f}; largest QEMU run-queue wait "
          f"{max(w for _, w in rows):.2f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
