"""Broken after rebuild: the domain is regenerated from the old image's properties."""

import dataclasses

from broken_drivers._lifecycle import BrokenAfter


def _old_image(request):
    return dataclasses.replace(request, image=request.old_image)


driver = BrokenAfter("broken-rebuild-ignores-new-image", "rebuild", rewrite_request=_old_image)
