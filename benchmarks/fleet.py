"""Benchmark: wall time of one ``conformance certify`` over a fleet of 1, 2 and 3 hosts.

    .venv/bin/python benchmarks/fleet.py [--hosts 1,2,3] [--runs 1] [-- EXTRA CERTIFY ARGS...]

A fleet of N is this machine's libvirt (``qemu:///system``) plus N-1 namespace test hosts
(tests/support/testhosts.py: a libvirtd and sshd each, reached over qemu+ssh on a veth address
of their own), started here and stopped at the end. Every run certifies the same selection
(default ``--feature watchdog``: 32 cases, create and lifecycle) on every host of the fleet
(``--host`` per host, each its own pytest child); each host's accelerator probe is run (and
cached) once before timing, as on a lab whose hosts were certified before. Runs are interleaved over the fleet sizes
so that a change in the machine's load hits all alike. Per run: wall time, load average, the
fleet headline; last, per fleet size: the median wall time, the ratio to one host, and case
runs (case x host) per minute. All hosts share this machine's 2 cores: the figures show what
one machine can drive, not how a real fleet of separate machines scales.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
CONFORMANCE = os.path.join(ROOT, ".venv", "bin", "conformance")


def certify(uris: list[str], extra: list[str]) -> dict:
    with tempfile.TemporaryDirectory(prefix="cfm-bench-fleet-") as out:
        argv = [CONFORMANCE, "certify", "--output-dir", out, "--no-progress", *extra]
        for i, uri in enumerate(uris):
            argv += ["--host", uri if i == 0 else f"h{i + 1}={uri}"]
        started = time.monotonic()
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
        wall = time.monotonic() - started
        report = json.load(open(os.path.join(out, "report.json")))
    summary = report["summary"]
    runs = summary.get("runs", summary.get("total"))
    return {"wall": wall, "exit": done.returncode, "headline": summary["headline"], "runs": runs,
            "load": os.getloadavg()[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", default="1,2,3", help="fleet sizes (default %(default)s)")
    parser.add_argument("--runs", type=int, default=1, help="runs per fleet size (median)")
    parser.add_argument("extra", nargs="*", help="certify arguments after -- (default --feature watchdog)")
    args = parser.parse_args()
    sizes = [int(n) for n in args.hosts.split(",")]
    extra = args.extra or ["--feature", "watchdog"]
    sys.path.insert(0, os.path.join(ROOT, "tests"))  # the namespace test hosts: tests/support/
    from support.testhosts import NamespaceHost, free_index
    hosts = []
    try:
        for _ in range(max(sizes) - 1):
            hosts.append(NamespaceHost(free_index()).start())
        uris = ["qemu:///system"] + [h.ssh_uri for h in hosts]
        for uri in uris:  # warm-up: each host's accelerator probe is cached before timing
            subprocess.run([CONFORMANCE, "host-check", "--libvirt-uri", uri], cwd=ROOT,
                           capture_output=True, timeout=300)
        walls = {n: [] for n in sizes}
        runs = {}
        print(f"certify {' '.join(extra)}; fleets of {sizes} hosts; {args.runs} run(s) each; "
              f"{os.cpu_count()} cores", flush=True)
        for run in range(args.runs):
            for n in sizes:
                result = certify(uris[:n], extra)
                walls[n].append(result["wall"])
                runs[n] = result["runs"]
                print(f"run {run + 1} hosts {n}: {result['wall']:.1f} s, exit {result['exit']}, "
                      f"load {result['load']:.2f}: {result['headline'][:160]}", flush=True)
        base = statistics.median(walls[sizes[0]])
        for n in sizes:
            median = statistics.median(walls[n])
            print(f"hosts {n}: median {median:.1f} s over {len(walls[n])} run(s); "
                  f"{median / base:.2f}x the {sizes[0]}-host time; "
                  f"{runs[n]} case runs, {runs[n] / median * 60:.0f} case runs/min")
    finally:
        for host in hosts:
            host.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
