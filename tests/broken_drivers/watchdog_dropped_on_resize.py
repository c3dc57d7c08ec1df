"""Broken after resize: the regenerated domain loses its watchdog device."""

from broken_drivers._lifecycle import BrokenAfter


def _drop(dom):
    for dev in dom.xpath("devices/watchdog"):
        dev.getparent().remove(dev)


driver = BrokenAfter("broken-watchdog-dropped-on-resize", "resize", rewrite_xml=_drop)
