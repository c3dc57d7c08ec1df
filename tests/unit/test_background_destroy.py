"""fixtures.background: guests destroyed in a thread; drain() waits for all of them, bounded."""

import threading

import pytest

from conformance.errors import WaitTimeout
from fixtures import background


class SlowGuest:
    def __init__(self, release: threading.Event, name="g"):
        self.name, self.release, self.destroyed = name, release, False

    def destroy(self):
        self.release.wait(5)
        self.destroyed = True


def test_drain_waits_for_every_background_destroy():
    release = threading.Event()
    guests = [SlowGuest(release, f"g{i}") for i in range(3)]
    for guest in guests:
        background.destroy_later(guest)
    assert not any(g.destroyed for g in guests)  # the caller went on at once
    release.set()
    background.drain(timeout=5)
    assert all(g.destroyed for g in guests)


def test_drain_is_bounded():
    release = threading.Event()
    background.destroy_later(SlowGuest(release))
    with pytest.raises(WaitTimeout, match="background guest destroys"):
        background.drain(timeout=0.2)
    release.set()
    background.drain(timeout=5)
