"""Broken: a q35 guest gets no watchdog device (as if the implicit iTCO of libvirt 9.1 and
later stood in for the i6300esb the flavor or image asked for)."""

from broken_drivers._base import Broken


def _drop_on_q35(dom):
    if any("q35" in machine for machine in dom.xpath("os/type/@machine")):
        for dev in dom.xpath("devices/watchdog"):
            dev.getparent().remove(dev)


driver = Broken("broken-q35-no-watchdog", rewrite_xml=_drop_on_q35)
