"""Broken: the RNG rate limit (<rate>) is silently dropped."""

from broken_drivers._base import Broken


def _drop_rate(dom):
    for rate in dom.xpath("devices/rng/rate"):
        rate.getparent().remove(rate)


driver = Broken("broken-rng-drops-rate", rewrite_xml=_drop_rate)
