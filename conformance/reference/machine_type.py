"""Machine type (image ``hw_machine_type``, the host's ``[libvirt] hw_machine_type``).

Nova: libvirt/utils.py ``get_machine_type``: the image property when set, else the host's
configured default for the guest architecture, else ``pc`` for x86_64
(``get_default_machine_type``); driver.py ``_configure_guest_by_virt_type`` writes it as
``<os><type machine=...>``. The host's list of machine types (``_check_machine_type``,
``InvalidMachineType`` for an unknown one) is not modelled: libvirt refuses such a domain
at define time (level xml).
"""

from __future__ import annotations

from conformance.contract import Rejected
from conformance.reference.inputs import Inputs

DEFAULT = "pc"  # get_default_machine_type: x86_64 and i686


def resolve(inputs: Inputs) -> str:
    image = inputs.image_props.get("hw_machine_type")
    if image is not None:
        return image
    return inputs.host.hw_machine_type or DEFAULT


def family(machine: str | None) -> str:
    """``q35`` for q35 machines (``q35``, ``pc-q35-7.2``), ``pc`` for i440fx ones (``pc``,
    ``pc-i440fx-7.2``, and no machine at all: QEMU's x86_64 default), else the name."""
    if not machine or machine == "pc" or machine.startswith("pc-i440fx-"):
        return "pc"
    if "q35" in machine:
        return "q35"
    return machine


def check_stateless_firmware(inputs: Inputs) -> None:
    """Before Nova 34.0.0 (releases.py ``stateless-bios``), ``get_stateless_firmware_constraint``
    refuses ``hw_firmware_stateless=true`` without UEFI firmware with a plain ``Invalid``
    (no contract name: the reference says InvalidImageProperty, docs/nova-differences.md D3),
    in the scheduler's resource request and again when the driver builds the guest."""
    if inputs.has("stateless-bios") or not inputs.image_props.get("hw_firmware_stateless"):
        return
    if inputs.image_props.get("hw_firmware_type") != "uefi":
        raise Rejected("InvalidImageProperty",
                       "Stateless firmware is supported only when UEFI firmware type is used.")
