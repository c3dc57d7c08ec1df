"""Broken after a suspend and resume: the restored domain has lost its RNG rate limit."""

from broken_drivers._operations import BrokenAfterOperation


def _drop_rate(dom):
    for rate in dom.xpath("devices/rng/rate"):
        rate.getparent().remove(rate)


driver = BrokenAfterOperation("broken-rng-rate-dropped-on-resume", "suspend_resume", rewrite_xml=_drop_rate)
