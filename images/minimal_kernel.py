"""Build (and cache) the minimal guest kernel from the distribution's kernel source package.

The source is the newest installed ``linux-source-X.Y`` (Debian 12: 6.1, Debian 13: 6.12;
:func:`source_package`); with none installed the image uses the stock kernel instead.
Recipe: unpack /usr/src/linux-source-X.Y.tar.xz, `make tinyconfig`, append
images/kernel/config.fragment, `make olddefconfig`, verify every fragment line
stuck, `make bzImage`. Output: <cache-dir>/kernels/<key>/{bzImage,config,manifest.json}.
The key hashes the source package version, the fragment and RECIPE_VERSION.
A build reports its phases (unpack, configure, compile) and elapsed time through a
progress object (images/progress.py). Stdlib only.
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
SOURCE_PREFIX = "linux-source-"
SOURCE_TARBALL = "/usr/src/{package}.tar.xz"
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


def _release_key(package):
    return [int(p) if p.isdigit() else 0 for p in package[len(SOURCE_PREFIX):].split(".")]


def source_package():
    """The newest installed ``linux-source-X.Y`` whose tarball is there, or None."""
    out = subprocess.run(["dpkg-query", "-W", "-f=${Package}\t${Status}\n", SOURCE_PREFIX + "*"],
                         capture_output=True, text=True)
    found = [line.split("\t")[0] for line in out.stdout.splitlines()
             if line.endswith(" installed") and re.fullmatch(r"linux-source-\d+\.\d+", line.split("\t")[0])
             and os.path.isfile(SOURCE_TARBALL.format(package=line.split("\t")[0]))]
    return max(found, key=_release_key, default=None)


def required_source_package():
    package = source_package()
    if package is None:
        raise KernelBuildError("no kernel source package (linux-source-X.Y) is installed: run "
                               "python3 -m conformance.host.bootstrap, or build with --kernel stock")
    return package


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


def _run(cmd, cwd, log, progress, phase):
    env = dict(os.environ, **BUILD_ENV)
    code = progress.run(cmd, f"kernel: {phase}", cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
    if code != 0:
        raise KernelBuildError(f"{' '.join(cmd)} failed (exit {code}); see {log.name}")


def build_kernel(cache_dir, progress, force=False, jobs=None):
    """Return {'bzimage', 'config', 'key', 'cached', 'seconds'}; build if needed.

    ``progress`` (images/progress.py) runs the build's commands; it says nothing when cached."""
    start = time.monotonic()
    with open(FRAGMENT, "rb") as f:
        fragment = f.read()
    package = required_source_package()
    key = cache_key(package_version(package), fragment)
    root = os.path.join(cache_dir, "kernels")
    final = os.path.join(root, key)
    result = {"bzimage": os.path.join(final, "bzImage"),
              "config": os.path.join(final, "config"), "key": key}
    if not force and os.path.isfile(os.path.join(final, "manifest.json")):
        return dict(result, cached=True, seconds=time.monotonic() - start)
    os.makedirs(root, mode=0o755, exist_ok=True)
    with open(os.path.join(root, ".lock"), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # one kernel build at a time
            progress.say("waiting for another process's kernel build (first run only, about 5 min)")
            fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and os.path.isfile(os.path.join(final, "manifest.json")):
            return dict(result, cached=True, seconds=time.monotonic() - start)
        remove_stale_temp_dirs(root)  # left by a killed build; we hold the lock
        work = tempfile.mkdtemp(prefix=f".tmp-{key[:12]}-", dir=root)
        progress.restart()
        progress.say(f"building the minimal guest kernel (first run only, about 5 min); "
                     f"log: {os.path.join(work, 'build.log')}")
        try:
            _build_into(work, package, fragment, key, jobs or os.cpu_count() or 1, progress)
            out = os.path.join(work, "out")
            if os.path.isdir(final):
                shutil.rmtree(final)
            os.rename(out, final)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    seconds = time.monotonic() - start
    progress.say(f"kernel: built in {progress.elapsed():.0f} s")
    return dict(result, cached=False, seconds=seconds)


def _build_into(work, package, fragment, key, jobs, progress):
    """Unpack, configure, verify and compile; leave results in work/out."""
    t0 = time.time()
    with open(os.path.join(work, "build.log"), "w") as log:
        progress.say("kernel: unpack")
        _run(["tar", "-xf", SOURCE_TARBALL.format(package=package), "-C", work], work, log, progress, "unpack")
        src = os.path.join(work, package)
        progress.say("kernel: configure")
        _run(["make", "tinyconfig"], src, log, progress, "configure")
        with open(os.path.join(src, ".config"), "ab") as cfg:
            cfg.write(b"\n" + fragment)
        _run(["make", "olddefconfig"], src, log, progress, "configure")
        with open(os.path.join(src, ".config")) as cfg:
            config_text = cfg.read()
        bad = missing_options(fragment_options(fragment.decode()), config_text)
        if bad:
            raise KernelBuildError("config options did not stick: " + ", ".join(bad))
        progress.say(f"kernel: compile ({jobs} jobs)")
        _run(["nice", "-n", "10", "make", f"-j{jobs}", "bzImage"], src, log, progress, "compile")
        out = os.path.join(work, "out")
        os.mkdir(out, 0o755)
        shutil.copyfile(os.path.join(src, "arch/x86/boot/bzImage"), os.path.join(out, "bzImage"))
        shutil.copyfile(os.path.join(src, ".config"), os.path.join(out, "config"))
        release = subprocess.run(["make", "-s", "kernelrelease"], cwd=src, env=dict(os.environ, **BUILD_ENV),
                                 capture_output=True, text=True).stdout.strip()
    manifest = {"key": key, "source_package": package,
                "source_version": package_version(package),
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
    from progress import Progress  # images/ is sys.path[0] when run as a script
    print(json.dumps(build_kernel(a.cache_dir, Progress(), force=a.force)))
