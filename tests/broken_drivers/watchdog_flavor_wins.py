"""Broken: the flavor's hw:watchdog_action beats the image's hw_watchdog_action (swapped)."""

from broken_drivers._base import Broken, with_specs


def _flavor_wins(request):
    props = dict(request.image.properties)
    if request.flavor.extra_specs.get("hw:watchdog_action"):
        props.pop("hw_watchdog_action", None)
    return with_specs(request, properties=props)


driver = Broken("broken-watchdog-flavor-wins", rewrite_request=_flavor_wins)
