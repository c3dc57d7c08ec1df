"""Broken: a realtime guest (``<vcpusched>`` in its ``<cputune>``) loses its implicit
``<locked/>``, as a driver would that locks memory only when ``hw:locked_memory`` asks."""

from broken_drivers._base import Broken


def _unlock_realtime(dom):
    if dom.xpath("cputune/vcpusched"):
        for locked in dom.xpath("memoryBacking/locked"):
            locked.getparent().remove(locked)


driver = Broken("broken-realtime-drops-locked", rewrite_xml=_unlock_realtime)
