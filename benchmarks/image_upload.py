"""Benchmark: uploading the guest image to a remote libvirt host (what certify does once per
host per run, and plain pytest once per worker).

    .venv/bin/python benchmarks/image_upload.py [--runs 3]

Starts a namespace test host (tests/support/testhosts.py: libvirtd + sshd on a veth address of its
own), then per run opens a new Lab over qemu+ssh and times ``Lab.host_image`` (kernel,
initramfs and firmware ROM uploaded as volumes of the harness pool; the first upload of a lab
also sets up the pool and its owner marker). Prints the image's size, each run and the
median. The host and everything on it is removed at the end.
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))

from conformance.lab.image import load_image  # noqa: E402
from conformance.lab.lab import Lab  # noqa: E402
from support.testhosts import NamespaceHost, free_index  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    a = p.parse_args(argv)
    image = load_image()
    files = [f for f in (image.kernel, image.initrd, image.loader) if f]
    size = sum(os.path.getsize(f) for f in files)
    print(f"image: {len(files)} files, {size / 1e6:.1f} MB", flush=True)
    seconds = []
    with NamespaceHost(free_index()) as host:
        for run in range(1, a.runs + 1):
            with Lab(host.ssh_uri) as lab:
                started = time.monotonic()
                lab.host_image(image)
                seconds.append(time.monotonic() - started)
            print(f"run {run}: {seconds[-1]:.2f} s", flush=True)
    print(f"upload over qemu+ssh (loopback veth): median {statistics.median(seconds):.2f} s "
          f"of {a.runs} runs", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
