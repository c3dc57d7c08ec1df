"""Guest agent, live: the channel QEMU exposes (host) and a working qemu-ga (guest).

Host: the live XML has a virtio channel named ``org.qemu.guest_agent.0`` that reaches
``state='connected'`` (libvirt sets it when qemu-ga opens its port), and QEMU has a
virtserialport with that name. Without the agent: neither exists.
Guest: guest-ping, guest-info (version; guest-exec supported and enabled) and a
guest-exec round trip that echoes a nonce. Without the agent libvirt must refuse
agent commands as "not configured" (not merely "not connected") and the guest's init
must report on the console, before the boot marker of the boot now running (so the
search ran to its end in this boot), that it found no agent port. A live-XML read or an
agent command cut by the host going away is the host's error (HostUnreachable), never a
failure of these checks.
"""

from __future__ import annotations

import uuid

from conformance.errors import GuestError, HostUnreachable, WaitTimeout
from conformance.live import GUEST, HOST, clip, expect
from conformance.live import qemu
from conformance.live.shell import text
from conformance.waiters import wait_until

FEATURE = "agent"
PORT_NAME = "org.qemu.guest_agent.0"
NOT_CONFIGURED = "not configured"
NO_PORT_LINE = f"conformance-init: no virtio-serial port named {PORT_NAME}"  # images/init
BOOT_LINE = "CONFORMANCE-BOOT boot_id="  # images/init prints it after the agent search


def this_boots_init(console: str) -> tuple[str, str]:
    """(what the init printed before the last boot marker, that marker's line); ("", "")
    when no boot finished. The text starts after the previous marker."""
    before, sep, after = console.rpartition(BOOT_LINE)
    if not sep:
        return "", ""
    earlier = before.rpartition(BOOT_LINE)[2]
    return earlier, (BOOT_LINE + after.partition("\n")[0]).strip()


def channel_states(xml) -> list[str]:
    """``state`` of every virtio channel named org.qemu.guest_agent.0 in the live XML."""
    return [t.get("state", "") for t in xml.iterfind(
        "devices/channel/target[@type='virtio']") if t.get("name") == PORT_NAME]


def has_channel(guest) -> bool:
    """Whether ``guest``'s domain has a virtio channel named org.qemu.guest_agent.0 (without
    one no qemu-ga can ever connect: nothing to wait for)."""
    return any(t.get("name") == PORT_NAME
               for t in guest.live_xml().iterfind("devices/channel/target[@type='virtio']"))


def require_channel(guest, expected: bool, level: str) -> None:
    """When the request enables the agent (``expected``: the case's image, or the harness's
    command channel), the driver's domain must have the agent channel; its absence is the
    driver's failure at ``level`` (every check of that guest at that level), not an agent
    that never connected."""
    if not expected or has_channel(guest):
        return
    names = [t.get("name") for t in guest.live_xml().iterfind("devices/channel/target")]
    expect(False, FEATURE, level, "the domain has no guest agent channel although the request "
           "enables the agent", f"a virtio channel named {PORT_NAME}", names or "no channel")


def _serial_port_names(guest) -> list[str]:
    names = []
    for path in qemu.devices_of_type(guest, "virtserialport"):
        names.append(qemu.qom_get(guest, path, "name"))
    return names


def check_host(guest, enabled: bool, timeout: float = 60) -> dict:
    """The agent channel exists and connects iff ``enabled``."""
    ports = _serial_port_names(guest)
    if not enabled:
        states = channel_states(guest.live_xml())
        expect(not states and PORT_NAME not in ports, FEATURE, HOST,
               "agent channel present although the agent is disabled",
               "no org.qemu.guest_agent.0 channel", {"xml_states": states, "qemu_ports": ports})
        return {"xml_states": states, "qemu_ports": ports}
    expect(PORT_NAME in ports, FEATURE, HOST, "QEMU has no virtserialport for the agent",
           PORT_NAME, ports, xml_states=channel_states(guest.live_xml()))
    try:
        states = wait_until(lambda: (s := channel_states(guest.live_xml())) and
                            "connected" in s and s, timeout, "agent channel not connected",
                            fatal=(HostUnreachable,))
    except WaitTimeout as exc:  # reported as a check failure with what was seen
        states = channel_states(guest.live_xml())
        expect(False, FEATURE, HOST, "agent channel never reached state='connected'",
               ["connected"], states, qemu_ports=ports, error=clip(exc))
    return {"xml_states": states, "qemu_ports": ports}


def check_guest(guest, enabled: bool) -> dict:
    """qemu-ga answers ping/info/exec iff ``enabled``; otherwise libvirt says not configured."""
    if not enabled:
        try:
            answer = guest.agent("guest-ping")
        except GuestError as exc:  # AgentError: libvirt's refusal (a lost host propagates)
            message = str(exc)
            expect(NOT_CONFIGURED in message, FEATURE, GUEST,
                   "agent refused for another reason than 'not configured'",
                   f"... {NOT_CONFIGURED}", clip(message))
            console = guest.console_log()
            init_output, boot = this_boots_init(console)
            expect(NO_PORT_LINE in init_output, FEATURE, GUEST,
                   "the guest's init found an agent port (or did not finish its search)",
                   f"{NO_PORT_LINE} before this boot's {BOOT_LINE}", clip(console[-300:]))
            return {"agent_error": clip(message, 200), "console": NO_PORT_LINE, "boot": boot}
        expect(False, FEATURE, GUEST, "an agent answered although it is disabled",
               "QEMU guest agent is not configured", answer)
    try:
        guest.ping()
        info = guest.info()
    except GuestError as exc:  # AgentError: the agent is unreachable (a lost host propagates)
        expect(False, FEATURE, GUEST, "the guest agent does not answer", "guest-ping answered",
               clip(exc))
    commands = {c["name"]: c.get("enabled", True) for c in info.get("supported_commands", [])}
    expect(bool(info.get("version")), FEATURE, GUEST, "guest-info has no version",
           "a version string", info.get("version"))
    expect(commands.get("guest-exec") is True, FEATURE, GUEST,
           "guest-exec not supported or disabled", True, commands.get("guest-exec"),
           commands=sorted(commands)[:40])
    nonce = uuid.uuid4().hex
    result = guest.exec(["/bin/echo", nonce], timeout=30)
    out = text(result.stdout).strip()
    expect(result.rc == 0 and out == nonce, FEATURE, GUEST, "guest-exec round trip",
           {"rc": 0, "stdout": nonce}, {"rc": result.rc, "stdout": clip(out)})
    return {"version": info["version"], "exec_rc": result.rc, "commands": len(commands)}
