"""A model of QEMU's rate-limited virtio-rng and the guest's /dev/hwrng reader, to prove the
RNG check's bounds in unit tests (no guest).

QEMU (hw/virtio/virtio-rng.c): a timer refills the quota to ``max-bytes`` every ``period`` ms
(unused quota is not carried over); a request is served at once with min(quota, its size)
bytes, or waits for the next refill. The guest reads 64-byte chunks (``dd bs=64``) as fast
as the device serves them; before the window the guest may already hold up to two chunks
(the virtio-rng driver's and the hwrng core's buffers), and the chunk in flight when
``timeout`` stops ``dd`` is lost to the count. :func:`count_range` gives the fewest and most
bytes such a reader counts in a window, over every timer phase and starting quota.
"""

from __future__ import annotations

import math

CHUNK = 64
READ_MS_PER_CHUNK = 0.05  # an idle TCG guest reads an unlimited device at about 1.3 MB/s


def window_count(quota: int, period_ms: int, window_ms: int, phase_ms: float, start_quota: int,
                 held: int) -> int:
    """Bytes ``dd`` counts: ``held`` bytes already buffered in the guest, the ``start_quota``
    left in the current period, then a refill of ``quota`` at ``phase_ms`` and every period
    after; each chunk costs the reader READ_MS_PER_CHUNK; the chunk in flight at the end is
    lost (a read the device has not answered counts nothing)."""
    count, now, left = held, 0.0, start_quota
    refills = [phase_ms + n * period_ms for n in range(math.ceil(window_ms / period_ms) + 1)]
    refills = [t for t in refills if t <= window_ms]
    while True:
        if left == 0:
            upcoming = [t for t in refills if t > now]
            if not upcoming:
                return count
            now, left = upcoming[0], quota
            refills = [t for t in refills if t > now]
            continue
        got = min(CHUNK, left)
        if now + READ_MS_PER_CHUNK > window_ms:
            return count  # stopped while this read was in flight
        now += READ_MS_PER_CHUNK
        left -= got
        count += got
        refills = [t for t in refills if t > now]
        if refills and refills[0] <= now:  # a refill came while reading: quota is reset
            left, refills = quota, refills[1:]


def count_range(rate_bytes: float, period_ms: int, window_s: float,
                fraction: float = 1.0) -> tuple[int, int]:
    """(fewest, most) bytes counted in ``window_s`` from a device delivering ``fraction`` of
    ``rate_bytes`` per ``period_ms``, over timer phases (steps of 1/50 period strictly inside
    it: a refill in the last ~1 ms, which a reader cannot drain, is as rare as that ms),
    starting quota (none or all) and guest-held bytes (none or two chunks)."""
    quota = max(1, math.floor(rate_bytes * fraction))
    window_ms = round(window_s * 1000)
    counts = [window_count(quota, period_ms, window_ms, period_ms * step / 50, start, held)
              for step in range(1, 50) for start in (0, quota) for held in (0, 2 * CHUNK)]
    return min(counts), max(counts)
