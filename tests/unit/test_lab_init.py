"""Lab.__init__ leaves nothing open when a later step of it fails (no libvirt daemon)."""

import pytest

from conformance.lab import lab as lab_module
from conformance.lab.runs import Run


class FakeConn:
    closed = False

    def close(self):
        self.closed = True
        return 0


class FakeHub:
    closed = False

    def __init__(self, conn):
        self.conn = conn
        FakeHub.made.append(self)

    def close(self):
        self.closed = True


def test_a_run_dir_that_cannot_be_created_closes_the_connection(tmp_path, monkeypatch):
    """Run.create() raising (the state dir is not writable) must not leak the libvirt
    connection and event callbacks opened just before it."""
    conn = FakeConn()
    FakeHub.made = []
    monkeypatch.setattr(lab_module, "open_connection", lambda uri: conn)
    monkeypatch.setattr(lab_module, "EventHub", FakeHub)
    blocker = tmp_path / "state"
    blocker.write_text("a file where the state dir should be")
    with pytest.raises(OSError):
        lab_module.Lab("qemu:///system", run=Run(state_dir=blocker))
    assert conn.closed
    assert all(hub.closed for hub in FakeHub.made)
