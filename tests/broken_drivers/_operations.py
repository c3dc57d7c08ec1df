"""A protocol-3 reference driver that is right on create and on every operation but one."""

from __future__ import annotations

import dataclasses

from broken_drivers._lifecycle import BrokenAfter


class BrokenAfterOperation(BrokenAfter):
    """:class:`BrokenAfter` for the operations of protocol 3."""

    protocol = 3


def as_operation(operation: str):
    """A request rewrite: build the domain as for ``operation`` on the same host (a driver
    that confuses two operations), without a migration's source."""
    def rewrite(request):
        return dataclasses.replace(request, operation=operation, source_host=None, source_domain=None)
    return rewrite


__all__ = ["BrokenAfterOperation", "as_operation"]
