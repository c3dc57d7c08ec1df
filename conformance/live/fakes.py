"""An in-memory guest with the lab Guest's interface, for unit tests of the live checks.

It models just enough of QEMU (QOM tree, query-pci, vCPU properties, a /proc tree written
by :func:`write_proc`) and of the guest (shell commands answered by rules) to make every
check pass on a healthy guest and fail on a broken one.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from lxml import etree

from conformance.errors import GuestError, WaitTimeout

CPU_PATH = "/machine/unattached/device[0]"


@dataclass(frozen=True)
class CommandResult:
    rc: int
    stdout: str = ""
    stderr: str = ""


@dataclass(frozen=True)
class Event:
    kind: str
    detail: object = None
    at: float = 0.0


class AgentError(GuestError):
    """Stands in for the lab's AgentError (libvirt's refusal of an agent command)."""


@dataclass
class FakeGuest:
    pid: int = 4242
    xml: str = "<domain type='qemu'><devices/></domain>"
    qom: dict = field(default_factory=dict)  # path -> {"type": T, prop: value}
    pci: list = field(default_factory=list)  # (vendor, device, qdev_id)
    cpu: dict = field(default_factory=lambda: {"pmu": False, "kvm": True})
    shell: list = field(default_factory=list)  # (regex, CommandResult or callable(script))
    agent_error: str | None = None
    agent_version: str = "7.2.22"
    agent_commands: dict = field(default_factory=lambda: {"guest-exec": True, "guest-ping": True})
    events: list = field(default_factory=list)
    boots: list = field(default_factory=lambda: ["boot-1"])  # boot ids seen on the console
    next_boot_ids: list = field(default_factory=list)  # boots that follow a reset
    domain_state: str = "running"
    state_reason: str = ""
    on_exec: object = None  # callable(argv) run before answering (e.g. to fire events)
    console: str = ""
    name: str = "cfm-fake"
    uuid: str = "00000000-0000-4000-8000-00000000f00d"
    vcpu_threads: list = field(default_factory=lambda: [4243])  # host thread id per vCPU

    # -- host side --------------------------------------------------------------------
    def live_xml(self):
        return etree.fromstring(self.xml.encode())

    def qmp(self, command, **arguments):
        if command == "qom-list":
            path = arguments["path"].rstrip("/")
            children = [{"name": p.rsplit("/", 1)[1], "type": f"child<{v['type']}>"}
                        for p, v in self.qom.items() if p.rsplit("/", 1)[0] == path]
            return [{"name": "type", "type": "string"}] + children
        if command == "qom-get":
            path, prop = arguments["path"], arguments["property"]
            if path == CPU_PATH:
                return self.cpu[prop]
            try:
                return self.qom[path][prop]
            except KeyError:
                raise RuntimeError(f"Property '{prop}' not found at {path}") from None
        if command == "query-pci":
            return [{"bus": 0, "devices": [
                {"id": {"vendor": v, "device": d}, "qdev_id": q, "slot": i}
                for i, (v, d, q) in enumerate(self.pci)]}]
        if command == "query-cpus-fast":
            return [{"cpu-index": i, "qom-path": CPU_PATH if i == 0 else f"{CPU_PATH}-{i}",
                     "thread-id": tid} for i, tid in enumerate(self.vcpu_threads)]
        raise RuntimeError(f"fake QMP has no {command}")

    # -- guest side -------------------------------------------------------------------
    def agent(self, command, **arguments):
        if self.agent_error:
            raise AgentError(self.agent_error)
        if command == "guest-ping":
            return {}
        if command == "guest-info":
            return {"version": self.agent_version, "supported_commands": [
                {"name": n, "enabled": e} for n, e in self.agent_commands.items()]}
        raise AgentError(f"fake agent has no {command}")

    def ping(self):
        return self.agent("guest-ping")

    def info(self):
        return self.agent("guest-info")

    def exec(self, argv, timeout=30):
        if self.agent_error:
            raise AgentError(self.agent_error)
        if self.on_exec:
            self.on_exec(argv)
        script = argv[-1] if argv[:2] == ["/bin/sh", "-c"] else " ".join(argv)
        if argv[0] == "/bin/echo":
            return CommandResult(0, " ".join(argv[1:]) + "\n")
        for pattern, answer in self.shell:
            if re.search(pattern, script):
                return answer(script) if callable(answer) else answer
        return CommandResult(127, "", f"fake guest: no rule for {script!r}")

    def console_log(self):
        return self.console

    def console_tail(self, n=20):
        return "\n".join(self.console.splitlines()[-n:])

    def boot_ids(self):
        if self.next_boot_ids and self.events:  # a fired reset makes the next boot appear
            self.boots.append(self.next_boot_ids.pop(0))
        return list(self.boots)

    def wait_for_boot(self, timeout=60, after=0):
        ids = self.boot_ids()
        if len(ids) <= after:
            raise TimeoutError("no new boot")
        return ids[after]

    def wait_for_agent(self, timeout=60):
        return self.ping()

    def state(self):
        return self.domain_state, self.state_reason

    def wait_for_state(self, state, timeout=60, reason=None):
        if self.domain_state != state:
            raise WaitTimeout(f"{self.name}: not {state}", timeout, (self.domain_state, ""))
        return self.state()

    def events_mark(self):
        return 0

    def require_events_since(self, mark, what):
        """The fake's connection never breaks: nothing is lost."""

    def destroy(self):
        self.domain_state = "shutoff"


def write_proc(root, pid: int, argv: list[str], status: dict | None = None,
               memlock: tuple[str, str] = ("8388608", "8388608")) -> None:
    """Write /proc/PID/{cmdline,status,limits} of a fake QEMU under ``root``."""
    base = os.path.join(str(root), str(pid))
    os.makedirs(base, exist_ok=True)
    with open(os.path.join(base, "cmdline"), "wb") as f:
        f.write(b"\0".join(a.encode() for a in argv) + b"\0")
    with open(os.path.join(base, "status"), "w") as f:
        for key, value in {"Name": "qemu-system-x86", "VmLck": "0 kB", **(status or {})}.items():
            f.write(f"{key}:\t{value}\n")
    with open(os.path.join(base, "limits"), "w") as f:
        f.write("Limit                     Soft Limit           Hard Limit           Units     \n")
        f.write(f"Max locked memory         {memlock[0]:<20} {memlock[1]:<20} bytes     \n")


# -- CPU probes (images/guest-tools/cpuid.c, perfprobe.c, the kernel's boot line) ---------
KVM_SIGNATURE = b"KVMKVMKVM\0\0\0"
TCG_SIGNATURE = b"TCGTCGTCGTCG"  # what CPUID 0x40000000 shows under TCG (measured)
HYPERV_SIGNATURE = b"Microsoft Hv"
INTEL_PMU_LINE = "Performance Events: Skylake events, full-width counters, Intel PMU driver."
AMD_PMU_LINE = "Performance Events: AMD PMU driver."
NO_PMU_LINE = ("Performance Events: PMU not available due to virtualization, using software "
               "events only.")  # measured under TCG, pmu on and off alike
NO_COUNTER = "unsupported errno=ENOENT"  # perfprobe without a hardware PMU (measured)


def _signature_lines(prefix: str, signature: bytes) -> list[str]:
    text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in signature)
    return [f"{prefix}={text}", f"{prefix}_hex={signature.hex()}"]


def cpuid_output(signature: bytes = TCG_SIGNATURE, next_signature: bytes = bytes(12),
                 pmu_version: int = 0, max_basic_leaf: int = 0xD, drop: tuple = ()) -> str:
    """What /bin/cpuid prints; ``drop``: keys a broken probe leaves out."""
    lines = ["hypervisor_bit=1", f"max_basic_leaf={max_basic_leaf:#x}",
             *_signature_lines("hv_signature", signature), "hv_max_leaf=0x40000001",
             *_signature_lines("hv2_signature", next_signature),
             f"pmu_version={pmu_version}", f"pmu_gp_counters={4 if pmu_version else 0}"]
    return "".join(f"{line}\n" for line in lines if line.partition("=")[0] not in drop)


def cpu_guest(*, signature: bytes = TCG_SIGNATURE, next_signature: bytes = bytes(12),
              pmu_version: int = 0, max_basic_leaf: int = 0xD, cycles: str = NO_COUNTER,
              dmesg: str = NO_PMU_LINE, dmesg_rc: int = 0, qom_pmu: bool = False,
              qom_kvm: bool = True, drop: tuple = ()) -> FakeGuest:
    """A guest whose cpuid, perfprobe and dmesg answer as given (defaults: a TCG guest)."""
    cpuid = cpuid_output(signature, next_signature, pmu_version, max_basic_leaf, drop)
    return FakeGuest(cpu={"pmu": qom_pmu, "kvm": qom_kvm}, shell=[
        ("^cpuid", CommandResult(0, cpuid)),
        ("^perfprobe", CommandResult(0, f"cycles={cycles}\ninstructions={cycles}\n")),
        ("dmesg", CommandResult(dmesg_rc, f"[    0.061000] {dmesg}\n" if dmesg else "",
                                "dmesg: klogctl: Operation not permitted" if dmesg_rc else ""))])
