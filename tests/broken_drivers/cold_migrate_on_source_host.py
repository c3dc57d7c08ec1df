"""Broken after a cold migration: the domain is regenerated with the source host's settings,
not the destination's (its RNG device, its dedicated CPUs are never checked)."""

import dataclasses

from broken_drivers._operations import BrokenAfterOperation


def _source(request):
    return dataclasses.replace(request, host=request.source_host)


driver = BrokenAfterOperation("broken-cold-migrate-on-source-host", "cold_migrate", rewrite_request=_source)
