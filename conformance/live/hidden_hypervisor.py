"""Hidden hypervisor, live: ``kvm=off`` on QEMU's -cpu (host) and CPUID 0x40000000 (guest).

Host: ``-cpu ...,kvm=off`` and the vCPU's QOM ``kvm`` property False iff hidden.
Guest (needs KVM: TCG exposes no KVM signature either way): the 12-byte CPUID leaf
0x40000000 signature is "KVMKVMKVM\\0\\0\\0" iff not hidden (compare bytes, not a count of
"KVM" substrings, which cannot fail).
"""

from __future__ import annotations

from conformance.live import GUEST, HOST, expect
from conformance.live import qemu
from conformance.live.pmu import accelerator_name
from conformance.live.shell import key_values, sh_ok

FEATURE = "hidden_hypervisor"
KVM_SIGNATURE_HEX = b"KVMKVMKVM\0\0\0".hex()


def check_host(guest, hidden: bool) -> dict:
    """``kvm=off`` on -cpu and QOM ``kvm`` False iff ``hidden``."""
    props = qemu.cpu_properties(qemu.cmdline(guest.pid))
    arg_hidden = props.get("kvm", "on").lower() in ("off", "false", "no")
    qom = qemu.qom_get(guest, qemu.cpu_qom_path(guest), "kvm")
    evidence = {"cpu": props, "qom_kvm": qom}
    expect(arg_hidden == hidden, FEATURE, HOST, "kvm=off on QEMU's -cpu", hidden, arg_hidden,
           **evidence)
    expect(bool(qom) != hidden, FEATURE, HOST, "vCPU QOM property kvm", not hidden, qom,
           **evidence)
    return evidence


def guest_kvm_reason(virt_type: str, why: str = "") -> str | None:
    """Why the guest level cannot run (None when it can); ``why``: why KVM is not used."""
    if virt_type != "kvm":
        return ("hidden-hypervisor in-guest check needs KVM (TCG shows no KVM signature "
                f"either way); accelerator is {accelerator_name(virt_type, why)}")
    return None


def check_guest(guest, hidden: bool) -> dict:
    """CPUID 0x40000000 carries the KVM signature iff not ``hidden``."""
    leaves = key_values(sh_ok(guest, "cpuid"))
    signature = leaves.get("hv_signature_hex", "")
    shows_kvm = signature == KVM_SIGNATURE_HEX
    evidence = {"hv_signature": leaves.get("hv_signature"), "hv_signature_hex": signature,
                "hypervisor_bit": leaves.get("hypervisor_bit")}
    expect(shows_kvm != hidden, FEATURE, GUEST, "KVM signature in CPUID 0x40000000",
           "not KVMKVMKVM" if hidden else "KVMKVMKVM\\0\\0\\0", leaves.get("hv_signature"),
           **evidence)
    return evidence
