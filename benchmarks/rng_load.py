"""Benchmark: the RNG live check's verdicts while something else loads the host.

    .venv/bin/python benchmarks/rng_load.py [--rates 1024/1000,2048/500,4096/2000] [--quiet 1]
                                            [-- LOAD COMMAND...]

Boots one reference guest per rate (TCG) and runs the check's own judgement,
:func:`conformance.live.rng.read_within` (windows, bounds, re-reads and the starvation rule)
``--quiet`` times alone, then again and again while LOAD COMMAND runs (started afresh for
each rate; e.g. one worker's worth of the suite: ``.venv/bin/python -m pytest
tests/conformance/test_live_lifecycle.py -q -p no:cacheprovider``; killed with its process
group when it ends). Prints each judgement (pass, fail or error = not measurable, with every
window's bytes and the CPU the host denied QEMU in it) and per rate the count of each. A
correct device must never fail. No assertions. Every guest is destroyed, also on Ctrl-C.
"""
import argparse
import collections
import os
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from conformance.errors import GuestError  # noqa: E402
from conformance.lab.image import load_image  # noqa: E402
from conformance.lab.lab import Lab  # noqa: E402
from conformance.live import LiveCheckFailed, rng  # noqa: E402
from conformance.process import kill_group  # noqa: E402
from fixtures.guests import reference_xml  # noqa: E402


def judge(guest, expected: rng.Expected) -> tuple[str, dict]:
    """One run of the check's rate judgement: ("pass"|"fail"|"error", evidence)."""
    window = rng.window_for(expected)
    low, high = rng.rate_bounds(expected.rate_bytes, expected.rate_period, window)
    per_s = expected.rate_bytes * 1000 / expected.rate_period
    try:
        rate = (expected.rate_bytes, expected.rate_period)
        return "pass", rng.read_within(guest, window, low, high, "rate", per_s, rate)[2]
    except LiveCheckFailed as failed:
        return "fail", failed.evidence
    except GuestError as error:
        return "error", {"error": str(error)[:300]}


def waits(evidence: dict) -> list[float]:
    return [round((d or {}).get("qemu_waited_s", 0) + (d or {}).get("host_stolen_s", 0), 2)
            for d in evidence.get("cpu_denied", [])]


def run_rate(lab, image, text: str, quiet: int, load: list[str]) -> collections.Counter:
    rate_bytes, period = (int(v) for v in text.split("/"))
    expected = rng.Expected("/dev/urandom", rate_bytes, period)
    specs = {"hw_rng:rate_bytes": str(rate_bytes), "hw_rng:rate_period": str(period)}
    name = f"instance-bench-{uuid.uuid4().hex[:6]}"
    placement = lab.placement(image.boot, slug="bench-rngload", instance_name=name,
                              loader=image.loader)
    guest = lab.start(reference_xml(image, "qemu", name, specs), placement)
    verdicts = collections.Counter()
    try:
        guest.wait_for_boot(180)
        guest.wait_for_agent(180)

        def once(label: str) -> None:
            verdict, evidence = judge(guest, expected)
            verdicts[f"{label} {verdict}"] += 1
            print(f"{time.strftime('%H:%M:%S')} {text} {label}: {verdict} windows "
                  f"{evidence.get('windows', evidence.get('error'))} bounds "
                  f"{evidence.get('bounds')} QEMU denied {waits(evidence)} s", flush=True)

        for _ in range(quiet):
            once("quiet")
        if load:
            proc = subprocess.Popen(load, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    start_new_session=True)
            try:
                while proc.poll() is None:
                    once("load")
            finally:
                kill_group(proc)  # the load and all it started
    finally:
        guest.destroy()
    return verdicts


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rates", default="1024/1000,2048/500,4096/2000")
    p.add_argument("--quiet", type=int, default=1)
    p.add_argument("load", nargs=argparse.REMAINDER)
    a = p.parse_args(argv)
    load = a.load[1:] if a.load[:1] == ["--"] else a.load
    image = load_image()
    totals = {}
    with Lab("qemu:///system") as lab:
        for text in a.rates.split(","):
            totals[text] = run_rate(lab, image, text, a.quiet, load)
    for text, verdicts in totals.items():
        print(f"rate {text}: " + ", ".join(f"{k}: {v}" for k, v in sorted(verdicts.items())),
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
