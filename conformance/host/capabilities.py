"""Measured host capabilities that decide which live levels can run here.

Everything is read from the running system (rlimits, /proc, /sys, libvirt), never assumed:
locked-memory limits of this process and of the libvirt daemon (libvirtd or virtqemud),
CAP_SYS_RESOURCE, /dev/kvm, the host PMU, huge pages, libvirt and QEMU versions. For a
remote libvirt host the daemon's and the host's facts are read on that host over its shell
(:mod:`conformance.lab.host`); without one they are reported unknown, with the reason. :func:`probe` returns a
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
    libvirt_uri: str | None = None
    unknown: str | None = None  # why the daemon's limits could not be measured (remote host)
    amd_sev: str = "unknown"  # kvm_amd's sev parameter: "enabled", "disabled", "kvm_amd not loaded"

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


SEV_PARAMETER = "/sys/module/kvm_amd/parameters/sev"


def amd_sev(text: str | None) -> str:
    """AMD SEV as the host kernel offers it, from the text of :data:`SEV_PARAMETER` (None:
    the file is absent, kvm_amd is not loaded)."""
    if text is None:
        return "kvm_amd not loaded"
    return "enabled" if text.strip() in ("Y", "1") else "disabled"


def _read_sev(path: str = SEV_PARAMETER) -> str:
    try:
        with open(path) as handle:
            return amd_sev(handle.read())
    except FileNotFoundError:
        return amd_sev(None)
    except OSError as exc:
        return f"unknown ({path}: {exc.strerror})"


def sev_blocker(caps: "HostCapabilities") -> str | None:
    """Why a memory-encrypted (AMD SEV) guest cannot start on the host, or None."""
    if caps.amd_sev == "enabled" and caps.kvm_device == "rw":
        return None
    sev = ("the kvm_amd module is not loaded" if caps.amd_sev == "kvm_amd not loaded"
           else f"AMD SEV is {caps.amd_sev}")
    return (f"memory-encrypted guest cannot start here: {sev} ({SEV_PARAMETER}), "
            f"/dev/kvm is {caps.kvm_device}; it needs KVM on an AMD host "
            "with SEV enabled, and UEFI firmware the sandbox does not boot (level xml only)")


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


DAEMONS = ("libvirtd", "virtqemud")  # monolithic or modular libvirt


def probe(conn=None, host=None) -> HostCapabilities:
    """Measure the libvirt host: this machine, or ``host`` (a remote
    :func:`conformance.lab.host.host_access`). ``conn`` adds libvirt/QEMU versions."""
    libvirt_version = qemu_version = uri = None
    if conn is not None:
        libvirt_version = _version(conn.getLibVersion())
        qemu_version = _version(conn.getVersion())
        uri = conn.getURI()
    if host is not None and not host.local:
        return _probe_remote(host, libvirt_version, qemu_version, uri)
    pid = name = None
    for name in DAEMONS:
        pid = find_process(name)
        if pid:
            break
    daemon = process_limits(pid, name) if pid else None
    pmu, pmu_detail = host_pmu()
    return HostCapabilities(harness_limits(), daemon, kvm_device(), pmu, pmu_detail,
                            hugepages(), libvirt_version, qemu_version, uri, amd_sev=_read_sev())


# One shell round trip for every remote fact; sections separated by "@@ name".
_REMOTE_FACTS = r"""
for n in libvirtd virtqemud; do p=$(pgrep -xo "$n") && { echo "@@ daemon $n $p"; break; }; done
[ -n "$p" ] && { echo "@@ limits"; cat /proc/$p/limits; echo "@@ status"; cat /proc/$p/status; }
echo "@@ kvm"; if [ ! -e /dev/kvm ]; then echo absent; elif [ -r /dev/kvm ] && [ -w /dev/kvm ]; then echo rw; else echo "no access"; fi
echo "@@ events"; ls /sys/bus/event_source/devices 2>&1
echo "@@ sev"; cat /sys/module/kvm_amd/parameters/sev 2>/dev/null || echo absent
echo "@@ hugepages"; for d in /sys/kernel/mm/hugepages/hugepages-*; do [ -e "$d" ] && echo "${d##*/} $(cat $d/nr_hugepages)"; done
true
"""


def _sections(text: str) -> dict[str, list[str]]:
    out, current = {}, None
    for line in text.splitlines():
        if line.startswith("@@ "):
            current = line[3:].split()[0]
            out[current] = line[3:].split()[1:]
            out[current + ":lines"] = []
        elif current:
            out[current + ":lines"].append(line)
    return out


def _probe_remote(host, libvirt_version, qemu_version, uri) -> HostCapabilities:
    from conformance.errors import HarnessError
    try:
        done = host.run(["sh", "-c", _REMOTE_FACTS])
    except HarnessError as exc:
        return HostCapabilities(harness_limits(), None, "unknown", False, f"unknown: {exc}", {},
                                libvirt_version, qemu_version, uri, unknown=str(exc))
    facts = _sections(done.stdout)
    daemon = None
    unknown = None
    if "daemon" in facts and "limits" in facts:
        name, pid = facts["daemon"]
        soft, hard = memlock_from_limits("\n".join(facts["limits:lines"]))
        caps = cap_effective("\n".join(facts["status:lines"]))
        daemon = ProcessLimits(int(pid), name, soft, hard, bool(caps >> CAP_SYS_RESOURCE & 1))
    else:
        unknown = f"no {' or '.join(DAEMONS)} process found on the host of {uri}"
    kvm = (facts.get("kvm:lines") or ["unknown"])[0]
    sources = facts.get("events:lines", [])
    hardware = [s for s in sources if s in ("cpu", "cpu_core", "cpu_atom", "armv8_pmuv3")]
    pmu_detail = (f"perf event sources: {', '.join(hardware)}" if hardware else
                  f"no hardware perf event source (have: {', '.join(sources)})")
    pages = {}
    for line in facts.get("hugepages:lines", []):
        entry, _, count = line.partition(" ")
        pages[entry.removeprefix("hugepages-").removesuffix("kB")] = int(count or 0)
    sev = (facts.get("sev:lines") or ["absent"])[0]
    return HostCapabilities(harness_limits(), daemon, kvm, bool(hardware), pmu_detail, pages,
                            libvirt_version, qemu_version, uri, unknown,
                            amd_sev=amd_sev(None if sev == "absent" else sev))


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
    if caps.libvirtd is None and caps.unknown:
        return f"RLIMIT_MEMLOCK of the libvirt daemon cannot be measured: {caps.unknown}"
    proc = caps.libvirtd or caps.harness
    if proc.cap_sys_resource:
        return None
    if proc.memlock_hard is None or proc.memlock_hard >= guest_ram_bytes:
        return None
    where = caps.libvirtd.name if caps.libvirtd else "this process (no libvirt daemon found)"
    return (f"RLIMIT_MEMLOCK hard limit {_size(proc.memlock_hard)} in {where}, "
            f"no CAP_SYS_RESOURCE; a locked guest needs {_size(guest_ram_bytes)} or unlimited")
