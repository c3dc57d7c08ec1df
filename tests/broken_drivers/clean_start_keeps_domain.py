"""Broken after a clean stop and start: the old domain is started again, not regenerated on
the host now (power_on is a hard reboot in Nova), so a lost RNG device is never checked."""

from broken_drivers._operations import BrokenAfterOperation, as_operation

driver = BrokenAfterOperation("broken-clean-start-keeps-domain", "clean_stop_start", rewrite_request=as_operation("suspend_resume"))
