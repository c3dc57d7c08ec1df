"""Broken after a hard reboot: the regenerated domain forgets one image property, as if the
driver rebuilt it from the flavor alone. ``watchdog`` drops ``hw_watchdog_action`` (the
flavor's action, or none, instead of the image's), ``hiding`` drops
``img_hide_hypervisor_id`` (the KVM signature shows again). Right on create and on every
other operation."""

import dataclasses

from broken_drivers._lifecycle import BrokenAfter


def _without(key: str):
    def rewrite(request):
        properties = {k: v for k, v in request.image.properties.items() if k != key}
        return dataclasses.replace(request, image=dataclasses.replace(request.image,
                                                                      properties=properties))
    return rewrite


watchdog = BrokenAfter("broken-reboot-loses-image-watchdog", "reboot",
                       rewrite_request=_without("hw_watchdog_action"))
hiding = BrokenAfter("broken-reboot-loses-image-hiding", "reboot",
                     rewrite_request=_without("img_hide_hypervisor_id"))
