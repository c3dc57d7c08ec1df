"""vPMU, live: the ``pmu`` CPU property QEMU got (host) and perf counters (guest).

Host: ``-cpu ...,pmu=on|off`` on QEMU's command line and the vCPU's ``pmu`` QOM property
agree with the request; with no request (None) the command line carries no ``pmu=``.
Guest (needs KVM: under TCG the guest never sees a PMU): ``perfprobe`` counts cycles
iff pmu is on, and the kernel's "Performance Events" boot line agrees.
"""

from __future__ import annotations

from conformance.live import GUEST, HOST, expect
from conformance.live import qemu
from conformance.live.shell import key_values, sh, sh_ok

FEATURE = "pmu"
ON, OFF = ("on", "true", "yes"), ("off", "false", "no")


def _flag(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.lower() in ON


def check_host(guest, pmu: bool | None) -> dict:
    """QEMU's -cpu ``pmu=`` and the vCPU's QOM ``pmu`` property match ``pmu``."""
    props = qemu.cpu_properties(qemu.cmdline(guest.pid))
    arg = _flag(props.get("pmu"))
    qom = qemu.qom_get(guest, qemu.cpu_qom_path(guest), "pmu")
    evidence = {"cpu": props, "qom_pmu": qom}
    expect(arg == pmu, FEATURE, HOST, "pmu= on QEMU's -cpu", pmu, arg, **evidence)
    if pmu is not None:
        expect(bool(qom) == pmu, FEATURE, HOST, "vCPU QOM property pmu", pmu, qom, **evidence)
    return evidence


def guest_kvm_reason(virt_type: str, why: str = "") -> str | None:
    """Why the guest level cannot run (None when it can); ``why``: why KVM is not used."""
    if virt_type != "kvm":
        return f"vPMU in-guest check needs KVM; accelerator is {accelerator_name(virt_type, why)}"
    return None


def accelerator_name(virt_type: str, why: str = "") -> str:
    name = "TCG" if virt_type == "qemu" else virt_type
    return f"{name} ({why})" if why else name


def check_guest(guest, pmu: bool | None) -> dict:
    """perfprobe counts cycles iff ``pmu`` (None: not checked beyond reporting)."""
    probe = key_values(sh_ok(guest, "perfprobe"))
    dmesg = sh(guest, "dmesg | grep -i 'Performance Events' | head -n 3").stdout
    dmesg = dmesg.decode() if isinstance(dmesg, bytes) else dmesg
    counting = probe.get("cycles", "unsupported").isdigit()
    no_pmu_line = "PMU not available" in dmesg or "no PMU" in dmesg
    evidence = {"perfprobe": probe, "dmesg": dmesg.strip()}
    if pmu is not None:
        expect(counting == pmu, FEATURE, GUEST, "perf cycles counter usable", pmu, counting,
               **evidence)
        expect(no_pmu_line != pmu, FEATURE, GUEST, "kernel PMU boot line",
               "PMU detected" if pmu else "PMU not available", dmesg.strip(), **evidence)
    return evidence
