"""Broken after a pause and unpause: the domain is regenerated as for a hard reboot (Nova only
resumes the paused domain), so a host that lost its RNG device refuses it."""

from broken_drivers._operations import BrokenAfterOperation, as_operation

driver = BrokenAfterOperation("broken-unpause-regenerates", "pause_unpause", rewrite_request=as_operation("reboot"))
