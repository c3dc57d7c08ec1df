"""Build (and cache) the minimal guest kernel from Debian's linux-source-6.1.

Recipe: unpack /usr/src/linux-source-6.1.tar.xz, `make tinyconfig`, append
images/kernel/config.fragment, `make olddefconfig`, verify every fragment line
stuck, `make bzImage`. Output: <cache-dir>/kernels/<key>/{bzImage,config,manifest.json}.
The key hashes the source package version, the fragment and RECIPE_VERSION.
Stdlib only.
"""
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FRAGMENT = os.path.join(HERE, "kernel", "config.fragment")
SOURCE_PACKAGE = "linux-source-6.1"
SOURCE_TARBALL = "/usr/src/linux-source-6.1.tar.xz"
RECIPE_VERSION = "1"  # bump when the build steps below change the output
BUILD_ENV = {
    "KBUILD_BUILD_TIMESTAMP": "1970-01-01",
    "KBUILD_BUILD_USER": "conformance",
    "KBUILD_BUILD_HOST": "conformance",
    "ARCH": "x86_64",
}


class KernelBuildError(RuntimeError):
    """The minimal kernel could not be built."""


def package_version(name):
    """Installed Debian version of `name`, or raise KernelBuildError."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}\t${Version}", name],
        capture_output=True, text=True)
    status, _, version = out.stdout.partition("\t")
    if out.returncode != 0 or not status.endswith(" installed"):
        raise KernelBuildError(
            f"{name} is not installed (run python3 -m conformance.host.bootstrap)")
    return version


def fragment_options(text):
    """Map CONFIG_X -> 'y'/'n'/value from the fragment text."""
    opts = {}
    for line in text.splitlines():
        m = re.match(r"^(CONFIG_[A-Za-z0-9_]+)=(.*)$", line.strip())
        if m:
            opts[m.group(1)] = m.group(2)
    return opts


def missing_options(wanted, config_text):
    """Fragment options whose value did not survive olddefconfig."""
    have = {}
    for line in config_text.splitlines():
        m = re.match(r"^(CONFIG_[A-Za-z0-9_]+)=(.*)$", line)
        if m:
            have[m.group(1)] = m.group(2)
        m = re.match(r"^# (CONFIG_[A-Za-z0-9_]+) is not set$", line)
        if m:
            have[m.group(1)] = "n"
    return sorted(k for k, v in wanted.items() if have.get(k, "n") != v)


def cache_key(source_version, fragment_bytes):
    """sha256 over everything that determines the kernel image."""
    h = hashlib.sha256()
    for part in (RECIPE_VERSION.encode(), source_version.encode(), fragment_bytes):
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


def remove_stale_temp_dirs(directory):
    """Remove .tmp-* build dirs in `directory` (call only while holding its build lock)."""
    for name in os.listdir(directory):
        if name.startswith(".tmp-"):
            shutil.rmtree(os.path.join(directory, name), ignore_errors=True)


def _run(cmd, cwd, log):
    env = dict(os.environ, **BUILD_ENV)
    res = subprocess.run(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    if res.returncode != 0:
        raise KernelBuildError(f"{' '.join(cmd)} failed (exit {res.returncode}); see {log.name}")


def build_kernel(cache_dir, force=False, jobs=None):
    """Return {'bzimage', 'config', 'key', 'cached', 'seconds'}; build if needed."""
    start = time.monotonic()
    with open(FRAGMENT, "rb") as f:
        fragment = f.read()
    key = cache_key(package_version(SOURCE_PACKAGE), fragment)
    root = os.path.join(cache_dir, "kernels")
    final = os.path.join(root, key)
    result = {"bzimage": os.path.join(final, "bzImage"),
              "config": os.path.join(final, "config"), "key": key}
    if not force and os.path.isfile(os.path.join(final, "manifest.json")):
        return dict(result, cached=True, seconds=time.monotonic() - start)
    os.makedirs(root, mode=0o755, exist_ok=True)
    with open(os.path.join(root, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one kernel build at a time
        if not force and os.path.isfile(os.path.join(final, "manifest.json")):
            return dict(result, cached=True, seconds=time.monotonic() - start)
        remove_stale_temp_dirs(root)  # left by a killed build; we hold the lock
        work = tempfile.mkdtemp(prefix=f".tmp-{key[:12]}-", dir=root)
        try:
            _build_into(work, fragment, key, jobs or os.cpu_count() or 1)
            out = os.path.join(work, "out")
            if os.path.isdir(final):
                shutil.rmtree(final)
            os.rename(out, final)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return dict(result, cached=False, seconds=time.monotonic() - start)


def _build_into(work, fragment, key, jobs):
    """Unpack, configure, verify and compile; leave results in work/out."""
    t0 = time.time()
    with open(os.path.join(work, "build.log"), "w") as log:
        _run(["tar", "-xf", SOURCE_TARBALL, "-C", work], work, log)
        src = os.path.join(work, "linux-source-6.1")
        _run(["make", "tinyconfig"], src, log)
        with open(os.path.join(src, ".config"), "ab") as cfg:
            cfg.write(b"\n" + fragment)
        _run(["make", "olddefconfig"], src, log)
        with open(os.path.join(src, ".config")) as cfg:
            config_text = cfg.read()
        bad = missing_options(fragment_options(fragment.decode()), config_text)
        if bad:
            raise KernelBuildError("config options did not stick: " + ", ".join(bad))
        _run(["nice", "-n", "10", "make", f"-j{jobs}", "bzImage"], src, log)
        out = os.path.join(work, "out")
        os.mkdir(out, 0o755)
        shutil.copyfile(os.path.join(src, "arch/x86/boot/bzImage"), os.path.join(out, "bzImage"))
        shutil.copyfile(os.path.join(src, ".config"), os.path.join(out, "config"))
        release = subprocess.run(["make", "-s", "kernelrelease"], cwd=src, env=dict(os.environ, **BUILD_ENV),
                                 capture_output=True, text=True).stdout.strip()
    manifest = {"key": key, "source_package": SOURCE_PACKAGE,
                "source_version": package_version(SOURCE_PACKAGE),
                "kernel_release": release, "build_seconds": round(time.time() - t0, 1)}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
    for name in os.listdir(out):
        os.chmod(os.path.join(out, name), 0o644)


if __name__ == "__main__":
    import argparse
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cache-dir", default="/var/lib/conformance/images")
    p.add_argument("--force", action="store_true")
    a = p.parse_args()
    print(json.dumps(build_kernel(a.cache_dir, force=a.force)))
