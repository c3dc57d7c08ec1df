"""Hidden hypervisor, live: ``kvm=off`` on QEMU's -cpu (host), CPUID hypervisor leaves (guest).

Host: ``-cpu ...,kvm=off`` and the vCPU's QOM ``kvm`` property False iff hidden.
Guest (needs KVM: TCG exposes its own "TCGTCGTCGTCG" signature either way): the 12-byte
signature "KVMKVMKVM\\0\\0\\0" is at CPUID 0x40000000, or at 0x40000100 when Hyper-V's
leaves take 0x40000000 (Windows guests), iff not hidden. Bytes are compared, not a count
of "KVM" substrings, which cannot fail. A probe that printed no 12-byte signature for
either leaf is a :class:`GuestError`, never "hidden".
"""

from __future__ import annotations

from conformance.errors import GuestError
from conformance.live import GUEST, HOST, clip, expect
from conformance.live import qemu
from conformance.live.pmu import accelerator_name
from conformance.live.shell import key_values, sh_ok

FEATURE = "hidden_hypervisor"
KVM_SIGNATURE_HEX = b"KVMKVMKVM\0\0\0".hex()
LEAVES = {"hv_signature": "0x40000000", "hv2_signature": "0x40000100"}  # cpuid's keys


def check_host(guest, hidden: bool) -> dict:
    """``kvm=off`` on -cpu and QOM ``kvm`` False iff ``hidden``."""
    props = qemu.cpu_properties(qemu.guest_cmdline(guest))
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


def signatures(guest) -> dict[str, str]:
    """{leaf: signature hex} of CPUID 0x40000000 and 0x40000100; GuestError if not printed."""
    leaves = key_values(sh_ok(guest, "cpuid"))
    out = {}
    for key, leaf in LEAVES.items():
        value = leaves.get(f"{key}_hex", "")
        if len(value) != 24 or any(c not in "0123456789abcdef" for c in value):
            raise GuestError(f"cpuid printed no 12-byte signature for leaf {leaf} "
                             f"({key}_hex={value!r}): {clip(leaves)}")
        out[leaf] = value
    return out


def check_guest(guest, hidden: bool) -> dict:
    """The KVM signature is at CPUID 0x40000000 or 0x40000100 iff not ``hidden``."""
    found = signatures(guest)
    at = [leaf for leaf, value in found.items() if value == KVM_SIGNATURE_HEX]
    evidence = {"hv_signature_hex": found["0x40000000"], "hv2_signature_hex": found["0x40000100"],
                "kvm_signature_at": at}
    shown = [bytes.fromhex(v).decode("ascii", "replace") for v in found.values()]
    expect(bool(at) != hidden, FEATURE, GUEST, "KVM signature in CPUID 0x40000000/0x40000100",
           "no KVMKVMKVM" if hidden else "KVMKVMKVM\\0\\0\\0", shown, **evidence)
    return evidence
