"""Unit tests of the live vPMU and hidden-hypervisor checks against a fake guest."""

import pytest

from conformance.live import LiveCheckFailed, hidden_hypervisor, pmu, qemu
from conformance.live.fakes import CommandResult, FakeGuest, write_proc


@pytest.fixture
def cpu_arg(tmp_path, monkeypatch):
    """Write a fake QEMU command line with the given -cpu value."""
    monkeypatch.setattr(qemu, "PROC", str(tmp_path))
    return lambda value: write_proc(tmp_path, 4242, ["qemu-system-x86_64", "-cpu", value])


def test_cpu_properties_parse():
    """-cpu MODEL,k=v,flag is parsed; the last -cpu wins."""
    argv = ["q", "-cpu", "a", "-cpu", "qemu64,kvm=off,pmu=on,+x2apic"]
    assert qemu.cpu_properties(argv) == {"model": "qemu64", "kvm": "off", "pmu": "on",
                                         "+x2apic": "on"}


@pytest.mark.parametrize("arg,qom,want", [("qemu64,pmu=on", True, True),
                                          ("qemu64,pmu=off", False, False),
                                          ("qemu64", False, None)])
def test_pmu_host_passes(cpu_arg, arg, qom, want):
    """pmu=on/off and no pmu= (unset) each pass when the request agrees."""
    cpu_arg(arg)
    assert pmu.check_host(FakeGuest(cpu={"pmu": qom, "kvm": True}), want)


def test_pmu_host_catches_disagreement(cpu_arg):
    """XML asked pmu off but QEMU got pmu=on (or the vCPU kept a PMU): fails."""
    cpu_arg("qemu64,pmu=on")
    with pytest.raises(LiveCheckFailed, match="pmu= on"):
        pmu.check_host(FakeGuest(cpu={"pmu": True, "kvm": True}), False)
    cpu_arg("qemu64,pmu=off")
    with pytest.raises(LiveCheckFailed, match="QOM"):
        pmu.check_host(FakeGuest(cpu={"pmu": True, "kvm": True}), False)
    cpu_arg("qemu64,pmu=off")
    with pytest.raises(LiveCheckFailed, match="pmu= on"):
        pmu.check_host(FakeGuest(cpu={"pmu": False, "kvm": True}), None)


def probe_guest(cycles, dmesg):
    return FakeGuest(shell=[("^perfprobe", CommandResult(0, f"cycles={cycles}\ninstructions=1\n")),
                            ("dmesg", CommandResult(0, dmesg))])


def test_pmu_guest():
    """pmu on needs counting cycles and no 'PMU not available' line; off needs the opposite."""
    on = probe_guest("123456", "Performance Events: Skylake events, full-width counters, Intel PMU driver.")
    off = probe_guest("unsupported errno=ENOENT", "Performance Events: PMU not available due to virtualization")
    assert pmu.check_guest(on, True) and pmu.check_guest(off, False)
    with pytest.raises(LiveCheckFailed, match="cycles"):
        pmu.check_guest(off, True)
    with pytest.raises(LiveCheckFailed, match="cycles"):
        pmu.check_guest(on, False)


def test_guest_levels_need_kvm():
    """Under TCG the guest levels name the accelerator as the reason to skip."""
    assert pmu.guest_kvm_reason("qemu", "KVM boot probe hung") == (
        "vPMU in-guest check needs KVM; accelerator is TCG (KVM boot probe hung)")
    assert pmu.guest_kvm_reason("kvm") is None
    assert "accelerator is TCG" in hidden_hypervisor.guest_kvm_reason("qemu")


def test_hidden_host(cpu_arg):
    """kvm=off and QOM kvm False iff hidden; either disagreeing fails."""
    cpu_arg("qemu64,kvm=off")
    assert hidden_hypervisor.check_host(FakeGuest(cpu={"pmu": False, "kvm": False}), True)
    with pytest.raises(LiveCheckFailed, match="kvm=off"):
        hidden_hypervisor.check_host(FakeGuest(cpu={"pmu": False, "kvm": False}), False)
    cpu_arg("qemu64")
    assert hidden_hypervisor.check_host(FakeGuest(cpu={"pmu": False, "kvm": True}), False)
    with pytest.raises(LiveCheckFailed, match="QOM"):
        hidden_hypervisor.check_host(FakeGuest(cpu={"pmu": False, "kvm": False}), False)


def cpuid_guest(signature: bytes):
    text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in signature)
    out = f"hypervisor_bit=1\nhv_signature={text}\nhv_signature_hex={signature.hex()}\n"
    return FakeGuest(shell=[("^cpuid", CommandResult(0, out))])


def test_hidden_guest_compares_signature_bytes():
    """KVMKVMKVM\\0\\0\\0 only when not hidden; a TCG/other signature counts as hidden."""
    kvm = cpuid_guest(b"KVMKVMKVM\0\0\0")
    other = cpuid_guest(b"\0" * 12)
    assert hidden_hypervisor.check_guest(kvm, False) and hidden_hypervisor.check_guest(other, True)
    with pytest.raises(LiveCheckFailed, match="signature"):
        hidden_hypervisor.check_guest(kvm, True)
    with pytest.raises(LiveCheckFailed, match="signature"):
        hidden_hypervisor.check_guest(other, False)
