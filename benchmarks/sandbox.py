"""Benchmark: what the sandbox costs per driver answer.

    .venv/bin/python benchmarks/sandbox.py [--runs 3]

For every create-time case the reference accepts (its answer for qemu): seconds of
``sandbox.prepare`` (safe parse, libvirt's reading in the reader child, allow list,
harness-owned parts, backstop), and of libvirt's reading alone done in this process on
``test:///default`` (what the child saves the harness from: a crash), per answer; the
first read's child start; medians over ``--runs`` passes. No libvirt daemon is used.
"""
import argparse
import os
import statistics
import sys
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import libvirt  # noqa: E402

from conformance.catalogue import CASES  # noqa: E402
from conformance.catalogue.expected import expected_outcome  # noqa: E402
from conformance.lab import libvirt_reader  # noqa: E402
from conformance.lab.runs import Owner  # noqa: E402
from conformance.lab.sandbox import Placement, prepare  # noqa: E402
from conformance.reference import ReferenceDriver  # noqa: E402


def answers():
    """(request, reference XML) of every accepted create-time case."""
    found = []
    for case in CASES:
        request = case.request("qemu")
        if expected_outcome(request).accepted:
            found.append((request, ReferenceDriver().build(request)))
    return found


def placement(request) -> Placement:
    return Placement(name="cfm-bench-1-s", uuid=str(uuid.uuid4()), console_path="/tmp/c.log",
                     owner=Owner("bench", os.getpid(), ""), virt_type=request.virt_type,
                     kernel=request.boot.kernel, initrd=request.boot.initrd,
                     cmdline=request.boot.cmdline, instance_name=request.instance_name)


def in_process(conn, xml: str) -> None:
    """libvirt's reading of ``xml`` in this process (unique name, as the child does)."""
    xml = xml.replace(xml[xml.index("<name>"):xml.index("</name>")],
                      f"<name>cfm-bench-{uuid.uuid4().hex}", 1)
    domain = conn.defineXMLFlags(xml, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
    domain.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE)
    domain.undefine()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    docs = answers()
    started = time.monotonic()
    libvirt_reader.read(docs[0][1].replace("instance-00000001", f"cfm-bench-{uuid.uuid4().hex}"))
    print(f"reader child start + first read: {time.monotonic() - started:.3f} s")
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    conn = libvirt.open("test:///default")
    per_answer = {"prepare": [], "in-process reading": []}
    for run in range(args.runs):
        for what, work in (("prepare", lambda r, x: prepare(x, placement(r))),
                           ("in-process reading", lambda r, x: in_process(conn, x))):
            begin = time.monotonic()
            for request, xml in docs:
                work(request, xml)
            seconds = time.monotonic() - begin
            per_answer[what].append(seconds / len(docs))
            print(f"run {run + 1} {what}: {len(docs)} answers in {seconds:.2f} s "
                  f"({1000 * seconds / len(docs):.1f} ms each)")
    for what, values in per_answer.items():
        print(f"median {what}: {1000 * statistics.median(values):.1f} ms per answer")
    print(f"load average: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
