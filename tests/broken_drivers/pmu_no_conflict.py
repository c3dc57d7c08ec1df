"""Broken: a flavor/image hw:pmu conflict is not rejected (the flavor silently wins)."""

from broken_drivers._base import Broken, with_specs


def _flavor_wins(request):
    props = dict(request.image.properties)
    if "hw:pmu" in request.flavor.extra_specs:
        props.pop("hw_pmu", None)
    return with_specs(request, properties=props)


driver = Broken("broken-pmu-no-conflict", rewrite_request=_flavor_wins)
