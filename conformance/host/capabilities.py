"""Measured host capabilities that decide which live levels can run here.

Everything is read from the running system (rlimits, /proc, /sys, libvirt), never assumed:
locked-memory limits of this process and of libvirtd, CAP_SYS_RESOURCE, /dev/kvm, the
host PMU, huge pages, libvirt and QEMU versions. :func:`probe` returns a
:class:`HostCapabilities`; :func:`locked_memory_blocker` turns it into the exact reason a
locked-memory guest cannot start (or None). No pytest, no configuration.
"""

from __future__ import annotations

import os
import resource
from dataclasses import asdict, dataclass, field

CAP_SYS_RESOURCE = 24
MiB = 1024 * 1024


@dataclass(frozen=True)
class ProcessLimits:
    """RLIMIT_MEMLOCK (bytes, None = unlimited) and CAP_SYS_RESOURCE of one process."""
    pid: int | None
    name: str
    memlock_soft: int | None
    memlock_hard: int | None
    cap_sys_resource: bool


@dataclass(frozen=True)
class HostCapabilities:
    harness: ProcessLimits
    libvirtd: ProcessLimits | None
    kvm_device: str  # "rw", "absent", or "no access"
    host_pmu: bool
    host_pmu_detail: str
    hugepages: dict = field(default_factory=dict)  # page size kB -> total pages
    libvirt_version: str | None = None
    qemu_version: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _limit(value: int) -> int | None:
    return None if value == resource.RLIM_INFINITY else value


def _parse_limit(text: str) -> int | None:
    return None if text == "unlimited" else int(text)


def cap_effective(status_text: str) -> int:
    """The CapEff bit mask from the text of /proc/PID/status."""
    for line in status_text.splitlines():
        if line.startswith("CapEff:"):
            return int(line.split()[1], 16)
    return 0


def memlock_from_limits(limits_text: str) -> tuple[int | None, int | None]:
    """(soft, hard) 'Max locked memory' from the text of /proc/PID/limits."""
    for line in limits_text.splitlines():
        if line.startswith("Max locked memory"):
            soft, hard = line[len("Max locked memory"):].split()[:2]
            return _parse_limit(soft), _parse_limit(hard)
    raise ValueError("no 'Max locked memory' row")


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


def harness_limits() -> ProcessLimits:
    soft, hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    caps = cap_effective(_read("/proc/self/status"))
    return ProcessLimits(os.getpid(), "harness", _limit(soft), _limit(hard),
                         bool(caps >> CAP_SYS_RESOURCE & 1))


def find_process(name: str, proc: str = "/proc") -> int | None:
    """Pid of the first process whose comm is ``name`` (lowest pid), or None."""
    for entry in sorted((e for e in os.listdir(proc) if e.isdigit()), key=int):
        try:
            if _read(f"{proc}/{entry}/comm").strip() == name:
                return int(entry)
        except OSError:
            continue
    return None


def process_limits(pid: int, name: str, proc: str = "/proc") -> ProcessLimits:
    soft, hard = memlock_from_limits(_read(f"{proc}/{pid}/limits"))
    caps = cap_effective(_read(f"{proc}/{pid}/status"))
    return ProcessLimits(pid, name, soft, hard, bool(caps >> CAP_SYS_RESOURCE & 1))


def kvm_device(path: str = "/dev/kvm") -> str:
    if not os.path.exists(path):
        return "absent"
    return "rw" if os.access(path, os.R_OK | os.W_OK) else "no access"


def host_pmu(sysfs: str = "/sys/bus/event_source/devices") -> tuple[bool, str]:
    """Whether the host kernel has a hardware PMU (a "cpu" perf event source)."""
    try:
        sources = sorted(os.listdir(sysfs))
    except OSError as exc:
        return False, f"cannot list {sysfs}: {exc.strerror}"
    hardware = [s for s in sources if s in ("cpu", "cpu_core", "cpu_atom", "armv8_pmuv3")]
    if hardware:
        return True, f"perf event sources: {', '.join(hardware)}"
    return False, f"no hardware perf event source in {sysfs} (have: {', '.join(sources)})"


def hugepages(sysfs: str = "/sys/kernel/mm/hugepages") -> dict:
    out = {}
    try:
        for entry in sorted(os.listdir(sysfs)):
            size = entry.removeprefix("hugepages-").removesuffix("kB")
            out[size] = int(_read(f"{sysfs}/{entry}/nr_hugepages"))
    except OSError:
        pass
    return out


def _version(number: int) -> str:
    return f"{number // 1000000}.{number // 1000 % 1000}.{number % 1000}"


def probe(conn=None) -> HostCapabilities:
    """Measure this host. ``conn`` (a libvirt connection) adds libvirt/QEMU versions."""
    pid = find_process("libvirtd")
    daemon = process_limits(pid, "libvirtd") if pid else None
    pmu, pmu_detail = host_pmu()
    libvirt_version = qemu_version = None
    if conn is not None:
        libvirt_version = _version(conn.getLibVersion())
        qemu_version = _version(conn.getVersion())
    return HostCapabilities(harness_limits(), daemon, kvm_device(), pmu, pmu_detail,
                            hugepages(), libvirt_version, qemu_version)


def _size(value: int | None) -> str:
    if value is None:
        return "unlimited"
    return f"{value // MiB} MiB" if value % MiB == 0 else f"{value} bytes"


def locked_memory_blocker(caps: HostCapabilities, guest_ram_bytes: int) -> str | None:
    """Why a guest with locked memory cannot start here, or None if it can.

    libvirt raises the QEMU process's RLIMIT_MEMLOCK (to unlimited, or to the memtune
    hard limit); above the hard limit that needs CAP_SYS_RESOURCE in libvirtd. The
    harness's own limits are reported too (they are what this process inherited).
    """
    proc = caps.libvirtd or caps.harness
    if proc.cap_sys_resource:
        return None
    if proc.memlock_hard is None or proc.memlock_hard >= guest_ram_bytes:
        return None
    where = "libvirtd" if caps.libvirtd else "this process (libvirtd not found)"
    return (f"RLIMIT_MEMLOCK hard limit {_size(proc.memlock_hard)} in {where}, "
            f"no CAP_SYS_RESOURCE; a locked guest needs {_size(guest_ram_bytes)} or unlimited")
