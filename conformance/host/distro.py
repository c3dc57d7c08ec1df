"""Which packages this host's distribution needs, from ``/etc/os-release`` and what apt offers.

The host needs the same things on every release, under names that differ: the newest
kernel source package apt offers (``linux-source-6.1`` on Debian 12, ``linux-source-6.12``
on Debian 13) for the minimal guest kernel, or none (the image build then uses the
distribution's stock kernel with modules in the initramfs); ``linux-perf`` or Ubuntu's
``linux-tools-generic``; ``chromium`` or ``chromium-browser``. A distribution without apt
gets one line naming what to install by hand. Decisions are pure functions of the probes'
output, so they are unit tested without apt. Stdlib only (run before the venv exists).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field

OS_RELEASE = "/etc/os-release"
KERNEL_SOURCE = "linux-source-*"  # the newest linux-source-X.Y apt offers
# Each entry: a package, or "a|b": the first of the alternatives apt offers.
PACKAGES = [
    # hypervisor + libvirt
    "qemu-system-x86", "qemu-utils", "libvirt-daemon-system", "libvirt-clients",
    "libvirt-dev", "pkg-config",
    # guest image (images/build.py)
    "linux-image-amd64", "busybox-static", "qemu-guest-agent", "rng-tools5",
    "linux-perf|linux-tools-generic", "cpio", "gzip", "kmod", "gcc", "libc6-dev",
    # venv
    "python3-venv",
    # the HTML report is checked in a real headless browser (tests/functional)
    "chromium|chromium-browser",
    # libvirt-python builds against Python.h in .venv
    "python3-dev",
    # remote test hosts in namespaces (certtool: their TLS keys; mmdebstrap: the Debian 13 host)
    "openssh-server", "gnutls-bin", "mmdebstrap",
]
# Only with a kernel source package: the minimal guest kernel's build (images/minimal_kernel.py).
MINIMAL_KERNEL = [KERNEL_SOURCE, "bc", "flex", "bison", "libelf-dev", "libssl-dev", "make",
                  "xz-utils", "lz4"]
# What a distribution without apt needs, by what it provides (one line of set-up output).
BY_HAND = ("QEMU (qemu-system-x86_64, qemu-img), libvirt (libvirtd, virtlogd, virsh, its "
           "development headers, pkg-config), a kernel image with modules in /boot and "
           "/lib/modules, busybox (static), qemu-ga, rngd, cpio, gzip, gcc with a static libc, "
           "python3 with venv")
BY_HAND_COMMANDS = ["qemu-system-x86_64", "libvirtd", "virtlogd", "pkg-config", "busybox",
                    "qemu-ga", "rngd", "cpio", "gzip", "gcc"]


@dataclass
class Plan:
    """What to install (``install``), the kernel source package chosen or None, and lines
    that say what set-up decided (``notes``)."""
    install: list[str] = field(default_factory=list)
    kernel_source: str | None = None
    unavailable: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def parse_os_release(text: str) -> dict[str, str]:
    """KEY=value lines of os-release(5), quotes removed."""
    found = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            found[key] = value.strip().strip("\"'")
    return found


def os_release(path: str = OS_RELEASE) -> dict[str, str]:
    try:
        with open(path) as f:
            return parse_os_release(f.read())
    except OSError:
        return {}


def is_debian_like(release: dict[str, str]) -> bool:
    """Debian itself or a derivative that says so (ID_LIKE), e.g. Ubuntu."""
    return "debian" in [release.get("ID", "")] + release.get("ID_LIKE", "").split()


def name(release: dict[str, str]) -> str:
    return release.get("PRETTY_NAME") or release.get("ID") or "an unknown distribution"


def by_hand_line(release: dict[str, str], missing: list[str]) -> str:
    """The one line a distribution without apt gets."""
    return (f"{name(release)} has no apt: install by hand {BY_HAND} "
            f"(missing now: {', '.join(missing)}), then run this again")


def _version_key(text: str) -> list:
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.+~-]", text)]


def newest_kernel_source(names) -> str | None:
    """The highest ``linux-source-X.Y`` among ``names`` (not the unversioned metapackage)."""
    versioned = [n for n in names if re.fullmatch(r"linux-source-\d+\.\d+", n)]
    return max(versioned, key=lambda n: _version_key(n[len("linux-source-"):]), default=None)


def satisfied(entry: str, installed: set[str]) -> bool:
    if entry == KERNEL_SOURCE:
        return newest_kernel_source(installed) is not None
    return any(alt in installed for alt in entry.split("|"))


def plan(installed: set[str], offered: set[str] | None) -> Plan:
    """What to install, given the packages ``installed`` and those apt ``offered`` (None:
    not asked yet, because nothing is missing that would need it)."""
    result = Plan(kernel_source=newest_kernel_source(installed))
    wanted = list(PACKAGES)
    if result.kernel_source is None:
        source = newest_kernel_source(offered or ())
        if offered is not None and source is None:
            result.notes.append("apt offers no kernel source package (linux-source-*): the guest "
                                "image will use the distribution's stock kernel with modules in the "
                                "initramfs (boots about 3x slower than the minimal kernel)")
        else:
            result.kernel_source = source
            wanted += MINIMAL_KERNEL
    else:
        wanted += MINIMAL_KERNEL
    for entry in wanted:
        if satisfied(entry, installed):
            continue
        if offered is None:  # something is missing: the caller asks apt, then plans again
            result.install.append(entry)
            continue
        choice = result.kernel_source if entry == KERNEL_SOURCE else \
            next((alt for alt in entry.split("|") if alt in offered), None)
        if choice is None:
            result.unavailable.append(entry)
        else:
            result.install.append(choice)
    if result.unavailable:
        result.notes.append("apt offers none of: " + ", ".join(result.unavailable)
                            + " (continuing without; what needs them will say so)")
    return result


# ---- probes -------------------------------------------------------------------------------

def installed_packages() -> set[str]:
    """Names of the packages dpkg has fully installed."""
    res = subprocess.run(["dpkg-query", "-W", "-f=${Package}\t${Status}\n"],
                         capture_output=True, text=True)
    found = set()
    for line in res.stdout.splitlines():
        pkg, _, status = line.partition("\t")
        if status.strip() == "install ok installed":
            found.add(pkg.split(":")[0])
    return found


def offered_packages() -> set[str]:
    """Names of the packages apt can install (``apt-cache pkgnames``; run apt-get update first)."""
    res = subprocess.run(["apt-cache", "pkgnames"], capture_output=True, text=True)
    return set(res.stdout.split())
