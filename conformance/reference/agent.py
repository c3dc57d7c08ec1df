"""QEMU guest agent channel (image ``hw_qemu_guest_agent``).

Nova: driver.py ``_set_qemu_guest_agent`` / ``_add_qga_device`` (qemu/kvm only);
the property is a FlexibleBoolean, so unknown strings mean False.
"""

from __future__ import annotations

from lxml import etree

from conformance.reference import base
from conformance.reference.inputs import Inputs

TARGET_NAME = "org.qemu.guest_agent.0"


def resolve(inputs: Inputs) -> bool:
    return inputs.qemu_or_kvm and bool(inputs.image_props.get("hw_qemu_guest_agent", False))


def socket_path(instance_name: str) -> str:
    return f"/var/lib/libvirt/qemu/{TARGET_NAME}.{instance_name}.sock"


def apply(dom: etree._Element, enabled: bool, inputs: Inputs, iommu: bool = False) -> None:
    """The channel; with ``iommu`` (memory encryption before Nova 34.0.0) first an explicit
    ``<controller type='virtio-serial'><driver iommu='on'/>`` (driver.py
    ``_add_virtio_serial_controller``, then ``set_driver_iommu_for_all_devices``)."""
    if not enabled:
        return
    if iommu:
        controller = base.sub(base.devices(dom), "controller", type="virtio-serial")
        base.sub(controller, "driver", iommu="on")
    channel = base.sub(base.devices(dom), "channel", type="unix")
    base.sub(channel, "source", mode="bind", path=socket_path(inputs.request.instance_name))
    base.sub(channel, "target", type="virtio", name=TARGET_NAME)
