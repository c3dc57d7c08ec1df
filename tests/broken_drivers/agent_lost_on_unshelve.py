"""Broken after a shelve and unshelve: the spawned domain has no guest agent channel."""

from broken_drivers._operations import BrokenAfterOperation


def _drop_agent(dom):
    for channel in dom.xpath("devices/channel[target/@name='org.qemu.guest_agent.0']"):
        channel.getparent().remove(channel)


driver = BrokenAfterOperation("broken-agent-lost-on-unshelve", "shelve_unshelve", rewrite_xml=_drop_agent)
