"""Hide the KVM signature (flavor ``hide_hypervisor_id`` (legacy), ``hw:hide_hypervisor_id``,
image ``img_hide_hypervisor_id``).

Nova: driver.py ``_set_features``: logical OR of the three (a False never overrides a
True); ``<kvm><hidden state='on'/>`` for qemu/kvm; for Windows guests also the Hyper-V
``<vendor_id state='on' value='1234567890ab'/>`` spoof.
"""

from __future__ import annotations

from lxml import etree

from conformance.reference import base
from conformance.reference.inputs import Inputs
from conformance.reference.strutils import bool_from_string


def resolve(inputs: Inputs) -> bool:
    specs = inputs.extra_specs
    hide = (bool_from_string(specs.get("hide_hypervisor_id"))
            or bool_from_string(specs.get("hw:hide_hypervisor_id"))
            or inputs.image_props.get("img_hide_hypervisor_id"))
    return bool(hide) and inputs.qemu_or_kvm


def apply(dom: etree._Element, hide: bool, inputs: Inputs) -> None:
    if not hide:
        return
    features = base.features(dom)
    hyperv = features.find("hyperv")
    if hyperv is not None:  # HyperV.format_dom puts vendor_id right after spinlocks
        vendor = etree.Element("vendor_id", state="on", value=base.SPOOFED_VENDOR_ID)
        hyperv.find("spinlocks").addnext(vendor)
    kvm = base.sub(features, "kvm")
    base.sub(kvm, "hidden", state="on")
