"""Locked guest memory (flavor ``hw:locked_memory``, image ``hw_locked_memory``), explicit;
realtime and memory encryption lock it implicitly (``driver._compute``).

Nova: hardware.py ``get_locked_memory_constraint`` (run at the API by
``numa_get_constraints`` right after the page size checks, and by the driver's
``_get_guest_memory_backing_config``); config.py ``LibvirtConfigGuestMemoryBacking``.
"""

from __future__ import annotations

from lxml import etree

from conformance.contract import Rejected
from conformance.reference.features import Features
from conformance.reference.inputs import Inputs
from conformance.reference.strutils import bool_from_string


def resolve(inputs: Inputs) -> bool:
    """The explicit request (flavor, else image): True, False; raises the conflict and
    LockMemoryForbidden."""
    specs, props = inputs.extra_specs, inputs.image_props
    raw_flavor = specs.get("hw:locked_memory")
    image_value = props.get("hw_locked_memory")
    if raw_flavor is not None:
        flavor_value = bool_from_string(raw_flavor)
        if image_value is not None and flavor_value != image_value:
            raise Rejected(
                "FlavorImageLockedMemoryConflict",
                f"locked_memory value in image ({image_value}) and flavor ({flavor_value}) "
                "conflict. A consistent value is expected if both specified.")
        locked = flavor_value
    else:
        locked = image_value
    if locked and not (specs.get("hw:mem_page_size") or props.get("hw_mem_page_size")):
        raise Rejected("LockMemoryForbidden", "locked_memory value in image or flavor is "
                       "forbidden when mem_page_size is not set.")
    return bool(locked)


def apply(dom: etree._Element, features: Features, inputs: Inputs) -> None:
    """``<memoryBacking>`` right after ``<memory>`` (Nova's order): ``<nosharepages/>`` for a
    realtime guest (``sharedpages = False``), ``<locked/>`` when locked."""
    if not (features.locked_memory or features.realtime):
        return
    backing = etree.Element("memoryBacking")
    if features.realtime:
        etree.SubElement(backing, "nosharepages")
    if features.locked_memory:
        etree.SubElement(backing, "locked")
    dom.find("memory").addnext(backing)
