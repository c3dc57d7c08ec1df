"""Broken: the guest agent channel's target is named org.qemu.guest_agent (no '.0')."""

from broken_drivers._base import Broken


def _rename(dom):
    for target in dom.xpath("devices/channel/target[@name='org.qemu.guest_agent.0']"):
        target.set("name", "org.qemu.guest_agent")


driver = Broken("broken-agent-wrong-target", rewrite_xml=_rename)
