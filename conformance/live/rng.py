"""RNG, live: the virtio-rng QEMU runs (host) and the entropy the guest gets (guest).

Host: a virtio-rng device exists iff RNG is allowed; its ``max-bytes``/``period`` QOM
properties equal the requested rate (QEMU's "unlimited" default when no rate); its
``rng`` link points at an rng-random object whose ``filename`` is the requested backend.
Guest: the hwrng core uses ``virtio_rng.N``; reading /dev/hwrng over a bounded window
stays within the rate (:func:`rate_bounds`, tight enough to fail a device at 0.7x or 1.4x
of it; a short window counts against the device only when the CPU the host denied QEMU
cannot explain it, and a long one only when the reader did not run late, see
:data:`MAX_WINDOWS`) or, unlimited, is clearly faster; the
bytes are not trivially non-random; rngd runs against the device. Disabled: the probe
read the hwrng core's ``rng_available`` and listed the guest's virtio devices with the
virtio_rng driver registered (so a virtio RNG would have shown), and neither shows one.
Figures: ``benchmarks/rng_rate.py``.
"""

from __future__ import annotations

import math
import time
import zlib
from dataclasses import dataclass

from conformance.errors import GuestError
from conformance.live import GUEST, HOST, NotApplicable, clip, expect
from conformance.live import qemu
from conformance.live.shell import key_values, sh, sh_ok

FEATURE = "rng"
DEVICE_TYPES = ("virtio-rng-pci", "virtio-rng-device", "virtio-rng-pci-transitional",
                "virtio-rng-pci-non-transitional")
QEMU_UNLIMITED_BYTES = 2**63 - 1  # virtio-rng "max-bytes" default (INT64_MAX)
# Unlimited: measured 280 KB/s-1.87 MB/s on TCG (benchmarks/README.md); a
# quarter of the slowest, and 16x the fastest catalogue limit (2048 B / 500 ms).
UNLIMITED_MIN_BYTES_PER_S = 64 * 1024
SAMPLE_BYTES = 4096
CHUNK = 64  # the guest hwrng core reads the device 64 bytes at a time (x86 cache line)
# What a window can tell apart on an idle host: a device at SLOW or FAST times the rate must
# land outside the bounds of a correct one (tests/unit/rng_device_model.py proves it for every
# catalogue rate). A window of k periods counts k to k+1 quotas (the quota left when it
# starts), give or take SLACK: two chunks the guest may hold before the window, the chunk in
# flight when the reader is stopped and a partial chunk at the end of a quota.
SLOW, FAST = 0.7, 1.4
SLACK = 2 * CHUNK
MIN_PERIODS, MIN_WINDOW_S, MAX_WINDOW_S = 2, 3.0, 30.0
# A window below the lower bound is measured again, up to this many windows in all. Load
# only lowers a count (QEMU refills the quota from its own timer, a missed period is never
# made up), so a short window is evidence of a slow device only if the CPU the host denied
# QEMU meanwhile cannot explain it (:func:`starvation_explains`). One window within the
# bounds proves the rate (or, unlimited, the floor); a window above the upper bound fails at
# once, unless the starved guest stopped its reader late and the bytes fit the time it really
# ran (:func:`overran`: read again); windows none of which is evidence are an error.
MAX_WINDOWS = 3
RETRY_PAUSE_S = 2.0  # before window n (n >= 2): (n - 1) x this, to get past a burst of load
# A reader that runs drains a quota in a small part of its period: QEMU denied the CPU for
# one period's length costs at most STARVATION_COST quotas (2: as if it needed half a period).
STARVATION_COST = 2.0
VIRTIO_ENTROPY_ID = "0x0004"  # virtio device id of an entropy source (virtio spec 5.4)
HWRNG = "/sys/class/misc/hw_random"


@dataclass(frozen=True)
class Expected:
    """What the guest's RNG should be: backend path and rate (None = no limit)."""
    path: str
    rate_bytes: int | None = None
    rate_period: int | None = None  # milliseconds

    @property
    def limited(self) -> bool:
        return bool(self.rate_bytes and self.rate_period)


def expected_from(settings) -> Expected | None:
    """Adapt the reference's RngSettings (backend_path, rate_bytes, rate_period) or None."""
    if settings is None:
        return None
    return Expected(settings.backend_path, settings.rate_bytes or None,
                    settings.rate_period or None)


def check_host(guest, rng: Expected | None) -> dict:
    """virtio-rng present iff ``rng``; rate and backend file as requested."""
    devices = qemu.devices_of_type(guest, *DEVICE_TYPES)
    if rng is None:
        expect(not devices, FEATURE, HOST, "virtio-rng present although RNG is disabled",
               [], devices)
        return {"devices": devices}
    expect(len(devices) == 1, FEATURE, HOST, "virtio-rng device count", 1, len(devices),
           devices=devices)
    path = devices[0]
    got = {"max-bytes": qemu.qom_get(guest, path, "max-bytes"),
           "period": qemu.qom_get(guest, path, "period")}
    backend = qemu.qom_get(guest, path, "rng")
    got["backend"] = backend
    got["filename"] = qemu.qom_get(guest, backend, "filename") if backend else None
    if rng.limited:
        want_rate = {"max-bytes": rng.rate_bytes, "period": rng.rate_period}
        expect(got["max-bytes"] == rng.rate_bytes and got["period"] == rng.rate_period,
               FEATURE, HOST, "virtio-rng rate (max-bytes/period)", want_rate,
               {k: got[k] for k in want_rate}, device=path)
    else:
        expect(got["max-bytes"] == QEMU_UNLIMITED_BYTES, FEATURE, HOST,
               "virtio-rng rate limited although no rate was requested",
               QEMU_UNLIMITED_BYTES, got["max-bytes"], device=path, period=got["period"])
    expect(got["filename"] == rng.path, FEATURE, HOST, "rng backend file", rng.path,
           got["filename"], device=path, backend=backend)
    return {"device": path, **got}


def rate_bounds(rate_bytes: float, period_ms: int, window_s: float) -> tuple[int, int]:
    """(lowest, highest) byte count a correct device gives in ``window_s`` of reading
    /dev/hwrng on an idle host.

    QEMU grants ``rate_bytes`` at every refill of its period timer, and the quota left when
    the window starts may be read too: a window of k whole periods counts k to k+1 quotas,
    less or more SLACK (see the constant). Measured windows (benchmarks/rng_rate.py) and the
    device model (tests/unit/rng_device_model.py) stay within these; with :func:`window_for`'s
    windows a device at SLOW or FAST times the rate cannot.
    """
    periods = round(window_s * 1000) // period_ms
    return (max(0, math.floor(rate_bytes * periods) - SLACK),
            math.ceil(rate_bytes * (periods + 1)) + SLACK)


def _tells_apart(rate_bytes: float, periods: int) -> bool:
    """Whether a window of ``periods`` periods puts devices at SLOW and FAST times the rate
    outside a correct device's bounds: a slow one's most below the lowest, a fast one's
    fewest above the highest."""
    low, high = rate_bytes * periods - SLACK, rate_bytes * (periods + 1) + SLACK
    return (SLOW * rate_bytes * (periods + 1) + SLACK < low
            and FAST * rate_bytes * periods - SLACK > high)


def window_for(rng: Expected) -> float:
    """Measurement window in seconds: 2 s unlimited; limited, the fewest whole periods (at
    least MIN_PERIODS and MIN_WINDOW_S) that tell a device at SLOW or FAST times the rate
    from a correct one; NotApplicable beyond MAX_WINDOW_S (too small a rate to measure in a
    bounded test)."""
    if not rng.limited:
        return 2.0
    periods = max(MIN_PERIODS, math.ceil(MIN_WINDOW_S * 1000 / rng.rate_period))
    while not _tells_apart(rng.rate_bytes, periods) and periods * rng.rate_period <= MAX_WINDOW_S * 1000:
        periods += 1
    window = periods * rng.rate_period / 1000.0
    if window > MAX_WINDOW_S:
        raise NotApplicable(
            f"rate {rng.rate_bytes} B / {rng.rate_period} ms is too small to measure: telling a "
            f"device at {SLOW}x or {FAST}x of it apart needs windows longer than "
            f"{MAX_WINDOW_S:g} s")
    return window


def randomness_problems(sample: bytes) -> list[str]:
    """Why ``sample`` is trivially non-random (empty list: plausible random bytes)."""
    problems = []
    n = len(sample)
    if n == 0:
        return ["no bytes"]
    distinct = len(set(sample))
    expected_distinct = 256 * (1 - (255 / 256) ** n)
    if distinct < 0.5 * expected_distinct:
        problems.append(f"{distinct} distinct byte values in {n} bytes "
                        f"(random: about {expected_distinct:.0f})")
    if n >= 64 and sample[:32] in sample[32:]:
        problems.append("a 32-byte block repeats")
    if n >= 256 and len(zlib.compress(sample, 9)) < 0.9 * n:
        problems.append(f"compresses to {len(zlib.compress(sample, 9))} of {n} bytes")
    return problems


def hwrng_state(guest) -> dict[str, str]:
    out = sh(guest, f"for f in rng_current rng_available rng_quality; do "
                    f"printf '%s=%s\\n' $f \"$(cat {HWRNG}/$f 2>/dev/null)\"; done").stdout
    out = out.decode() if isinstance(out, bytes) else out
    return dict(line.partition("=")[::2] for line in out.splitlines() if "=" in line)


def read_window(guest, window_s: float) -> tuple[int, bytes, float | None]:
    """Read /dev/hwrng for ``window_s`` s in the guest: (bytes read, first 4 KiB, seconds the
    reader really ran by the guest's clock, None if unknown). A starved guest can stop its
    reader late; the bytes are then judged against the time it ran (:func:`read_within`)."""
    script = (f"rm -f /tmp/hwrng; read t0 _ < /proc/uptime; "
              f"timeout {window_s:g} dd if=/dev/hwrng of=/tmp/hwrng bs={CHUNK} 2>/dev/null; "
              f"read t1 _ < /proc/uptime; echo \"$(wc -c < /tmp/hwrng) $t0 $t1\"; "
              f"head -c {SAMPLE_BYTES} /tmp/hwrng | od -An -tx1 -v; rm -f /tmp/hwrng")
    out = sh_ok(guest, script, timeout=window_s + 30)
    first, _, rest = out.strip().partition("\n")
    fields = first.split()
    ran = round(float(fields[2]) - float(fields[1]), 2) if len(fields) == 3 else None
    return int(fields[0]), bytes.fromhex("".join(rest.split())), ran


ABSENCE_PROBE = (f'avail=$(cat {HWRNG}/rng_available) || exit 3; '
                 'printf "rng_available=%s\\n" "$avail"; '
                 '[ -d /sys/bus/virtio/drivers/virtio_rng ] && d=yes || d=no; '
                 'echo "virtio_rng_driver=$d"; '
                 'for f in /sys/bus/virtio/devices/*/device; do '
                 '[ -r "$f" ] && echo "virtio_device=$(cat "$f")"; done; true')


def check_absent(guest) -> dict:
    """No virtio RNG in the guest, with proof that the probe would have seen one."""
    out = sh_ok(guest, ABSENCE_PROBE)
    values = key_values(out)
    devices = [line.partition("=")[2].strip() for line in out.splitlines()
               if line.startswith("virtio_device=")]
    evidence = {"rng_available": values.get("rng_available", "").strip(),
                "virtio_rng_driver": values.get("virtio_rng_driver") == "yes",
                "virtio_devices": devices}
    if "rng_available" not in values or not evidence["virtio_rng_driver"] or not devices:
        raise GuestError(f"the RNG absence probe could not have seen a virtio RNG "
                         f"(hwrng core, virtio_rng driver and virtio devices needed): {evidence}")
    expect("virtio_rng" not in evidence["rng_available"], FEATURE, GUEST,
           "virtio_rng available although RNG is disabled", "", evidence["rng_available"],
           **evidence)
    expect(VIRTIO_ENTROPY_ID not in devices, FEATURE, GUEST,
           "virtio entropy device (id 4) although RNG is disabled", "none", devices, **evidence)
    return evidence


def check_guest(guest, rng: Expected | None) -> dict:
    """The guest uses virtio_rng; throughput obeys the rate; bytes look random; rngd runs.
    Disabled: :func:`check_absent`."""
    if rng is None:
        return check_absent(guest)
    state = hwrng_state(guest)
    current = state.get("rng_current", "")
    expect(current.startswith("virtio_rng."), FEATURE, GUEST, "hwrng in use",
           "virtio_rng.N", current, hwrng=state)
    try:
        window = window_for(rng)
    except NotApplicable as exc:
        raise NotApplicable(exc.reason, {"hwrng": current}) from None
    partial = partial_chunk_reason(rng)
    if rng.limited:
        low, high = rate_bounds(rng.rate_bytes, rng.rate_period, window)
        what, per_s = "bytes read within the rate limit", rng.rate_bytes * 1000 / rng.rate_period
        low = 0 if partial else low
    else:
        low, high, what = int(UNLIMITED_MIN_BYTES_PER_S * window), None, "unlimited RNG too slow"
        per_s = UNLIMITED_MIN_BYTES_PER_S
    rate = (rng.rate_bytes, rng.rate_period) if rng.limited else None
    count, sample, measured = read_within(guest, window, low, high, what, per_s, rate)
    evidence = {"hwrng": current, **measured, "rng_quality": state.get("rng_quality")}
    if partial:
        evidence["lower_bound_not_judged"] = partial
    problems = randomness_problems(sample) if sample or not partial else []
    expect(not problems, FEATURE, GUEST, "bytes from /dev/hwrng look non-random", [],
           problems, sample_head=sample[:16].hex(), **evidence)
    evidence["rngd"] = check_rngd(guest)
    return evidence


def partial_chunk_reason(rng: Expected | None) -> str | None:
    """Why a rate's lower bound says nothing about the driver, or None: a quota that is not
    a whole number of the guest's CHUNK-byte reads makes QEMU (7.2, measured) stall the
    device after the first quota (``benchmarks/rng_rate.py --exact``: 896 B in every 4 s
    window at 1000 B / 1000 ms, nothing at 100 B / 1000 ms), whatever the driver did right.
    The upper bound is still judged (a device too fast is still caught) and the rate
    itself at the host level (max-bytes/period)."""
    if rng is None or not rng.limited or rng.rate_bytes % CHUNK == 0:
        return None
    return (f"rate_bytes {rng.rate_bytes} is not a whole number of the guest's {CHUNK}-byte "
            "reads: QEMU stalls such a device after its first quota, so the guest can only "
            "show it is not faster than the rate (the rate is judged at the host level)")


def starvation_explains(shortfall: int, denied: dict | None, bytes_per_s: float) -> bool:
    """Whether the CPU the host denied QEMU during a window (:func:`qemu.cpu_denied`: its
    threads' run-queue wait plus the host's stolen time) can explain ``shortfall`` bytes at
    ``bytes_per_s``: a reader loses at most STARVATION_COST x the bytes the device offers
    while it waits. Unknown (no shell on the libvirt host) explains nothing."""
    if not denied:
        return False
    waited = denied.get("qemu_waited_s", 0.0) + denied.get("host_stolen_s", 0.0)
    return STARVATION_COST * waited * bytes_per_s >= shortfall


def overran(count: int, ran_s: float | None, rate: tuple[int, int] | None) -> bool:
    """Whether ``count`` bytes are too many for the window only because the reader ran
    ``ran_s`` s (the guest stopped it late): within a correct device's bounds for that time."""
    if rate is None or ran_s is None:
        return False
    return count <= rate_bounds(*rate, ran_s)[1]


def read_within(guest, window: float, low: int, high: int | None, what: str,
                bytes_per_s: float, rate: tuple[int, int] | None = None
                ) -> tuple[int, bytes, dict]:
    """Read windows until one holds ``low``..``high`` bytes (``high`` None: no upper bound),
    at most MAX_WINDOWS, pausing longer before each retry: (bytes, sample, evidence).

    A window is no evidence when it is short and the CPU the host denied QEMU meanwhile
    explains it (:func:`starvation_explains` at ``bytes_per_s``), or above ``high`` while
    within the bounds of ``rate`` (bytes, period ms) for the time the reader really ran
    (:func:`overran`). Fails naming ``what`` on the first window above ``high`` that is
    evidence, or when every window stayed below ``low`` and one is evidence; raises
    GuestError (no verdict) when no window was evidence."""
    counts: list[int] = []
    ran: list[float | None] = []
    denied: list[dict | None] = []  # per window: CPU the host denied QEMU (load evidence)
    starved: list[bool] = []
    late: list[bool] = []
    while True:
        if counts:
            time.sleep(RETRY_PAUSE_S * len(counts))
        before = qemu.cpu_snapshot(guest)
        count, sample, ran_s = read_window(guest, window)
        denied.append(qemu.cpu_denied(before, qemu.cpu_snapshot(guest)))
        counts.append(count)
        ran.append(ran_s)
        too_many = high is not None and count > high
        starved.append(count < low and starvation_explains(low - count, denied[-1], bytes_per_s))
        late.append(too_many and overran(count, ran_s, rate))
        evidence = {"window_s": window, "bytes": count, "bytes_per_s": round(count / window, 1),
                    "bounds": [low, high], "windows": counts, "reader_s": ran,
                    "cpu_denied": denied, "starved": starved, "overran": late}
        if low <= count and not too_many:
            return count, sample, evidence
        if (too_many and not late[-1]) or len(counts) == MAX_WINDOWS:
            break
    if all(s or o for s, o in zip(starved, late)):
        raise GuestError(f"RNG rate not measurable: no window ({counts} bytes, bounds "
                         f"{[low, high]}) is evidence: each was short and the host denied "
                         f"QEMU enough CPU to explain it (cpu_denied {denied}), or overran, its "
                         f"reader stopped late by the starved guest (ran {ran} s); "
                         f"no verdict on the device")
    expected = [low, high] if high is not None else f">= {low}"
    expect(False, FEATURE, GUEST, what, expected, count if too_many else counts, **evidence)


def check_rngd(guest, seconds: int = 2) -> dict:
    """rngd runs in the foreground against /dev/hwrng without failing for ``seconds``.

    A clean run is ended by ``timeout`` (exit status 143/124); an early exit means rngd
    could not use the device. rng-tools 5 prints no statistics, so the evidence is the
    exit status and its output.
    """
    result = sh(guest, f"timeout {seconds} rngd -f -r /dev/hwrng -o /dev/random 2>&1; "
                       f"echo rc=$?", timeout=seconds + 30)
    out = result.stdout.decode() if isinstance(result.stdout, bytes) else result.stdout
    rc = int(out.strip().rsplit("rc=", 1)[-1]) if "rc=" in out else None
    expect(rc in (124, 143), FEATURE, GUEST, "rngd did not keep running on /dev/hwrng",
           "killed by timeout (124/143)", rc, output=clip(out))
    return {"ran_s": seconds, "rc": rc, "output": clip(out.rsplit("rc=", 1)[0], 200)}
