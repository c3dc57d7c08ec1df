"""Broken after one operation: the host's ``rng_dev_path`` is not checked again, so a
device that disappeared since the create still gets an RNG backend (the default
/dev/urandom) instead of RngDeviceNotExist. ``stop_start`` (Nova powers on through a hard
reboot, which checks it) and ``resize`` (``finish_migration`` regenerates the domain)."""

import dataclasses
import os

from broken_drivers._lifecycle import BrokenAfter
from conformance.contract import HostSettings


def _unchecked(request):
    if os.path.exists(request.host.rng_dev_path):
        return request
    return dataclasses.replace(request, host=HostSettings())


stop_start = BrokenAfter("broken-stop-start-rng-path-unchecked", "stop_start",
                         rewrite_request=_unchecked)
resize = BrokenAfter("broken-resize-rng-path-unchecked", "resize", rewrite_request=_unchecked)
