"""A Debian 13 ("trixie") root file system for tests, made by mmdebstrap from Debian's
package registry and cached under /var/lib/conformance/debian13/<key>/root.

The key hashes the package list: the test host's own (libvirt 11, QEMU 10, sshd) and what
the harness's set-up installs on Debian 13, which the build finds by running that set-up's
package step (``conformance.host.bootstrap``) inside the new tree, so the tree is also the
proof that set-up picks the right names there; then the minimal guest kernel is built from
Debian 13's kernel source inside the tree and kept in its image cache. A tree is rebuilt
only when its key changes; downloaded packages are kept in /var/lib/conformance/debian13/debs
for the next build. The tree is never written after its build: users mount it as the lower
layer of an overlay (:func:`mount_script`).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the checkout
CACHE = "/var/lib/conformance/debian13"
SUITE, MIRROR = "trixie", "http://deb.debian.org/debian"
RECIPE_VERSION = "1"  # bump when the build steps change the tree
# The test host: libvirtd 11 with QEMU 10 and its storage driver, sshd (virt-ssh-helper comes
# with libvirt-clients), and what a fresh clone's ./run needs before its set-up (git, python3).
HOST_PACKAGES = ["libvirt-daemon", "libvirt-daemon-driver-qemu", "libvirt-daemon-driver-storage",
                 "libvirt-daemon-log", "libvirt-clients", "qemu-system-x86", "openssh-server",
                 "netcat-openbsd", "procps", "iproute2", "python3", "git", "ca-certificates"]
# The recipe of the tree: its packages are decided by these files of the checkout.
KEY_FILES = ["conformance/host/distro.py", "images/kernel/config.fragment", "images/minimal_kernel.py",
             "tests/support/debian13_tree.py"]
BUILD_TIMEOUT = 3600


class TreeError(RuntimeError):
    """The Debian 13 tree could not be built."""


def tree_key() -> str:
    h = hashlib.sha256(json.dumps([RECIPE_VERSION, SUITE, MIRROR, HOST_PACKAGES]).encode())
    for rel in KEY_FILES:
        h.update((ROOT / rel).read_bytes())
    return h.hexdigest()[:16]


def tree_path(cache: str = CACHE) -> Path:
    return Path(cache) / tree_key() / "root"


def cached(cache: str = CACHE) -> Path | None:
    root = tree_path(cache)
    return root if (root.parent / "manifest.json").is_file() else None


def _say(line: str) -> None:
    print(f"debian13: {line}", flush=True)


# Inside the tree, during the build: the harness's set-up picks and installs its packages
# (as on any Debian 13 host), then the image build compiles the minimal kernel.
SETUP_IN_TREE = ("cd /opt/cfm-src && python3 -c 'from conformance.host import bootstrap; "
                 "bootstrap.packages(False, bootstrap.say)' && "
                 "python3 images/build.py --kernel minimal --json > /opt/cfm-image.json")


def build(cache: str = CACHE, say=_say) -> Path:
    """The cached tree for the current key, built first when missing (one build at a time)."""
    root = tree_path(cache)
    os.makedirs(cache, mode=0o755, exist_ok=True)
    with open(os.path.join(cache, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if cached(cache):
            return root
        debs = Path(cache) / "debs"
        debs.mkdir(exist_ok=True)
        work = root.parent.with_name(f".tmp-{root.parent.name}")
        shutil.rmtree(work, ignore_errors=True)
        for old in Path(cache).iterdir():  # one tree at a time: an old key's tree is stale
            if old.is_dir() and old.name not in ("debs", work.name):
                shutil.rmtree(old, ignore_errors=True)
        work.mkdir()
        start = time.monotonic()
        say(f"building the Debian 13 tree {root.parent.name} with mmdebstrap (log: {work}/build.log)")
        src = work / "src"
        shutil.copytree(ROOT / "conformance", src / "conformance",
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(ROOT / "images", src / "images", ignore=shutil.ignore_patterns("__pycache__"))
        argv = ["mmdebstrap", "--variant=minbase", "--aptopt=APT::Install-Recommends \"false\"",
                "--include=" + ",".join(HOST_PACKAGES), "--skip=download/empty",
                f"--setup-hook=mkdir -p \"$1/var/cache/apt/archives\" && cp -a {debs}/. \"$1/var/cache/apt/archives/\"",
                f"--customize-hook=cp -a {src} \"$1/opt/cfm-src\"",
                f"--customize-hook=chroot \"$1\" sh -c \"{SETUP_IN_TREE}\"",
                f"--customize-hook=cp -a \"$1/var/cache/apt/archives/\". {debs}/",
                "--customize-hook=rm -rf \"$1/opt/cfm-src\" \"$1/var/cache/apt/archives/\"*.deb",
                SUITE, str(work / "root"), MIRROR]
        with open(work / "build.log", "w") as log:
            try:
                done = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, timeout=BUILD_TIMEOUT)
            except subprocess.TimeoutExpired:
                raise TreeError(f"mmdebstrap did not finish in {BUILD_TIMEOUT} s; log {work}/build.log") from None
        if done.returncode != 0:
            tail = "\n".join((work / "build.log").read_text().splitlines()[-15:])
            raise TreeError(f"mmdebstrap failed (exit {done.returncode}):\n{tail}")
        shutil.rmtree(src)
        image = json.loads((work / "root/opt/cfm-image.json").read_text())
        manifest = {"key": tree_key(), "suite": SUITE, "packages": HOST_PACKAGES,
                    "seconds": round(time.monotonic() - start, 1), "image": image,
                    "os_release": (work / "root/etc/os-release").read_text()}
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2))
        os.rename(work, root.parent)
        say(f"Debian 13 tree ready in {manifest['seconds']:.0f} s")
    return root


def mount_script(tree: Path, upper: str, merged: str) -> str:
    """Shell lines that, run as PID 1 of new mount and PID namespaces, mount ``tree`` (read
    only, as an overlay's lower layer, changes going to ``upper``) at ``merged`` with its own
    /proc, the host's /sys and /dev, and a private /run and /tmp. The mounts die with the
    namespace; ``upper`` is the caller's to remove."""
    return "\n".join([
        "set -e", "mount --make-rprivate /",
        f"mkdir -p {upper}/data {upper}/work {merged}",
        f"mount -t overlay overlay -o lowerdir={tree},upperdir={upper}/data,workdir={upper}/work {merged}",
        f"mount -t proc proc {merged}/proc", f"mount --rbind /sys {merged}/sys",
        f"mount --rbind /dev {merged}/dev",
        f"mount -t tmpfs -o mode=0755 tmpfs {merged}/run", f"mount -t tmpfs -o mode=1777 tmpfs {merged}/tmp",
        f"cp /etc/resolv.conf {merged}/etc/resolv.conf 2>/dev/null || true", ""])


def size_bytes(path: Path) -> int:
    out = subprocess.run(["du", "-sb", "--one-file-system", str(path)], capture_output=True, text=True)
    return int(out.stdout.split()[0]) if out.returncode == 0 else 0
