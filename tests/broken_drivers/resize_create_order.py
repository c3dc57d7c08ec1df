"""Broken on resize: the flavor/image checks run in create's order (numa_get_constraints
before the PMU conflict), so a request violating both gets create's rejection."""

import dataclasses

from broken_drivers._lifecycle import BrokenAfter


def _as_create(request):
    return dataclasses.replace(request, operation="create", old_flavor=None)


driver = BrokenAfter("broken-resize-create-order", "resize", rewrite_request=_as_create)
