"""Broken: the legacy flavor key hide_hypervisor_id is ignored (only hw:/img_ keys count)."""

from broken_drivers._base import Broken, with_specs


def _drop_legacy(request):
    specs = {k: v for k, v in request.flavor.extra_specs.items() if k != "hide_hypervisor_id"}
    return with_specs(request, extra_specs=specs)


driver = Broken("broken-hide-ignores-legacy", rewrite_request=_drop_legacy)
