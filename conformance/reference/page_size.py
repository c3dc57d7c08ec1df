"""Memory page size request checks (flavor ``hw:mem_page_size``, image ``hw_mem_page_size``).

Nova: hardware.py ``_get_numa_pagesize_constraint``, run at the API by
``numa_get_constraints`` before the locked-memory rule. The reference only validates:
it does not model the NUMA topology / hugepages a page size implies.
"""

from __future__ import annotations

from conformance.contract import Rejected
from conformance.reference.inputs import Inputs
from conformance.reference.strutils import string_to_bytes

KEYWORDS = ("any", "large", "small")


def _check(request: str) -> str:
    if request in KEYWORDS or request.isdigit():
        return request
    try:
        string_to_bytes(request)
    except ValueError:
        raise Rejected("MemoryPageSizeInvalid", f"Invalid memory page size '{request}'") from None
    return request


def check(inputs: Inputs) -> str | None:
    """The effective page size request, or None; raises MemoryPageSize{Invalid,Forbidden}."""
    flavor_request = inputs.extra_specs.get("hw:mem_page_size")
    image_request = inputs.image_props.get("hw_mem_page_size")
    if not flavor_request and image_request:
        raise Rejected("MemoryPageSizeForbidden",
                       f"Page size {image_request} forbidden against '<empty>'")
    if not flavor_request:
        return None
    pagesize = _check(flavor_request)
    if image_request and pagesize in ("any", "large"):
        return _check(image_request)
    if image_request:
        raise Rejected("MemoryPageSizeForbidden",
                       f"Page size {image_request} forbidden against '{flavor_request}'")
    return pagesize
