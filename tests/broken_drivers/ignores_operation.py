"""Broken: a resize or a rebuild regenerates the domain the instance had before it (the
old flavor or the old image), as if the operation had not happened.

Specs ``broken_drivers.ignores_operation:resize`` and ``...:rebuild`` (a reboot and a
stop/start keep flavor and image: there is nothing to ignore).
"""

import dataclasses

from broken_drivers._lifecycle import BrokenAfter


def _before(request):
    if request.operation == "resize":
        return dataclasses.replace(request, operation="create", flavor=request.old_flavor,
                                   old_flavor=None)
    return dataclasses.replace(request, operation="create", image=request.old_image,
                               old_image=None)


resize = BrokenAfter("broken-resize-ignored", "resize", rewrite_request=_before)
rebuild = BrokenAfter("broken-rebuild-ignored", "rebuild", rewrite_request=_before)
