"""Broken on a soft reboot: the domain is always regenerated, as a hard reboot (Nova relaunches
the same domain after the guest shut down on ACPI). At level xml a host that lost its RNG
device shows it; that the guest is never asked is for the live checks."""

from broken_drivers._operations import BrokenAfterOperation, as_operation

driver = BrokenAfterOperation("broken-soft-reboot-is-hard", "soft_reboot", rewrite_request=as_operation("reboot"))
