"""virtio RNG device (flavor ``hw_rng:allowed``, ``hw_rng:rate_bytes``, ``hw_rng:rate_period``).

Nova: driver.py ``_add_rng_device`` (qemu/kvm only) and config.py
``LibvirtConfigGuestRng.format_dom``. Enabled unless ``hw_rng:allowed`` is false
(default 'True' since Ussuri); the image ``hw_rng_model`` property is not consulted.
``<rate>`` only when both values are non-zero. RngDeviceNotExist when the host's
``rng_dev_path`` is set but missing.
"""

from __future__ import annotations

import os

from lxml import etree

from conformance.contract import Rejected
from conformance.reference import base
from conformance.reference.features import RngSettings
from conformance.reference.inputs import Inputs
from conformance.reference.strutils import bool_from_string


def _int(name: str, value) -> int:
    try:
        return int(value)
    except ValueError:  # only reachable with API validation off (Nova: build fails)
        raise Rejected("InvalidExtraSpec", f"Validation failed; '{value}' is not a valid "
                       "integer value.") from None


def resolve(inputs: Inputs) -> RngSettings | None:
    if not inputs.qemu_or_kvm:
        return None
    specs = inputs.extra_specs
    if not bool_from_string(specs.get("hw_rng:allowed", "True")):
        return None
    rate_bytes = rate_period = None
    raw_bytes = specs.get("hw_rng:rate_bytes", 0)
    if raw_bytes:  # a raw string: '0' is truthy here, as in Nova
        rate_bytes = _int("hw_rng:rate_bytes", raw_bytes)
        rate_period = _int("hw_rng:rate_period", specs.get("hw_rng:rate_period", 0))
    if not (rate_bytes and rate_period):  # format_dom emits <rate> only if both are truthy
        rate_bytes = rate_period = None
    path = inputs.request.host.rng_dev_path
    if path and not os.path.exists(path):
        raise Rejected("RngDeviceNotExist",
                       f"The provided RNG device path: ({path}) is not present on the host.")
    return RngSettings(backend_path=path, rate_bytes=rate_bytes, rate_period=rate_period)


def apply(dom: etree._Element, rng: RngSettings | None, inputs: Inputs, iommu: bool = False) -> None:
    """``<rng>``; with ``iommu`` (memory encryption before Nova 34.0.0) ``<driver iommu='on'/>``
    (designer.py ``set_driver_iommu_for_all_devices``)."""
    if rng is None:
        return
    dev = base.sub(base.devices(dom), "rng", model="virtio")
    if rng.rate_bytes and rng.rate_period:
        base.sub(dev, "rate", period=str(rng.rate_period), bytes=str(rng.rate_bytes))
    base.sub(dev, "backend", base.xml_text(rng.backend_path, "host.rng_dev_path"), model="random")
    if iommu:
        base.sub(dev, "driver", iommu="on")
