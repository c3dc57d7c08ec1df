"""Broken after an evacuation: the domain the lost host ran is reused on the new host, never
regenerated there (its RNG device is never checked)."""

from broken_drivers._operations import BrokenAfterOperation, as_operation

driver = BrokenAfterOperation("broken-evacuate-keeps-domain", "evacuate", rewrite_request=as_operation("suspend_resume"))
