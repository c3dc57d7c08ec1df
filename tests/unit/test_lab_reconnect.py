"""A libvirt host or daemon that goes away is the host's error, never the guest's or the
driver's: the lab's guests after a reconnect (libvirtd restarted), with fake libvirt objects."""

import libvirt
import pytest

from conformance.errors import GuestError, HostUnreachable
from conformance.lab import lab as lab_module
from conformance.lab.events import Event
from conformance.lab.guest import Guest, LocalConsole
from conformance.lab.runs import Run

URI = "qemu:///system"
UUID = "7f1b2a3c-0000-4000-8000-00000000abcd"


def libvirt_error(message: str, code: int = libvirt.VIR_ERR_INTERNAL_ERROR) -> libvirt.libvirtError:
    error = libvirt.libvirtError(message)
    error.err = (code, 0, message, 2, "", None, None, 0, 0)
    return error


class FakeDomain:
    def __init__(self, conn, uuid, name, state=(libvirt.VIR_DOMAIN_RUNNING, 1)):
        self.conn, self.uuid, self._name, self._state = conn, uuid, name, state

    def _live(self):
        if not self.conn.alive:
            raise libvirt_error("internal error: client socket is closed")

    def connect(self):
        return self.conn

    def name(self):
        return self._name

    def UUIDString(self):
        return self.uuid

    def state(self):
        self._live()
        return self._state

    def XMLDesc(self, _flags=0):
        self._live()
        return f"<domain><name>{self._name}</name><uuid>{self.uuid}</uuid></domain>"


class FakeConn:
    def __init__(self):
        self.alive, self.domains = True, {}

    def isAlive(self):
        if not self.alive:
            raise libvirt_error("internal error: client socket is closed")
        return 1

    def define(self, uuid, name, **kw):
        self.domains[uuid] = FakeDomain(self, uuid, name, **kw)
        return self.domains[uuid]

    def lookupByUUIDString(self, uuid):
        self.isAlive()
        if uuid not in self.domains:
            raise libvirt_error(f"Domain not found: no domain with matching uuid '{uuid}'",
                                libvirt.VIR_ERR_NO_DOMAIN)
        return self.domains[uuid]

    def close(self):
        return 0


class FakeHub:
    def __init__(self, conn):
        self.conn, self.seen = conn, {}

    def add(self, uuid, kind, detail):
        self.seen.setdefault(uuid, []).append(Event(kind, detail, 0.0))

    def events(self, uuid):
        return list(self.seen.get(uuid, ()))

    def forget(self, uuid):
        self.seen.pop(uuid, None)

    def close(self):
        pass


@pytest.fixture
def fake_lab(tmp_path, monkeypatch):
    """A Lab whose connections are FakeConns handed out in order (a reconnect takes the next;
    none left: the daemon does not come back)."""
    conns = [FakeConn(), FakeConn()]
    handed = []

    def open_connection(uri):
        if len(handed) == len(conns):
            raise HostUnreachable(uri, "connection refused")
        handed.append(conns[len(handed)])
        return handed[-1]

    monkeypatch.setattr(lab_module, "open_connection", open_connection)
    monkeypatch.setattr(lab_module, "EventHub", FakeHub)
    monkeypatch.setattr(lab_module, "RECONNECT_TIMEOUT", 0.3)
    the_lab = lab_module.Lab(URI, run=Run(state_dir=tmp_path))
    the_lab.conns = conns
    return the_lab


def guest_of(lab):
    domain = lab.conns[0].define(UUID, "cfm-1-x")
    return Guest(domain, LocalConsole(str(lab.run.path("c.log"))), lab.hub, lab.host, lab=lab)


def test_a_guest_found_again_after_a_reconnect_is_looked_up_afresh(fake_lab):
    """After libvirtd restarted, the guest's calls go to its domain looked up by uuid on the new
    connection, and its events are those of the new event hub (after those seen before)."""
    guest = guest_of(fake_lab)
    fake_lab.hub.add(UUID, "lifecycle", "started")
    old, new = fake_lab.conns
    old.alive = False  # libvirtd restarted: QEMU and the domain survive it
    new.define(UUID, "cfm-1-x", state=(libvirt.VIR_DOMAIN_PAUSED, libvirt.VIR_DOMAIN_PAUSED_WATCHDOG))
    assert guest.state() == ("paused", "watchdog")
    assert guest.live_xml().findtext("uuid") == UUID
    assert fake_lab.reconnects == 1
    fake_lab.hub.add(UUID, "watchdog", "pause")
    assert [(e.kind, e.detail) for e in guest.events] == [("lifecycle", "started"), ("watchdog", "pause")]


def test_a_daemon_that_does_not_come_back_is_the_hosts_error(fake_lab):
    """A dead connection is not a domain that is "gone": the state read raises HostUnreachable
    naming the URI (a state check would have failed the driver)."""
    guest = guest_of(fake_lab)
    fake_lab.conns[0].alive = False
    fake_lab.conns.pop()  # nothing to reconnect to
    with pytest.raises(HostUnreachable, match="qemu:///system"):
        guest.state()


def test_a_domain_gone_for_real_is_gone(fake_lab):
    """An undefined domain still reads as gone, on the first and on a new connection."""
    guest = guest_of(fake_lab)
    del fake_lab.conns[0].domains[UUID]
    guest.domain.state = lambda: (_ for _ in ()).throw(
        libvirt_error("Domain not found", libvirt.VIR_ERR_NO_DOMAIN))
    assert guest.state() == ("gone", "")
    fake_lab.conns[0].alive = False
    assert guest.state() == ("gone", "")


def test_a_call_cut_by_the_restart_names_the_host(fake_lab):
    """A libvirt call in flight when the daemon dies (its connection dead now) raises
    HostUnreachable naming the URI, not a raw libvirtError recorded as a failure; the next
    call reaches the domain on the new connection."""
    guest = guest_of(fake_lab)
    old, new = fake_lab.conns
    new.define(UUID, "cfm-1-x")
    domain = guest.domain

    def cut(_flags=0):
        old.alive = False
        raise libvirt_error("End of file while reading data: Input/output error",
                            libvirt.VIR_ERR_SYSTEM_ERROR)
    domain.XMLDesc = cut
    with pytest.raises(HostUnreachable, match="qemu:///system"):
        guest.live_xml()
    assert guest.live_xml().findtext("uuid") == UUID


def test_qmp_errors_are_probe_errors(fake_lab, monkeypatch):
    """A QMP command libvirt refuses on a live connection is a GuestError (no verdict), not a
    raw libvirtError (a failure of the driver)."""
    import libvirt_qemu

    def refuse(domain, command, flags):
        raise libvirt_error("Requested operation is not valid: domain is not running",
                            libvirt.VIR_ERR_OPERATION_INVALID)
    monkeypatch.setattr(libvirt_qemu, "qemuMonitorCommand", refuse)
    with pytest.raises(GuestError, match="QMP query-pci"):
        guest_of(fake_lab).qmp("query-pci")
