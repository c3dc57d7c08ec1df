"""Memory page size request checks (flavor ``hw:mem_page_size``, image ``hw_mem_page_size``).

Nova: hardware.py ``_get_numa_pagesize_constraint``, run at the API by
``numa_get_constraints`` before the locked-memory rule. The reference only validates:
it does not model the NUMA topology / hugepages a page size implies, except that a
page size gives the instance one (``numa_get_constraints``), which a rebuild must not
change (``rebuild_conflict``).
"""

from __future__ import annotations

from conformance.contract import Rejected
from conformance.reference.inputs import Inputs
from conformance.reference.strutils import string_to_bytes

KEYWORDS = ("any", "large", "small")
MEMPAGES = {"small": -1, "large": -2, "any": -3}  # hardware.py MEMPAGES_SMALL/LARGE/ANY


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


def pagesize_of(request: str | None) -> int | None:
    """``check_and_return_pages_size``: the cell's page size (KiB or MEMPAGES_*), None if unset."""
    if request is None:
        return None
    if request in MEMPAGES:
        return MEMPAGES[request]
    if request.isdigit():
        return int(request)
    return int(string_to_bytes(request)) // 1024


def rebuild_conflict() -> Rejected:
    """``_validate_numa_rebuild`` (compute/api.py): the new image changes the instance's NUMA
    constraints (of those the reference models: a page size, a pinned CPU policy; see
    ``cpu_policy.numa_key``)."""
    return Rejected("ImageNUMATopologyRebuildConflict",
                    "An instance's NUMA topology cannot be changed as part of a rebuild. "
                    "The image provided is invalid for this instance.")
