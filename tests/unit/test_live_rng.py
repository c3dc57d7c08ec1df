"""Unit tests of the live RNG checks against a fake guest."""

import os

import pytest

from conformance.live import LiveCheckFailed, rng
from conformance.live.fakes import CommandResult, FakeGuest

URANDOM = rng.Expected("/dev/urandom")
LIMITED = rng.Expected("/dev/urandom", 1024, 1000)


def qemu_rng(max_bytes=rng.QEMU_UNLIMITED_BYTES, period=65536, filename="/dev/urandom"):
    return {"/machine/peripheral/rng0": {"type": "virtio-rng-pci", "max-bytes": max_bytes,
                                         "period": period, "rng": "/objects/objrng0"},
            "/objects/objrng0": {"type": "rng-random", "filename": filename}}


def test_host_unlimited_and_limited():
    """QEMU's defaults pass for no rate; max-bytes/period must equal the requested rate."""
    assert rng.check_host(FakeGuest(qom=qemu_rng()), URANDOM)["filename"] == "/dev/urandom"
    assert rng.check_host(FakeGuest(qom=qemu_rng(1024, 1000)), LIMITED)["max-bytes"] == 1024
    with pytest.raises(LiveCheckFailed, match="rate"):
        rng.check_host(FakeGuest(qom=qemu_rng(2048, 1000)), LIMITED)
    with pytest.raises(LiveCheckFailed, match="limited although"):
        rng.check_host(FakeGuest(qom=qemu_rng(1024, 1000)), URANDOM)


def test_host_catches_wrong_backend_and_presence():
    """A /dev/zero backend fails; a device when RNG is disabled fails; none when wanted fails."""
    with pytest.raises(LiveCheckFailed, match="backend file"):
        rng.check_host(FakeGuest(qom=qemu_rng(filename="/dev/zero")), URANDOM)
    with pytest.raises(LiveCheckFailed, match="disabled"):
        rng.check_host(FakeGuest(qom=qemu_rng()), None)
    with pytest.raises(LiveCheckFailed, match="count"):
        rng.check_host(FakeGuest(qom={}), URANDOM)


def test_rate_bounds_allow_bursts_and_chunking():
    """Bounds: a burst per touched period x1.2 plus two 64-byte buffers; low 10 % of nominal."""
    low, high = rng.rate_bounds(1024, 1000, 3.0)
    assert (low, high) == (244, int(1024 * 4 * 1.2) + 128)
    assert rng.rate_bounds(5, 1000, 3.0)[0] == 0  # below one 64-byte chunk: not observable


def test_randomness_problems():
    """Zeros, a repeating block and low byte diversity are caught; urandom bytes pass."""
    assert rng.randomness_problems(os.urandom(4096)) == []
    assert rng.randomness_problems(bytes(4096))
    assert any("repeats" in p for p in rng.randomness_problems(os.urandom(32) * 64))
    assert rng.randomness_problems(b"")


def guest_reading(count, sample, current="virtio_rng.0", rngd_rc=143):
    state = CommandResult(0, f"rng_current={current}\nrng_available={current}\nrng_quality=1000\n")
    dump = CommandResult(0, f"{count}\n" + " ".join(f"{b:02x}" for b in sample) + "\n")
    return FakeGuest(shell=[("rng_current", state), ("/dev/hwrng of=", dump),
                            ("rngd", CommandResult(0, f"Terminated\nrc={rngd_rc}\n"))])


def test_guest_limited_within_bounds():
    """A limited device delivering about the rate passes; faster or silent devices fail."""
    assert rng.check_guest(guest_reading(3000, os.urandom(3000)), LIMITED)["bytes"] == 3000
    with pytest.raises(LiveCheckFailed, match="within the rate"):
        rng.check_guest(guest_reading(60000, os.urandom(4096)), LIMITED)
    with pytest.raises(LiveCheckFailed, match="within the rate"):
        rng.check_guest(guest_reading(0, b""), LIMITED)


def test_guest_unlimited_must_be_fast_and_random():
    """Unlimited must exceed the floor; /dev/zero-like bytes fail."""
    assert rng.check_guest(guest_reading(500000, os.urandom(4096)), URANDOM)
    with pytest.raises(LiveCheckFailed, match="too slow"):
        rng.check_guest(guest_reading(1000, os.urandom(1000)), URANDOM)
    with pytest.raises(LiveCheckFailed, match="non-random"):
        rng.check_guest(guest_reading(500000, bytes(4096)), URANDOM)


def test_guest_catches_other_hwrng_and_dead_rngd():
    """Another hwrng in use fails; rngd exiting by itself fails."""
    with pytest.raises(LiveCheckFailed, match="hwrng in use"):
        rng.check_guest(guest_reading(3000, os.urandom(3000), current="none"), LIMITED)
    with pytest.raises(LiveCheckFailed, match="rngd"):
        rng.check_guest(guest_reading(3000, os.urandom(3000), rngd_rc=1), LIMITED)


def test_guest_disabled_has_no_virtio_rng():
    """With RNG disabled, virtio_rng must not be an available hwrng."""
    assert rng.check_guest(guest_reading(0, b"", current=""), None)
    with pytest.raises(LiveCheckFailed, match="disabled"):
        rng.check_guest(guest_reading(0, b""), None)


def test_expected_from_reference_settings():
    """The reference's RngSettings map onto Expected; a zero rate means unlimited."""
    from conformance.reference import RngSettings
    assert rng.expected_from(RngSettings("/dev/urandom", 1024, 1000)) == LIMITED
    assert not rng.expected_from(RngSettings("/dev/urandom")).limited
    assert rng.expected_from(None) is None
