"""Benchmark: what a guest reads from /dev/hwrng per RNG rate, the figures behind rng.rate_bounds.

    .venv/bin/python benchmarks/rng_rate.py [--windows 5] [--rates 1024/1000,2048/500,64/1000,unlimited]
                                            [--accel auto|kvm|qemu]

Boots one reference guest per rate (``hw_rng:rate_bytes/rate_period``; ``unlimited``: no
rate), reads /dev/hwrng ``--windows`` times with the live check's own reader
(:func:`conformance.live.rng.read_window`, window :func:`~conformance.live.rng.window_for`)
and prints per rate: bytes per window (min/median/max), the ratio to the nominal budget
of the periods fully inside the window, the check's current bounds and how many windows
fell outside them. No assertions. Every guest is destroyed, also on Ctrl-C.
"""
import argparse
import os
import statistics
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from conformance.host.accel import choose  # noqa: E402
from conformance.lab.image import load_image  # noqa: E402
from conformance.lab.lab import Lab  # noqa: E402
from conformance.live import rng  # noqa: E402
from fixtures.guests import reference_xml  # noqa: E402


def parse_rate(text: str) -> rng.Expected:
    if text == "unlimited":
        return rng.Expected("/dev/urandom")
    rate_bytes, period = (int(v) for v in text.split("/"))
    return rng.Expected("/dev/urandom", rate_bytes, period)


def measure(lab, image, virt_type: str, expected: rng.Expected, windows: int) -> list[int]:
    """Bytes read in each of ``windows`` windows on one freshly booted guest."""
    name = f"instance-bench-{uuid.uuid4().hex[:6]}"
    specs = ({"hw_rng:rate_bytes": str(expected.rate_bytes),
              "hw_rng:rate_period": str(expected.rate_period)} if expected.limited else {})
    placement = lab.placement(image.boot, slug="bench-rng", instance_name=name,
                              loader=image.loader)
    guest = lab.start(reference_xml(image, virt_type, name, specs), placement)
    try:
        guest.wait_for_boot(180)
        guest.wait_for_agent(180)
        window = rng.window_for(expected)
        return [rng.read_window(guest, window)[0] for _ in range(windows)]
    finally:
        guest.destroy()


def report(label: str, expected: rng.Expected, counts: list[int]) -> None:
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
    print(line + f"  ({', '.join(map(str, counts))})", flush=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--windows", type=int, default=5)
    p.add_argument("--rates", default="1024/1000,2048/500,64/1000,unlimited")
    p.add_argument("--accel", default=os.environ.get("CONFORMANCE_ACCEL", "auto"),
                   choices=("auto", "kvm", "qemu"))
    p.add_argument("--uri", default="qemu:///system")
    a = p.parse_args(argv)
    image = load_image()
    with Lab(a.uri) as lab:
        accel = choose(lab, image, a.accel)
        lab.virt_type = accel.virt_type
        print(f"accelerator: {accel.label} ({accel.reason})", flush=True)
        for label in a.rates.split(","):
            expected = parse_rate(label)
            report(label, expected, measure(lab, image, accel.virt_type, expected, a.windows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
