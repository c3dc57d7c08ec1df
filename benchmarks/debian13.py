"""What the Debian 13 test host costs: the tree's first build, its size, and later runs.

    flock /tmp/cfm-guests.lock .venv/bin/python benchmarks/debian13.py [--cold | --reuse] [--runs 3]

Builds the tree into a temporary cache (``--cold``: no downloaded packages; default: the
packages kept in /var/lib/conformance/debian13/debs copied in first, a warm package cache)
and prints its build seconds and sizes (tree, packages); ``--reuse``: no build, the cached
tree of /var/lib/conformance/debian13 (its sizes and the build seconds its manifest
recorded when it was built, cold or warm); then per run: the cached tree's
lookup, a Debian 13 host started until its libvirtd answers over TLS, one qemu+ssh
connection, and its stop; last the medians. The temporary cache is removed. Measurement
only, no assertions. Needs root.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from support import debian13_tree  # noqa: E402


def gib(n: int) -> str:
    return f"{n / (1 << 30):.2f} GiB"


def one_run(tree: Path) -> dict[str, float]:
    import libvirt

    from support.testhosts import free_index
    from support.debian13_host import Debian13Host
    t0 = time.monotonic()
    debian13_tree.build(cache=str(tree.parents[1]), say=lambda line: None)
    t1 = time.monotonic()
    host = Debian13Host(free_index(), tree).start()
    t2 = time.monotonic()
    try:
        libvirt.open(host.ssh_uri).close()
        t3 = time.monotonic()
    finally:
        host.stop()
    t4 = time.monotonic()
    return {"lookup": t1 - t0, "start": t2 - t1, "ssh connect": t3 - t2, "stop": t4 - t3, "total": t4 - t0}


def measure_runs(tree: Path, count: int) -> None:
    runs = []
    for number in range(1, count + 1):
        runs.append(one_run(tree))
        print(f"run {number}: " + ", ".join(f"{k} {v:.1f} s" for k, v in runs[-1].items()))
    if runs:
        print("median: " + ", ".join(f"{k} {statistics.median(r[k] for r in runs):.1f} s" for k in runs[0]))
    print(f"load after: {os.getloadavg()[0]:.1f}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cold", action="store_true", help="build without the kept packages")
    p.add_argument("--reuse", action="store_true", help="measure runs of the cached tree, build nothing")
    p.add_argument("--runs", type=int, default=3)
    a = p.parse_args()
    if a.reuse:
        tree = debian13_tree.cached()
        if tree is None:
            print("no cached Debian 13 tree to reuse (build it first: without --reuse)")
            return 2
        manifest = json.loads((tree.parent / "manifest.json").read_text())
        print(f"cached tree {manifest['key']}: built in {manifest['seconds']:.0f} s (guest kernel "
              f"{manifest['image']['seconds']:.0f} s of it); tree {gib(debian13_tree.size_bytes(tree))}, "
              f"packages kept {gib(debian13_tree.size_bytes(Path(debian13_tree.CACHE) / 'debs'))}")
        measure_runs(tree, a.runs)
        return 0
    cache = tempfile.mkdtemp(prefix="cfm-d13-bench-", dir="/var/lib/conformance")
    try:
        kept = Path(debian13_tree.CACHE) / "debs"
        if not a.cold and kept.is_dir():
            shutil.copytree(kept, Path(cache) / "debs")
        print(f"load before: {os.getloadavg()[0]:.1f}")
        t0 = time.monotonic()
        tree = debian13_tree.build(cache=cache)
        built = time.monotonic() - t0
        debs = debian13_tree.size_bytes(Path(cache) / "debs")
        print(f"first build ({'cold' if a.cold else 'warm'} package cache): {built:.0f} s; "
              f"tree {gib(debian13_tree.size_bytes(tree))}, packages kept {gib(debs)}")
        measure_runs(tree, a.runs)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
