"""Broken after a live migration: the destination XML has no watchdog device (a careless
rewrite of the migratable XML)."""

from broken_drivers._operations import BrokenAfterOperation


def _drop(dom):
    for dev in dom.xpath("devices/watchdog"):
        dev.getparent().remove(dev)


driver = BrokenAfterOperation("broken-watchdog-dropped-on-live-migrate", "live_migrate", rewrite_xml=_drop)
