"""Unit tests of the live agent checks against a fake guest."""

import pytest

from conformance.live import LiveCheckFailed, agent
from conformance.live.fakes import FakeGuest

CHANNEL = ("<domain><devices><channel type='unix'><target type='virtio' "
           "name='{name}' state='{state}'/></channel></devices></domain>")
PORT = {"/machine/peripheral/channel0": {"type": "virtserialport", "name": agent.PORT_NAME}}


def healthy(**kw):
    return FakeGuest(xml=CHANNEL.format(name=agent.PORT_NAME, state="connected"), qom=dict(PORT),
                     **kw)


def test_host_passes_on_connected_channel():
    """A connected org.qemu.guest_agent.0 channel passes the host check."""
    assert agent.check_host(healthy(), True)["xml_states"] == ["connected"]


def test_host_catches_wrong_target_name():
    """A channel named differently (driver typo) fails: QEMU has no agent port."""
    guest = FakeGuest(xml=CHANNEL.format(name="org.qemu.guest_agent.1", state="connected"),
                      qom={"/machine/peripheral/channel0": {"type": "virtserialport",
                                                           "name": "org.qemu.guest_agent.1"}})
    with pytest.raises(LiveCheckFailed, match="no virtserialport"):
        agent.check_host(guest, True)


def test_host_catches_never_connected():
    """A channel that never connects (no qemu-ga listening) fails after the deadline."""
    guest = FakeGuest(xml=CHANNEL.format(name=agent.PORT_NAME, state="disconnected"),
                      qom=dict(PORT))
    with pytest.raises(LiveCheckFailed, match="never reached"):
        agent.check_host(guest, True, timeout=0.2)


def test_host_catches_channel_when_disabled():
    """An agent channel on a guest whose image disabled the agent fails."""
    with pytest.raises(LiveCheckFailed, match="although the agent is disabled"):
        agent.check_host(healthy(), False)


def test_guest_round_trip():
    """ping, info and an exec round trip pass on a working agent."""
    assert agent.check_guest(healthy(), True)["exec_rc"] == 0


def test_guest_catches_exec_disabled():
    """qemu-ga with guest-exec blocked fails the guest check."""
    with pytest.raises(LiveCheckFailed, match="guest-exec"):
        agent.check_guest(healthy(agent_commands={"guest-exec": False}), True)


NOT_CONFIGURED = "argument unsupported: QEMU guest agent is not configured"


BOOT = "CONFORMANCE-BOOT boot_id=7c0b21ea-0656-4404-8159-b593d557c1d2 uptime=1.41\r\n"  # serial: CRLF
NO_PORT = agent.NO_PORT_LINE + "; qemu-ga not started\n"


def test_guest_disabled_needs_not_configured():
    """Without an agent, libvirt must say "not configured" (not merely "not connected")."""
    ok = FakeGuest(agent_error=NOT_CONFIGURED, console=NO_PORT + BOOT)
    assert "not configured" in agent.check_guest(ok, False)["agent_error"]
    wrong = FakeGuest(agent_error="Guest agent is not responding: QEMU guest agent is not connected")
    with pytest.raises(LiveCheckFailed, match="another reason"):
        agent.check_guest(wrong, False)


def test_guest_disabled_catches_answering_agent():
    """An agent that answers although the image disabled it fails."""
    with pytest.raises(LiveCheckFailed, match="answered although"):
        agent.check_guest(healthy(), False)


def test_guest_disabled_needs_init_console_line():
    """Without an agent port the guest's init says so on the console; its absence fails."""
    with pytest.raises(LiveCheckFailed, match="found an agent port"):
        agent.check_guest(FakeGuest(agent_error=NOT_CONFIGURED, console="CONFORMANCE-BOOT"), False)


@pytest.mark.parametrize("console", [
    pytest.param(NO_PORT, id="search-line-but-init-never-finished"),
    pytest.param(NO_PORT + BOOT + "reboot...\n" + BOOT, id="search-line-of-an-earlier-boot"),
])
def test_guest_disabled_needs_the_search_of_this_boot(console):
    """The init's "no port" line counts only from the boot now running: it must come before
    this boot's CONFORMANCE-BOOT marker (the init finished its search and the console is
    captured), not from an earlier boot."""
    with pytest.raises(LiveCheckFailed, match="found an agent port"):
        agent.check_guest(FakeGuest(agent_error=NOT_CONFIGURED, console=console), False)


def test_guest_disabled_evidence_names_the_boot():
    """The evidence carries the boot whose init searched for the port."""
    guest = FakeGuest(agent_error=NOT_CONFIGURED, console=BOOT + NO_PORT + BOOT)
    assert agent.check_guest(guest, False)["boot"] == BOOT.strip()


class Waits(FakeGuest):
    """Records the waits made on it; its agent never answers."""

    def __init__(self, **kw):
        super().__init__(agent_error="QEMU guest agent is not connected", **kw)
        self.waited = []

    def wait_for_agent(self, timeout=60):
        self.waited.append(timeout)
        raise TimeoutError(f"agent not connected after {timeout} s")


def test_a_domain_without_agent_channel_is_not_waited_for():
    """A driver that drops the agent channel costs no agent wait (180 s by default, per
    guest): there is no channel qemu-ga could ever connect on."""
    from fixtures.guests import wait_ready

    class Timeouts:
        boot_timeout, agent_timeout = 7, 180

    guest = Waits(xml="<domain><devices/></domain>")
    assert wait_ready(guest, Timeouts()) is guest
    assert guest.waited == []
    with_channel = Waits(xml=CHANNEL.format(name=agent.PORT_NAME, state="disconnected"))
    with pytest.raises(TimeoutError):
        wait_ready(with_channel, Timeouts())
    assert with_channel.waited == [180]


@pytest.mark.parametrize("level", ["host", "guest"])
def test_a_missing_agent_channel_is_the_drivers_failure(level):
    """The request enables the agent (the case's image, or the harness's command channel) and
    the driver's domain has no org.qemu.guest_agent.0 channel: a check failure at host and at
    guest level, naming the channel, instead of an error after an agent wait."""
    guest = FakeGuest(xml="<domain><devices><channel type='unix'><target type='virtio' "
                          "name='org.qemu.guest_agent.1'/></channel></devices></domain>")
    with pytest.raises(LiveCheckFailed, match="org.qemu.guest_agent.0") as failed:
        agent.require_channel(guest, True, level)
    assert failed.value.level == level and failed.value.feature == "agent"
    assert agent.require_channel(healthy(), True, level) is None
    assert agent.require_channel(guest, False, level) is None


def lost(*_args, **_kwargs):
    from conformance.errors import HostUnreachable
    raise HostUnreachable("qemu:///system", "the connection broke during the call")


def test_host_check_cut_by_a_lost_connection_is_the_hosts_error():
    """A live-XML read cut by libvirtd going away ends the wait for the channel with the
    host's error instead of waiting on and failing the driver with 'never connected'."""
    from conformance.errors import HostUnreachable
    guest = FakeGuest(xml=CHANNEL.format(name=agent.PORT_NAME, state="disconnected"), qom=dict(PORT))
    reads = []

    def live_xml():
        reads.append(1)
        if len(reads) == 2:
            lost()
        return FakeGuest.live_xml(guest)
    guest.live_xml = live_xml
    with pytest.raises(HostUnreachable, match="qemu:///system"):
        agent.check_host(guest, True, timeout=0.5)


@pytest.mark.parametrize("enabled", [True, False])
def test_guest_check_cut_by_a_lost_host_is_the_hosts_error(enabled):
    """An agent command cut by the host going away is not an agent that does not answer
    (enabled) nor one refused 'for another reason' (disabled)."""
    from conformance.errors import HostUnreachable
    guest = healthy(console=NO_PORT + BOOT)
    guest.agent = lost
    guest.ping = lost
    with pytest.raises(HostUnreachable, match="qemu:///system"):
        agent.check_guest(guest, enabled)
