"""Unit tests of the live RNG checks against a fake guest."""

import os

import pytest

from conformance.errors import GuestError
from conformance.live import LiveCheckFailed, NotApplicable, rng
from conformance.live.fakes import CommandResult, FakeGuest

URANDOM = rng.Expected("/dev/urandom")


@pytest.fixture(autouse=True)
def pauses(monkeypatch):
    """The pauses before retried windows, recorded instead of slept."""
    slept = []
    monkeypatch.setattr(rng.time, "sleep", slept.append)
    return slept

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


def test_rate_bounds_allow_the_starting_quota_and_chunking():
    """Bounds of k whole periods: k to k+1 quotas (the quota left when the window starts),
    less or more two 64-byte chunks."""
    low, high = rng.rate_bounds(1024, 1000, 4.0)
    assert (low, high) == (4 * 1024 - 128, 5 * 1024 + 128)


# Bytes read per window (min, max), measured with benchmarks/rng_rate.py on TCG in the
# window window_for gives (1024/1000: 4 s, 2048/500: 3 s, 4096/2000: 6 s), 5 windows each,
# on a host loaded by other guests (2026-12-07).
MEASURED = {(1024, 1000): (4032, 4992), (2048, 500): (12224, 14272),
            (4096, 2000): (12224, 16128)}
RATES = [(1024, 1000), (2048, 500), (256, 1000), (64, 1000), (16, 1000), (100, 250),
         (4096, 10000), (1, 1000), (65536, 1000)]


@pytest.mark.parametrize("rate_bytes, period", RATES)
def test_rate_bounds_fail_a_ninth_of_the_rate(rate_bytes, period):
    """For every rate the window admits, the most a device at a ninth of the rate can give
    (its own upper bound) is below the lower bound: no rate gets a 0 floor."""
    expected = rng.Expected("/dev/urandom", rate_bytes, period)
    try:
        window = rng.window_for(expected)
    except NotApplicable:  # only rates of a few chunks per period, or periods too long
        assert rate_bytes < 2 * rng.CHUNK or rng.MIN_PERIODS * period > rng.MAX_WINDOW_S * 1000
        return
    low, high = rng.rate_bounds(rate_bytes, period, window)
    ninth_high = rng.rate_bounds(rate_bytes / 9, period, window)[1]
    assert 0 < ninth_high < low < high
    assert window <= rng.MAX_WINDOW_S


@pytest.mark.parametrize("rate", sorted(MEASURED))
def test_rate_bounds_hold_the_measured_range(rate):
    """Every window measured on a real TCG guest is inside the bounds."""
    low, high = rng.rate_bounds(*rate, rng.window_for(rng.Expected("/dev/urandom", *rate)))
    fewest, most = MEASURED[rate]
    assert low <= fewest and most <= high


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
    assert rng.check_guest(guest_reading(4500, os.urandom(4500)), LIMITED)["bytes"] == 4500
    with pytest.raises(LiveCheckFailed, match="within the rate"):
        rng.check_guest(guest_reading(60000, os.urandom(4096)), LIMITED)
    with pytest.raises(LiveCheckFailed, match="within the rate"):
        rng.check_guest(guest_reading(0, b""), LIMITED)


def guest_reading_windows(counts, elapsed=None):
    """A guest whose successive /dev/hwrng windows read ``counts`` bytes, each reader running
    for ``elapsed[n]`` s by the guest's clock (None: the old output, no clock readings)."""
    guest = guest_reading(0, b"")
    answers = iter(zip(counts, elapsed or [None] * len(counts)))

    def window(_script):
        count, took = next(answers)
        clock = "" if took is None else f" 100.00 {100 + took:.2f}"
        return CommandResult(0, f"{count}{clock}\n" + os.urandom(min(count, 4096)).hex(" ") + "\n")
    guest.shell[1] = ("/dev/hwrng of=", window)
    return guest


def test_guest_limited_low_window_is_read_again(pauses):
    """A window below the bound (a starved reader) is read again after a growing pause; in
    bounds then passes, with every window in the evidence."""
    evidence = rng.check_guest(guest_reading_windows([100, 1000, 4500]), LIMITED)
    assert evidence["bytes"] == 4500 and evidence["windows"] == [100, 1000, 4500]
    assert pauses == [rng.RETRY_PAUSE_S, 2 * rng.RETRY_PAUSE_S]
    assert evidence["cpu_denied"] == [None, None, None]  # a fake guest has no host


def test_guest_unlimited_slow_window_is_read_again():
    """Unlimited: a window under the floor is read again too; the floor must hold in one."""
    evidence = rng.check_guest(guest_reading_windows([1000, 500000]), URANDOM)
    assert evidence["windows"] == [1000, 500000] and evidence["bounds"] == [131072, None]


def test_guest_limited_too_slow_in_every_window_fails():
    """A device below the rate in all MAX_WINDOWS windows fails, naming every window."""
    counts = [100] * rng.MAX_WINDOWS + [4500]
    with pytest.raises(LiveCheckFailed, match=r"within the rate.*got \[100, 100, 100\]"):
        rng.check_guest(guest_reading_windows(counts), LIMITED)


def test_guest_limited_too_fast_fails_at_once():
    """A window above the upper bound fails without another window: load cannot speed a
    device up."""
    with pytest.raises(LiveCheckFailed, match="got 60000") as failure:
        rng.check_guest(guest_reading_windows([100, 60000, 4500]), LIMITED)
    assert failure.value.evidence["windows"] == [100, 60000]


def test_guest_unlimited_must_be_fast_and_random():
    """Unlimited must exceed the floor (64 KiB/s: a quarter of the slowest measured 280 KB/s,
    16x the fastest catalogue limit); /dev/zero-like bytes fail."""
    assert rng.check_guest(guest_reading(500000, os.urandom(4096)), URANDOM)
    with pytest.raises(LiveCheckFailed, match="too slow"):
        rng.check_guest(guest_reading(1000, os.urandom(1000)), URANDOM)
    with pytest.raises(LiveCheckFailed, match="too slow"):  # 10 KB/s: 2.5x a 4 KiB/s limit
        rng.check_guest(guest_reading(20000, os.urandom(4096)), URANDOM)
    with pytest.raises(LiveCheckFailed, match="non-random"):
        rng.check_guest(guest_reading(500000, bytes(4096)), URANDOM)


def test_guest_catches_other_hwrng_and_dead_rngd():
    """Another hwrng in use fails; rngd exiting by itself fails."""
    with pytest.raises(LiveCheckFailed, match="hwrng in use"):
        rng.check_guest(guest_reading(4500, os.urandom(4500), current="none"), LIMITED)
    with pytest.raises(LiveCheckFailed, match="rngd"):
        rng.check_guest(guest_reading(4500, os.urandom(4500), rngd_rc=1), LIMITED)


def test_guest_limited_rate_too_small_to_measure_is_not_applicable():
    """A rate that no window up to MAX_WINDOW_S can tell from 0.7x or 1.4x of it is n/a,
    after the device was found in use."""
    with pytest.raises(NotApplicable, match="too small"):
        rng.check_guest(guest_reading(0, b""), rng.Expected("/dev/urandom", 1, 1000))


def disabled_guest(available="", ids="0x0003 0x0005", driver=True, rc=0):
    """A guest without RNG as measured under TCG: hwrng core and virtio_rng driver present,
    virtio devices listed (console 3, balloon 5), no entropy device (4)."""
    out = (f"rng_available={available}\nvirtio_rng_driver={'yes' if driver else 'no'}\n"
           + "".join(f"virtio_device={i}\n" for i in ids.split()))
    return FakeGuest(shell=[("/sys/bus/virtio", CommandResult(rc, out if rc == 0 else "",
                                                              "cat: can't open" if rc else ""))])


def test_guest_disabled_proves_absence():
    """Disabled: the probe read rng_available and listed the virtio devices, and neither
    shows a virtio RNG; the evidence carries both."""
    evidence = rng.check_guest(disabled_guest(), None)
    assert evidence["virtio_devices"] == ["0x0003", "0x0005"]
    assert evidence["rng_available"] == "" and evidence["virtio_rng_driver"] is True


@pytest.mark.parametrize("guest, match", [
    (disabled_guest(available="virtio_rng.0"), "virtio_rng available"),
    (disabled_guest(ids="0x0003 0x0004"), "entropy device"),
])
def test_guest_disabled_catches_a_virtio_rng(guest, match):
    """With RNG disabled, an available virtio_rng or a virtio entropy device fails."""
    with pytest.raises(LiveCheckFailed, match=match):
        rng.check_guest(guest, None)


@pytest.mark.parametrize("guest", [
    pytest.param(disabled_guest(rc=3), id="hw_random-unreadable"),
    pytest.param(disabled_guest(driver=False), id="no-virtio_rng-driver"),
    pytest.param(disabled_guest(ids=""), id="no-virtio-devices-listed"),
    pytest.param(guest_reading(0, b"", current=""), id="old-probe-output-only"),
])
def test_guest_disabled_without_proof_is_an_error(guest):
    """A probe that could not have seen a virtio RNG is an error, not "absent"."""
    with pytest.raises(GuestError):
        rng.check_guest(guest, None)


def test_expected_from_reference_settings():
    """The reference's RngSettings map onto Expected; a zero rate means unlimited."""
    from conformance.reference import RngSettings
    assert rng.expected_from(RngSettings("/dev/urandom", 1024, 1000)) == LIMITED
    assert not rng.expected_from(RngSettings("/dev/urandom")).limited
    assert rng.expected_from(None) is None


class SnapshotHost:
    """A libvirt host whose CPU snapshot command answers ``outputs`` in turn."""
    local = False

    def __init__(self, *outputs):
        self.outputs = list(outputs)

    def run(self, argv, timeout=20):
        assert "/proc/4242/task/*/schedstat" in argv[-1]
        return CommandResult(0, self.outputs.pop(0))


def test_cpu_denied_measures_qemu_waits_and_steal():
    """Run-queue waits of QEMU's threads are summed, the host's steal is in ticks of 10 ms."""
    from conformance.live import qemu
    guest = FakeGuest()
    guest.host = SnapshotHost("1 1000000000 3\n2 500000000 4\n@\ncpu  1 2 3 4 5 6 7 100 0 0\n@\n0.5 0 0 1/9 1\n",
                              "1 2000000000 3\n2 900000000 4\n@\ncpu  1 2 3 4 5 6 7 180 0 0\n@\n3.25 0 0 1/9 1\n")
    before, after = qemu.cpu_snapshot(guest), qemu.cpu_snapshot(guest)
    assert qemu.cpu_denied(before, after) == {"qemu_waited_s": 1.4, "host_stolen_s": 0.8,
                                              "load1": 3.25}
    guest.host = SnapshotHost("garbage")
    assert qemu.cpu_snapshot(guest) is None and qemu.cpu_denied(None, after) is None


def catalogue_rates() -> list[tuple[int, int]]:
    """Every (rate_bytes, rate_period) a live RNG case of the catalogue boots with (also the
    flavor before a resize)."""
    from conformance.catalogue import ALL_CASES
    from conformance.catalogue.expected import expected_outcome
    from conformance.live.requests import live_request, live_requests
    rates = set()
    for case in ALL_CASES:
        requests = ([live_request(case, "qemu")] if case.operation == "create"
                    else list(live_requests(case, "qemu")))
        for request in requests:
            outcome = expected_outcome(request)
            settings = outcome.features.rng if outcome.accepted else None
            if settings is not None and settings.rate_bytes and settings.rate_period:
                rates.add((settings.rate_bytes, settings.rate_period))
    return sorted(rates)


@pytest.mark.parametrize("rate_bytes, period", catalogue_rates())
def test_bounds_tell_a_device_at_07x_or_14x_from_the_rate(rate_bytes, period):
    """On an idle host (the device model, every timer phase), a correct device always lands
    within the bounds, a device at 0.7x of the rate always below them and one at 1.4x always
    above them, at every rate the catalogue boots."""
    from tests.unit.rng_device_model import count_range
    window = rng.window_for(rng.Expected("/dev/urandom", rate_bytes, period))
    low, high = rng.rate_bounds(rate_bytes, period, window)
    fewest, most = count_range(rate_bytes, period, window)
    assert low <= fewest and most <= high, (window, low, high, fewest, most)
    assert count_range(rate_bytes, period, window, 0.7)[1] < low, (window, low)
    assert count_range(rate_bytes, period, window, 1.4)[0] > high, (window, high)


def test_catalogue_has_rates_to_prove():
    assert {(1024, 1000), (2048, 500), (4096, 2000)} <= set(catalogue_rates())


class LoadedHost:
    """A libvirt host on which QEMU waits ``waits[n]`` seconds in the run queue during window n
    (two snapshots per window), with no stolen time."""
    local = False

    def __init__(self, waits):
        self.total_ns, self.waits, self.calls = 0, list(waits), 0

    def run(self, argv, timeout=20):
        if self.calls % 2 == 1:
            self.total_ns += int(self.waits[self.calls // 2] * 1e9)
        self.calls += 1
        return CommandResult(0, f"1 {self.total_ns} 3\n@\ncpu  1 2 3 4 5 6 7 0 0 0\n@\n1.0 0 0 1/9 1\n")


def loaded_guest(counts, waits):
    guest = guest_reading_windows(counts)
    guest.host = LoadedHost(waits)
    return guest


def test_guest_short_windows_on_a_starved_host_are_an_error_not_a_failure():
    """Every window short, each explained by the CPU QEMU was denied (1 s of a 4 s window at
    1 KiB/s explains 2 KiB): no verdict on the device (GuestError), never a failure."""
    with pytest.raises(GuestError, match="not measurable.*denied QEMU enough CPU"):
        rng.check_guest(loaded_guest([2500, 3000, 3500], [1.0, 1.0, 1.0]), LIMITED)


def test_guest_short_window_the_load_cannot_explain_fails():
    """A short window is evidence when the denied CPU cannot explain it (a device at 0.7x of
    1 KiB/s reads about 2.9-3.7 KiB in 4 s on an idle host): the check fails, naming which
    windows were starved."""
    with pytest.raises(LiveCheckFailed, match="within the rate") as failure:
        rng.check_guest(loaded_guest([3300, 3000, 3600], [1.0, 0.01, 0.02]), LIMITED)
    assert failure.value.evidence["starved"] == [True, False, False]
    assert failure.value.evidence["cpu_denied"][1]["qemu_waited_s"] == 0.01


def test_guest_starved_window_then_a_good_one_passes():
    """A starved short window is read again; a window within the bounds then passes."""
    evidence = rng.check_guest(loaded_guest([1000, 4500], [3.0, 0.0]), LIMITED)
    assert evidence["windows"] == [1000, 4500] and evidence["starved"] == [True, False]


@pytest.mark.parametrize("shortfall, waited, explained", [
    (2048, 1.0, True),      # 1 s denied at 1 KiB/s: up to 2 KiB lost
    (2049, 1.0, False),
    (256, 0.0, False),      # an idle host explains nothing
])
def test_starvation_explains_at_most_twice_what_the_device_offers_meanwhile(shortfall, waited,
                                                                           explained):
    denied = {"qemu_waited_s": waited, "host_stolen_s": 0.0, "load1": 1.0}
    assert rng.starvation_explains(shortfall, denied, 1024.0) is explained
    assert rng.starvation_explains(shortfall, None, 1024.0) is False  # unknown explains nothing


def test_guest_window_whose_reader_overran_is_read_again(pauses):
    """Under load the guest's ``timeout`` can stop the reader late: 6016 B read in a 4 s window
    at 1 KiB/s is above the bounds, but the reader ran 5.3 s by the guest's clock, within
    which a correct device gives up to 6 quotas. Not evidence: read again; in bounds passes."""
    evidence = rng.check_guest(guest_reading_windows([6016, 4500], [5.3, 4.01]), LIMITED)
    assert evidence["windows"] == [6016, 4500] and evidence["overran"] == [True, False]


def test_guest_too_many_bytes_for_the_time_the_reader_ran_fails():
    """Above what the rate allows even in the time the reader really ran: fails at once."""
    with pytest.raises(LiveCheckFailed, match="within the rate") as failure:
        rng.check_guest(guest_reading_windows([6016, 4500], [4.02, 4.0]), LIMITED)
    assert failure.value.evidence["reader_s"] == [4.02]


def test_guest_every_window_overran_is_an_error_not_a_failure():
    """Every window above the bounds only because its reader overran: no verdict."""
    with pytest.raises(GuestError, match="not measurable.*overran"):
        rng.check_guest(guest_reading_windows([6016, 6100, 6200], [5.3, 5.4, 5.5]), LIMITED)


PARTIAL = rng.Expected("/dev/urandom", 1000, 1000)  # not a whole number of 64-byte reads


def test_partial_chunk_rate_is_judged_on_its_upper_bound_only():
    """QEMU stalls a device whose quota is not a whole number of the guest's 64-byte reads
    (benchmarks/rng_rate.py --exact: 896 B in every 4 s window at 1000 B/1000 ms, 0 B at
    100 B/1000 ms), so a short or empty window is no evidence against the driver; a window
    above the upper bound still fails, and the evidence says what was not judged."""
    assert rng.partial_chunk_reason(LIMITED) is None and rng.partial_chunk_reason(None) is None
    assert rng.partial_chunk_reason(URANDOM) is None
    evidence = rng.check_guest(guest_reading_windows([896]), PARTIAL)
    assert evidence["bytes"] == 896 and "not a whole number" in evidence["lower_bound_not_judged"]
    assert rng.check_guest(guest_reading_windows([0]), PARTIAL)["bytes"] == 0
    with pytest.raises(LiveCheckFailed, match="within the rate"):
        rng.check_guest(guest_reading_windows([60000]), PARTIAL)


def test_a_whole_chunk_rate_keeps_its_lower_bound():
    """The catalogue's rates are whole chunks: a short window there is still judged."""
    with pytest.raises(LiveCheckFailed, match="within the rate"):
        rng.check_guest(guest_reading_windows([896] * rng.MAX_WINDOWS), LIMITED)
