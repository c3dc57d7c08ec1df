"""Virtual PMU (flavor ``hw:pmu``, image ``hw_pmu``).

Nova: hardware.py ``get_pmu_constraint`` (checked at the API by
``_validate_flavor_image_nostatus`` and again in ``_set_features``, qemu/kvm only) and
config.py ``LibvirtConfigGuestFeaturePMU``. Unset in both: no element.
"""

from __future__ import annotations

from lxml import etree

from conformance.contract import Rejected
from conformance.reference import base
from conformance.reference.inputs import Inputs
from conformance.reference.strutils import bool_from_string


def resolve(inputs: Inputs) -> bool | None:
    raw = inputs.extra_specs.get("hw:pmu")
    flavor_value = None if raw is None else bool_from_string(raw)
    image_value = inputs.image_props.get("hw_pmu")
    if image_value is not None and flavor_value is not None and image_value != flavor_value:
        raise Rejected(
            "FlavorImageConflict",
            f"Flavor {inputs.flavor_name} has hw:pmu extra spec explicitly set to "
            f"{flavor_value}, conflicting with image {inputs.image_name} which has "
            f"hw_pmu explicitly set to {image_value}.")
    value = flavor_value if flavor_value is not None else image_value
    return value if inputs.qemu_or_kvm else None


def apply(dom: etree._Element, pmu: bool | None, inputs: Inputs) -> None:
    if pmu is not None:
        base.sub(base.features(dom), "pmu", state="on" if pmu else "off")
