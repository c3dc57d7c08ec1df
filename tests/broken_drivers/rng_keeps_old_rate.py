"""Broken after resize: the RNG rate limit is taken from the old flavor, not the new one."""

import dataclasses

from broken_drivers._base import with_specs
from broken_drivers._lifecycle import BrokenAfter

RATE_KEYS = ("hw_rng:rate_bytes", "hw_rng:rate_period")


def _old_rate(request):
    specs = {k: v for k, v in request.flavor.extra_specs.items() if k not in RATE_KEYS}
    specs.update({k: v for k, v in request.old_flavor.extra_specs.items() if k in RATE_KEYS})
    return with_specs(request, extra_specs=specs)


driver = BrokenAfter("broken-rng-keeps-old-rate", "resize", rewrite_request=_old_rate)
