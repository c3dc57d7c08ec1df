"""Benchmark: where the time of stopping a guest goes (libvirt destroy vs QEMU's exit).

    .venv/bin/python benchmarks/qemu_stop.py [--runs 3]

Per run one reference guest boots (agent up), then either libvirt's ``destroy`` is timed, or
QEMU gets SIGTERM and the script times (polling /proc every 10 ms) until QEMU is a zombie,
until its pid is gone (reaped by its parent: QEMU is daemonized, so the nearest subreaper or
pid 1), and until libvirt reports the domain inactive. Prints per-run figures and medians,
and QEMU's parent. Every guest is destroyed.
"""
import argparse
import os
import signal
import statistics
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from conformance.lab.image import load_image
from conformance.lab.lab import Lab
from fixtures.guests import reference_xml


def state(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def boot(lab, image):
    name = f"instance-{uuid.uuid4().hex[:8]}"
    placement = lab.placement(image.boot, slug="stopbench", instance_name=name, loader=image.loader)
    guest = lab.start(reference_xml(image, lab.virt_type, name), placement)
    guest.wait_for_boot(120)
    guest.wait_for_agent(120)
    return guest


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    a = p.parse_args(argv)
    image, figures = load_image(), {"destroy": [], "zombie": [], "reaped": [], "inactive": []}
    with Lab() as lab:
        for i in range(a.runs):
            guest = boot(lab, image)
            started = time.monotonic()
            guest.domain.destroy()
            figures["destroy"].append(time.monotonic() - started)
            guest.destroy()
            guest = boot(lab, image)
            pid = guest.pid
            with open(f"/proc/{pid}/status") as handle:
                parent = next(line.split()[1] for line in handle if line.startswith("PPid:"))
            started, seen = time.monotonic(), {}
            os.kill(pid, signal.SIGTERM)
            while not {"inactive", "reaped"} <= seen.keys() and time.monotonic() - started < 30:
                now = time.monotonic() - started
                now_state = state(pid)
                if now_state == "Z":
                    seen.setdefault("zombie", now)
                if now_state == "gone":
                    seen.setdefault("zombie", now)
                    seen.setdefault("reaped", now)
                if not guest.domain.isActive():
                    seen.setdefault("inactive", now)
                time.sleep(0.01)
            guest.destroy()
            for key, value in seen.items():
                figures[key].append(value)
            print(f"run {i + 1}: libvirt destroy {figures['destroy'][-1]:.2f} s; SIGTERM -> "
                  + ", ".join(f"{k} {v:.2f} s" for k, v in seen.items())
                  + f" (QEMU's parent pid {parent})", flush=True)
    for key, values in figures.items():
        if values:
            print(f"{key}: median {statistics.median(values):.2f} s (n={len(values)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
