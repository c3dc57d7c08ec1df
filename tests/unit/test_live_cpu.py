"""Unit tests of the live vPMU and hidden-hypervisor checks against a fake guest."""

import pytest

from conformance.live import LiveCheckFailed, hidden_hypervisor, pmu, qemu
from conformance.live.fakes import (INTEL_PMU_LINE, KVM_SIGNATURE, NO_COUNTER, FakeGuest,
                                    cpu_guest, write_proc)


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


def test_pmu_guest():
    """pmu on needs a probe showing a PMU; off needs all three to prove there is none
    (the measured TCG readings: leaf 0xA version 0, ENOENT, 'PMU not available')."""
    on = cpu_guest(pmu_version=2, cycles="123456", dmesg=INTEL_PMU_LINE)
    off = cpu_guest()
    assert pmu.check_guest(on, True)["showing"] == ["cpuid", "kernel", "perf"]
    assert pmu.check_guest(off, False)["probes"]["perf"]["cycles"] == NO_COUNTER
    with pytest.raises(LiveCheckFailed, match="no probe"):
        pmu.check_guest(off, True)
    with pytest.raises(LiveCheckFailed, match="shows a PMU"):
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


def test_hidden_guest_compares_signature_bytes():
    """KVMKVMKVM\\0\\0\\0 only when not hidden; a TCG/other signature counts as hidden."""
    kvm = cpu_guest(signature=KVM_SIGNATURE)
    other = cpu_guest(signature=b"\0" * 12)
    assert hidden_hypervisor.check_guest(kvm, False)["kvm_signature_at"] == ["0x40000000"]
    assert hidden_hypervisor.check_guest(other, True)["kvm_signature_at"] == []
    with pytest.raises(LiveCheckFailed, match="signature"):
        hidden_hypervisor.check_guest(kvm, True)
    with pytest.raises(LiveCheckFailed, match="signature"):
        hidden_hypervisor.check_guest(other, False)
