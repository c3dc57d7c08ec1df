"""Benchmark: cold boot to first successful guest-ping (define+start -> guest-ping), N runs.

    .venv/bin/python benchmarks/boot.py [--runs 5] [--kernel PATH --initrd PATH]
                                        [--cmdline TEXT] [--accel auto|kvm|qemu]
                                        [--compare-stock]

Boots the reference driver's domain for the harness guest image (or the given kernel and
initrd) through the guest lab, one guest at a time, and prints min/median/max of the time
to the boot marker and to the first guest-ping, plus the accelerator used. With
--compare-stock, boots of the default (minimal-kernel) image and the stock-kernel image are
interleaved in the same run (N each) and the ratio of medians (ours / stock) is printed. Every guest is
destroyed, also on Ctrl-C.
"""
import argparse
import dataclasses
import os
import statistics
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from conformance.host.accel import choose  # noqa: E402
from conformance.lab.image import load_image  # noqa: E402
from conformance.lab.lab import Lab  # noqa: E402
from fixtures.guests import reference_xml  # noqa: E402


def summary(label, values):
    return (f"{label}: min {min(values):.2f} s, median {statistics.median(values):.2f} s, "
            f"max {max(values):.2f} s  ({', '.join(f'{v:.2f}' for v in values)})")


def boot_once(lab, image, virt_type, timeout, to_marker, to_ping):
    """Boot one reference guest for image; append seconds to boot marker and to first ping."""
    name = f"instance-bench-{uuid.uuid4().hex[:6]}"
    placement = lab.placement(image.boot, slug="bench-boot", instance_name=name,
                              loader=image.loader)
    xml = reference_xml(image, virt_type, name)
    started = time.monotonic()
    guest = lab.start(xml, placement)
    try:
        guest.wait_for_boot(timeout)
        to_marker.append(time.monotonic() - started)
        guest.wait_for_agent(timeout)
        to_ping.append(time.monotonic() - started)
    finally:
        guest.destroy()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--kernel", help="kernel to boot instead of the harness image's")
    p.add_argument("--initrd", help="initrd to boot instead of the harness image's")
    p.add_argument("--cmdline", help="kernel command line (default: the image's recommended one)")
    p.add_argument("--accel", default=os.environ.get("CONFORMANCE_ACCEL", "auto"),
                   choices=("auto", "kvm", "qemu"))
    p.add_argument("--uri", default="qemu:///system")
    p.add_argument("--timeout", type=float, default=180, help="per-boot deadline in seconds")
    p.add_argument("--compare-stock", action="store_true",
                   help="interleave boots of the default and the stock-kernel image")
    a = p.parse_args(argv)

    image = load_image()
    boot = image.boot
    boot = dataclasses.replace(boot, kernel=a.kernel or boot.kernel,
                               initrd=a.initrd or boot.initrd, cmdline=a.cmdline or boot.cmdline)
    image = dataclasses.replace(image, kernel=boot.kernel, initrd=boot.initrd, cmdline=boot.cmdline)
    images = {"default": image}
    if a.compare_stock:
        images["stock"] = load_image("stock")
    results = {label: ([], []) for label in images}
    with Lab(a.uri) as lab:
        accel = choose(lab, image, a.accel)
        lab.virt_type = accel.virt_type
        print(f"accelerator: {accel.label} ({accel.reason})")
        for label, img in images.items():
            print(f"[{label}] kernel {img.kernel}\n[{label}] initrd {img.initrd}\n"
                  f"[{label}] cmdline {img.cmdline}")
        for i in range(a.runs):
            for label, img in images.items():
                to_marker, to_ping = results[label]
                boot_once(lab, img, accel.virt_type, a.timeout, to_marker, to_ping)
                print(f"run {i + 1} [{label}]: boot marker {to_marker[-1]:.2f} s, "
                      f"first guest-ping {to_ping[-1]:.2f} s", flush=True)
    for label, (to_marker, to_ping) in results.items():
        print(summary(f"[{label}] define+start -> boot marker", to_marker))
        print(summary(f"[{label}] define+start -> first guest-ping", to_ping))
    if a.compare_stock:
        ratio = (statistics.median(results["default"][1])
                 / statistics.median(results["stock"][1]))
        print(f"boot-to-agent median ratio (ours / stock): {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
