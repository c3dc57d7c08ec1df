"""Benchmark: what a guest reads from /dev/hwrng per RNG rate, the figures behind rng.rate_bounds.

    .venv/bin/python benchmarks/rng_rate.py [--windows 5] [--rates 1024/1000,2048/500,4096/2000,unlimited]
                                            [--fractions 1] [--exact] [--accel auto|kvm|qemu]

Boots one reference guest per rate and device fraction (``hw_rng:rate_bytes/rate_period``,
the bytes multiplied by the fraction and rounded to whole 64-byte chunks towards the rate,
so a device at "0.7" gives at least 0.7x and one at "1.4" at most 1.4x: ``--fractions
0.7,1,1.4`` boots such devices beside each rate; ``unlimited``: no rate), reads /dev/hwrng ``--windows`` times with the
live check's own reader (:func:`conformance.live.rng.read_window`, window
:func:`~conformance.live.rng.window_for` of the nominal rate) and prints per guest: bytes per
window (min/median/max), the ratio to the nominal budget of the periods inside the window,
the check's bounds for the nominal rate, how many windows fell outside them, and the most CPU
the host denied QEMU in a window. ``--exact`` gives the device the rate's bytes as they are
(no rounding to chunks: a rate that is not a whole number of chunks, e.g. ``1000/1000``). No assertions. Every guest is destroyed, also on Ctrl-C.
"""
import argparse
import math
import os
import statistics
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from conformance.host.accel import choose  # noqa: E402
from conformance.lab.image import load_image  # noqa: E402
from conformance.lab.lab import Lab  # noqa: E402
from conformance.live import qemu, rng  # noqa: E402
from fixtures.guests import reference_xml  # noqa: E402


def parse_rate(text: str) -> rng.Expected:
    if text == "unlimited":
        return rng.Expected("/dev/urandom")
    rate_bytes, period = (int(v) for v in text.split("/"))
    return rng.Expected("/dev/urandom", rate_bytes, period)


def device_bytes(rate_bytes: int, fraction: float, exact: bool = False) -> int:
    """``fraction`` of ``rate_bytes`` in whole 64-byte chunks, rounded towards ``rate_bytes``
    (``exact``: ``rate_bytes`` itself)."""
    if exact:
        return rate_bytes
    chunks = rate_bytes * fraction / rng.CHUNK
    return rng.CHUNK * (math.ceil(chunks) if fraction < 1 else math.floor(chunks))


def measure(lab, image, virt_type: str, expected: rng.Expected, windows: int,
            fraction: float = 1.0, exact: bool = False) -> tuple[list[int], float]:
    """Bytes read in each of ``windows`` windows on one freshly booted guest whose device
    gives ``fraction`` of the rate, and the most CPU (s) the host denied QEMU in a window."""
    name = f"instance-bench-{uuid.uuid4().hex[:6]}"
    specs = ({"hw_rng:rate_bytes": str(device_bytes(expected.rate_bytes, fraction, exact)),
              "hw_rng:rate_period": str(expected.rate_period)} if expected.limited else {})
    placement = lab.placement(image.boot, slug="bench-rng", instance_name=name,
                              loader=image.loader)
    guest = lab.start(reference_xml(image, virt_type, name, specs), placement)
    try:
        guest.wait_for_boot(180)
        guest.wait_for_agent(180)
        window = rng.window_for(expected)
        counts, denied = [], 0.0
        for _ in range(windows):
            before = qemu.cpu_snapshot(guest)
            counts.append(rng.read_window(guest, window)[0])
            found = qemu.cpu_denied(before, qemu.cpu_snapshot(guest)) or {}
            denied = max(denied, found.get("qemu_waited_s", 0.0) + found.get("host_stolen_s", 0.0))
        return counts, denied
    finally:
        guest.destroy()


def report(label: str, expected: rng.Expected, counts: list[int], denied: float) -> None:
    window = rng.window_for(expected)
    per_s = [round(c / window) for c in counts]
    line = (f"{label}: window {window:g} s, bytes min {min(counts)} / median "
            f"{statistics.median(counts):.0f} / max {max(counts)}; B/s {min(per_s)}-{max(per_s)}")
    if expected.limited:
        nominal = expected.rate_bytes * int(window * 1000 // expected.rate_period)
        low, high = rng.rate_bounds(expected.rate_bytes, expected.rate_period, window)
        ratios = [round(c / nominal, 2) for c in counts]
        outside = sum(1 for c in counts if not low <= c <= high)
        line += (f"; x nominal {nominal}: {min(ratios)}-{max(ratios)}; bounds [{low}, {high}], "
                 f"{outside} outside")
    else:
        low = int(rng.UNLIMITED_MIN_BYTES_PER_S * window)
        line += f"; floor {low}, {sum(1 for c in counts if c < low)} below"
    print(line + f"; QEMU denied at most {denied:.2f} s  ({', '.join(map(str, counts))})",
          flush=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--windows", type=int, default=5)
    p.add_argument("--rates", default="1024/1000,2048/500,4096/2000,unlimited")
    p.add_argument("--fractions", default="1", help="device rate / nominal rate, comma-separated")
    p.add_argument("--accel", default=os.environ.get("CONFORMANCE_ACCEL", "auto"),
                   choices=("auto", "kvm", "qemu"))
    p.add_argument("--exact", action="store_true",
                   help="the device gets the rate's bytes unrounded (fractions ignored)")
    p.add_argument("--uri", default="qemu:///system")
    a = p.parse_args(argv)
    image = load_image()
    with Lab(a.uri) as lab:
        accel = choose(lab, image, a.accel)
        lab.virt_type = accel.virt_type
        print(f"accelerator: {accel.label} ({accel.reason})", flush=True)
        for label in a.rates.split(","):
            expected = parse_rate(label)
            for fraction in [1.0] if a.exact else [float(f) for f in a.fractions.split(",")]:
                if fraction != 1 and not expected.limited:
                    continue
                counts, denied = measure(lab, image, accel.virt_type, expected, a.windows, fraction,
                                         a.exact)
                actual = device_bytes(expected.rate_bytes, fraction, a.exact) if expected.limited else 0
                report(f"{label} device x{fraction:g}"
                       + (f" ({actual} B)" if expected.limited else ""), expected, counts, denied)
    return 0


if __name__ == "__main__":
    sys.exit(main())
