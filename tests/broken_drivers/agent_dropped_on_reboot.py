"""Broken after reboot: the regenerated domain loses the guest agent channel."""

from broken_drivers._lifecycle import BrokenAfter


def _drop(dom):
    for target in dom.xpath("devices/channel/target[@name='org.qemu.guest_agent.0']"):
        channel = target.getparent()
        channel.getparent().remove(channel)


driver = BrokenAfter("broken-agent-dropped-on-reboot", "reboot", rewrite_xml=_drop)
