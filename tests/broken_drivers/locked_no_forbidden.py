"""Broken: locked memory without a memory page size is accepted (no LockMemoryForbidden)."""

from broken_drivers._base import Broken, with_specs


def _pretend_page_size(request):
    specs = request.flavor.extra_specs
    if "hw:mem_page_size" in specs or "hw_mem_page_size" in request.image.properties:
        return request
    return with_specs(request, extra_specs={**specs, "hw:mem_page_size": "small"})


driver = Broken("broken-locked-no-forbidden", rewrite_request=_pretend_page_size)
