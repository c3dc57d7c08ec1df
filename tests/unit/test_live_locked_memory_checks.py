"""Unit tests of the locked-memory live check and the host capability probe."""

import pytest

from conformance.host import capabilities as caps
from conformance.live import LiveCheckFailed, locked_memory, qemu
from conformance.live.fakes import FakeGuest, write_proc

RAM = 256 * 1024 * 1024


@pytest.fixture
def proc(tmp_path, monkeypatch):
    monkeypatch.setattr(qemu, "PROC", str(tmp_path))

    def write(mem_lock, vmlck_kib, memlock=("unlimited", "unlimited")):
        write_proc(tmp_path, 4242, ["qemu-system-x86_64", "-overcommit", f"mem-lock={mem_lock}"],
                   {"VmLck": f"{vmlck_kib} kB"}, memlock)
    return write


def test_locked_guest_passes(proc):
    """mem-lock=on, unlimited RLIMIT_MEMLOCK and VmLck about the RAM pass."""
    proc("on", 270000)
    assert locked_memory.check_host(FakeGuest(), True, RAM)["mem_lock"] == "on"


def test_catches_lock_flag_without_locked_pages(proc):
    """mem-lock=on but little locked memory (limit too low) fails."""
    proc("on", 8192, memlock=("8388608", "8388608"))
    with pytest.raises(LiveCheckFailed, match="RLIMIT_MEMLOCK"):
        locked_memory.check_host(FakeGuest(), True, RAM)
    proc("on", 8192)
    with pytest.raises(LiveCheckFailed, match="VmLck"):
        locked_memory.check_host(FakeGuest(), True, RAM)


def test_catches_mem_lock_mismatch(proc):
    """mem-lock=off for a locked request fails, and RAM locked without a request fails."""
    proc("off", 0)
    with pytest.raises(LiveCheckFailed, match="mem-lock"):
        locked_memory.check_host(FakeGuest(), True, RAM)
    assert locked_memory.check_host(FakeGuest(), False, RAM)
    proc("off", 270000)
    with pytest.raises(LiveCheckFailed, match="locked although"):
        locked_memory.check_host(FakeGuest(), False, RAM)


def limits(hard, cap):
    return caps.ProcessLimits(1, "libvirtd", hard, hard, cap)


def host(daemon):
    harness = caps.ProcessLimits(2, "harness", None, None, True)
    return caps.HostCapabilities(harness, daemon, "rw", False, "", {})


def test_blocker_names_measured_limit():
    """8 MiB hard limit without CAP_SYS_RESOURCE blocks a 256 MiB guest, with the numbers."""
    reason = caps.locked_memory_blocker(host(limits(8 * caps.MiB, False)), RAM)
    assert reason.startswith("RLIMIT_MEMLOCK hard limit 8 MiB in libvirtd, no CAP_SYS_RESOURCE")
    assert caps.locked_memory_blocker(host(limits(8 * caps.MiB, True)), RAM) is None
    assert caps.locked_memory_blocker(host(limits(None, False)), RAM) is None
    assert caps.locked_memory_blocker(host(limits(RAM, False)), RAM) is None


def test_parsers():
    """CapEff bit 24 and the 'Max locked memory' row are read from /proc text."""
    assert caps.cap_effective("Name:\tx\nCapEff:\t000001fffeffffff\n") >> 24 & 1 == 0
    assert caps.cap_effective("CapEff:\t000001ffffffffff\n") >> 24 & 1 == 1
    text = "Limit  Soft Limit  Hard Limit  Units\nMax locked memory         65536                unlimited            bytes\n"
    assert caps.memlock_from_limits(text) == (65536, None)


def test_probe_reads_this_host():
    """probe() measures this process without a libvirt connection."""
    found = caps.probe()
    assert found.harness.pid > 0 and found.kvm_device in ("rw", "absent", "no access")
