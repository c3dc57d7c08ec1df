"""Unit tests of the live watchdog checks against a fake guest."""

import pytest

from conformance.errors import GuestError
from conformance.live import LiveCheckFailed, qemu, watchdog
from conformance.live.fakes import CommandResult, Event, FakeGuest, write_proc

ESB = (0x8086, 0x25AB, "watchdog0")
IDENTITY = CommandResult(0, "/sys/class/watchdog/watchdog0/identity\ti6300ESB timer\n")


@pytest.fixture
def argv(tmp_path, monkeypatch):
    """Write a fake QEMU command line for pid 4242 and point the checks at it."""
    monkeypatch.setattr(qemu, "PROC", str(tmp_path))

    def write(*extra):
        write_proc(tmp_path, 4242, ["qemu-system-x86_64", "-cpu", "qemu64", *extra])
    return write


@pytest.mark.parametrize("option", [["-watchdog-action", "pause"], ["-action", "watchdog=pause"]])
def test_host_reads_action_in_both_spellings(argv, option):
    """The action is read from -watchdog-action (QEMU 7.2) and -action watchdog= (newer)."""
    argv(*option)
    assert watchdog.check_host(FakeGuest(pci=[ESB]), "pause")["qemu_action"] == "pause"


def test_host_catches_wrong_action(argv):
    """A domain whose QEMU got another action than requested fails."""
    argv("-watchdog-action", "none")
    with pytest.raises(LiveCheckFailed, match="action on QEMU"):
        watchdog.check_host(FakeGuest(pci=[ESB]), "reset")


def test_host_catches_missing_and_unwanted_device(argv):
    """No i6300esb for a requested watchdog fails; an i6300esb when disabled fails."""
    argv()
    with pytest.raises(LiveCheckFailed, match="count"):
        watchdog.check_host(FakeGuest(pci=[]), "reset")
    with pytest.raises(LiveCheckFailed, match="disabled"):
        watchdog.check_host(FakeGuest(pci=[ESB]), None)


# The guest's PCI functions as measured under TCG, without and with the i6300esb.
PCI_TCG = ["0x8086:0x1237", "0x8086:0x7000", "0x8086:0x7010", "0x1af4:0x1003"]
PCI_ESB = PCI_TCG + ["0x8086:0x25ab"]
NO_WATCHDOG = CommandResult(0, "")


def listing(pci=PCI_TCG, driver=True, wclass=True, rc=0):
    out = (f"watchdog_class={'yes' if wclass else 'no'}\n"
           f"i6300esb_driver={'yes' if driver else 'no'}\n" + "".join(f"pci={p}\n" for p in pci))
    return ("/sys/bus/pci", CommandResult(rc, out if rc == 0 else "", "sh: error" if rc else ""))


def test_guest_presence_by_identity():
    """The guest's watchdog is found by identity; another model does not count."""
    assert watchdog.check_guest_present(
        FakeGuest(shell=[listing(PCI_ESB), ("identity", IDENTITY)]), "reset")
    itco = CommandResult(0, "/sys/class/watchdog/watchdog0/identity\tiTCO_wdt\n")
    with pytest.raises(LiveCheckFailed, match="visible"):
        watchdog.check_guest_present(FakeGuest(shell=[listing(PCI_ESB), ("identity", itco)]),
                                     "reset")
    with pytest.raises(LiveCheckFailed, match="visible"):
        watchdog.check_guest_present(
            FakeGuest(shell=[listing(PCI_ESB), ("identity", IDENTITY)]), None)


def test_guest_absence_carries_proof():
    """Disabled: the watchdog class and the i6300esb driver exist, the PCI functions were
    listed and none is 8086:25ab; all of it is in the evidence."""
    evidence = watchdog.check_guest_present(
        FakeGuest(shell=[listing(), ("identity", NO_WATCHDOG)]), None)
    assert evidence["pci"] == PCI_TCG and evidence["i6300esb_driver"] is True


def test_guest_absence_catches_unbound_device():
    """Disabled, no watchdog registered, but the 6300ESB PCI function exists: fails."""
    with pytest.raises(LiveCheckFailed, match="8086:25ab"):
        watchdog.check_guest_present(
            FakeGuest(shell=[listing(PCI_ESB), ("identity", NO_WATCHDOG)]), None)


@pytest.mark.parametrize("probe", [
    pytest.param(listing(driver=False), id="no-i6300esb-driver"),
    pytest.param(listing(wclass=False), id="no-watchdog-class"),
    pytest.param(listing(pci=[]), id="no-pci-functions-listed"),
    pytest.param(listing(rc=2), id="probe-fails"),
    pytest.param(("^$", NO_WATCHDOG), id="no-listing-at-all"),
])
def test_guest_absence_without_proof_is_an_error(probe):
    """Disabled: a probe that could not have seen an i6300esb is an error, not "absent"."""
    with pytest.raises(GuestError):
        watchdog.check_guest_present(FakeGuest(shell=[probe, ("identity", NO_WATCHDOG)]), None)


def firing_guest(action_code, **kw):
    """A fake guest whose watchdog 'fires' (appends an event) when armed."""
    guest = FakeGuest(shell=[("identity", IDENTITY), ("watchdog -T", CommandResult(0, "armed\n")),
                             ("boot_id", CommandResult(0, "boot-1\n"))], **kw)
    guest.on_exec = lambda argv: ("watchdog -T" in argv[-1] and
                                  guest.events.append(Event("watchdog", action_code, 0.0)))
    return guest


def test_fires_reset_needs_new_boot():
    """reset passes with a new boot id and fails when the guest never comes back."""
    ev = watchdog.check_fires(firing_guest(2, next_boot_ids=["boot-2"]), "reset", timeout=1)
    assert ev["boot_ids"] == ["boot-1", "boot-2"]
    with pytest.raises(LiveCheckFailed, match="did not come back"):
        watchdog.check_fires(firing_guest(2, domain_state="shutoff"), "reset", timeout=0.3)


def test_fires_catches_wrong_event_action():
    """An event with another action than requested fails (e.g. none instead of reset)."""
    with pytest.raises(LiveCheckFailed, match="event action"):
        watchdog.check_fires(firing_guest(0), "reset", timeout=1)


def test_fires_pause_needs_watchdog_reason():
    """pause passes only when the domain is paused with reason watchdog."""
    ok = firing_guest(1, domain_state="paused", state_reason="watchdog")
    assert watchdog.check_fires(ok, "pause", timeout=1)["reason"] == "watchdog"
    with pytest.raises(LiveCheckFailed, match="pause reason"):
        watchdog.check_fires(firing_guest(1, domain_state="paused", state_reason="user"), "pause", timeout=1)


def test_fires_poweroff_needs_shutoff():
    """poweroff passes when the domain shuts off and fails when it keeps running."""
    assert watchdog.check_fires(firing_guest(3, domain_state="shutoff"), "poweroff", timeout=1)
    with pytest.raises(LiveCheckFailed, match="state after"):
        watchdog.check_fires(firing_guest(3), "poweroff", timeout=0.3)


def test_fires_none_keeps_same_boot():
    """none passes when the same boot keeps running."""
    assert watchdog.check_fires(firing_guest(0), "none", timeout=1)["boot_ids"] == ["boot-1"] * 2


def test_no_event_is_a_failure():
    """A watchdog that never fires fails with a named timeout."""
    guest = FakeGuest(shell=[("identity", IDENTITY), ("watchdog -T", CommandResult(0, "armed\n"))])
    with pytest.raises(LiveCheckFailed, match="never fired"):
        watchdog.check_fires(guest, "reset", timeout=0.3)


class Restarted(FakeGuest):
    """A guest whose lab reconnected to libvirt (libvirtd restarted) after the mark was
    taken: events in between never arrived."""
    restarts = 0

    def events_mark(self):
        return self.restarts

    def require_events_since(self, mark, what):
        if self.restarts != mark:
            from conformance.errors import HostUnreachable
            raise HostUnreachable("qemu:///system", f"reconnected since; {what} may be lost")


def test_an_event_lost_with_the_connection_is_the_hosts_error():
    """libvirtd restarted while the watchdog was armed: no event arrives on the new connection,
    and that is an error naming the host, not 'never fired' (the driver's failure)."""
    from conformance.errors import HostUnreachable
    guest = Restarted(shell=[("identity", IDENTITY), ("watchdog -T", CommandResult(0, "armed\n"))])
    guest.on_exec = lambda argv: "watchdog -T" in argv[-1] and setattr(guest, "restarts", 1)
    with pytest.raises(HostUnreachable, match="qemu:///system"):
        watchdog.check_fires(guest, "reset", timeout=0.3)


def test_a_state_wait_cut_by_a_lost_host_is_the_hosts_error():
    """A domain state that cannot be read because the host went away is no wrong state."""
    from conformance.errors import HostUnreachable

    class Unreachable(FakeGuest):
        def wait_for_state(self, state, timeout=60, reason=None):
            raise HostUnreachable("qemu:///system", "connection refused")

    guest = firing_guest(3)
    guest.__class__ = type("FiringUnreachable", (Unreachable,), {})
    with pytest.raises(HostUnreachable, match="qemu:///system"):
        watchdog.check_fires(guest, "poweroff", timeout=0.3)
