"""Benchmark: guest image build time, cold (fresh temp cache) and cached (median of 5).

    python3 benchmarks/image_build.py [--kernel stock|minimal] [--cold-kernel]

The initramfs is always built cold into a temporary cache dir (removed afterwards).
For --kernel minimal the kernel comes from the shared cache (/var/lib/conformance/images)
unless --cold-kernel is given, which compiles it from scratch (several minutes).
"""
import argparse
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_build():
    spec = importlib.util.spec_from_file_location("image_build", os.path.join(REPO, "images", "build.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def timed(fn):
    t0 = time.monotonic()
    res = fn()
    return time.monotonic() - t0, res


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kernel", choices=["stock", "minimal"], default="stock")
    p.add_argument("--cold-kernel", action="store_true", help="also compile the minimal kernel from scratch")
    p.add_argument("--runs", type=int, default=5)
    a = p.parse_args(argv)
    build = load_build()
    mk = build.minimal_kernel
    tmp = tempfile.mkdtemp(prefix="image-bench-")
    try:
        if a.kernel == "minimal":
            kcache = tmp if a.cold_kernel else build.DEFAULT_CACHE_DIR
            cold_k, _ = timed(lambda: mk.build_kernel(kcache))
            label = "cold" if a.cold_kernel else "from shared cache (first call)"
            print(f"minimal kernel {label}: {cold_k:.2f} s")
            warm_k = [timed(lambda: mk.build_kernel(kcache))[0] for _ in range(a.runs)]
            print(f"minimal kernel cached: median {statistics.median(warm_k) * 1000:.1f} ms over {a.runs}")
            if not a.cold_kernel:  # reuse the shared kernel: link it into the temp cache
                src = os.path.join(build.DEFAULT_CACHE_DIR, "kernels")
                os.symlink(src, os.path.join(tmp, "kernels"))
        cold, res = timed(lambda: build.build_image(cache_dir=tmp, kernel=a.kernel))
        assert not res["cached"]
        print(f"initramfs+image ({a.kernel}) cold: {cold:.2f} s")
        warm = [timed(lambda: build.build_image(cache_dir=tmp, kernel=a.kernel))[0] for _ in range(a.runs)]
        print(f"image ({a.kernel}) cached: median {statistics.median(warm) * 1000:.1f} ms over {a.runs} "
              f"(all: {', '.join(f'{w * 1000:.0f}' for w in warm)} ms)")
        print(f"initrd size: {os.path.getsize(res['initrd']) / 1e6:.2f} MB, "
              f"kernel size: {os.path.getsize(res['kernel']) / 1e6:.2f} MB")
    finally:
        link = os.path.join(tmp, "kernels")
        if os.path.islink(link):
            os.unlink(link)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
