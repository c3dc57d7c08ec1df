"""Memory encryption: AMD SEV, SEV-ES, SEV-SNP (flavor ``hw:mem_encryption``,
``hw:mem_encryption_model``; image ``hw_mem_encryption``, ``hw_mem_encryption_model``,
``hw_firmware_type``, ``hw_firmware_stateless``, ``hw_machine_type``).

Nova: hardware.py ``get_mem_encryption_constraint`` and (34.0.0) the ``MemEncryptionConfig``
classes; driver.py ``_get_mem_encryption_config``, ``_guest_configure_sev_mem_encryption``,
config.py ``LibvirtConfigGuestSEV(SNP)LaunchSecurity``. Only what touches the six features
is judged: locked memory (SEV and SEV-ES lock, SNP does not), the guest agent's
virtio-serial controller and the RNG's ``<driver iommu='on'/>`` before 34.0.0. Intel TDX
(34.0.0) is not modelled.
"""

from __future__ import annotations

from lxml import etree

from conformance.contract import Rejected
from conformance.reference import base
from conformance.reference.inputs import Inputs
from conformance.reference.strutils import bool_from_string

SEV, SEV_ES, SEV_SNP = "amd-sev", "amd-sev-es", "amd-sev-snp"
NEEDS_LOCKED = {SEV: True, SEV_ES: True, SEV_SNP: False}  # MemEncryptionConfig*.needs_locked_memory
SEV_POLICY = 0x0033  # NODEBG | NOKS | DOMAIN | SEV
SEV_ES_POLICY = SEV_POLICY | 0x4
SEV_SNP_POLICY = 0x00030000  # SMT | RESERVED


def _conflict(what: str, flavor_value, image_value, inputs: Inputs) -> Rejected:
    return Rejected("FlavorImageConflict", (
        f"Flavor {inputs.flavor_name} has hw:{what} extra spec explicitly set to {flavor_value}, "
        f"conflicting with image {inputs.image_name} which has hw_{what} property explicitly "
        f"set to {image_value}"))


def _requesters(flavor: bool | None, image: bool | None, inputs: Inputs) -> str:
    who = ([f"hw:mem_encryption extra spec in {inputs.flavor_name} flavor"] if flavor else []) + \
          ([f"hw_mem_encryption property of image {inputs.image_name}"] if image else [])
    return " and ".join(who)


def _check_uefi(requesters: str, inputs: Inputs) -> None:
    if inputs.image_props.get("hw_firmware_type") != "uefi":
        raise Rejected("FlavorImageConflict", (
            f"Memory encryption is requested by {requesters} but the image metadata doesn't "
            "have the 'hw_firmware_type' property set to 'uefi'"))


def _check_machine(model: str, machine: str | None, inputs: Inputs) -> None:
    machine = machine or inputs.image_props.get("hw_machine_type")
    if machine is not None and "q35" not in machine:
        raise Rejected("InvalidMachineType", (
            f"Machine type '{machine}' is not compatible with image {inputs.image_name} "
            f"({inputs.image_name}): q35 type is required for {model} to work"))


def _model(inputs: Inputs) -> str:
    flavor = inputs.extra_specs.get("hw:mem_encryption_model")
    image = inputs.image_props.get("hw_mem_encryption_model")
    if not inputs.has("sev-es-model"):  # the keys do not exist: always SEV
        return SEV
    if flavor is not None and image is not None and flavor != image:
        raise _conflict("mem_encryption_model", flavor, image, inputs)
    model = image or flavor or SEV
    if model not in NEEDS_LOCKED or (model == SEV_SNP and not inputs.has("sev-snp")):
        # only a flavor the API did not validate: Nova's plain Invalid (nova-differences D3)
        raise Rejected("InvalidExtraSpec", f"Invalid memory encryption model {model!r}.")
    return model


def constraint(inputs: Inputs, machine: str | None = None) -> str | None:
    """``get_mem_encryption_constraint``: the requested model, or None; ``machine`` is the
    driver's machine type (None at the API: only the image's is checked)."""
    raw = inputs.extra_specs.get("hw:mem_encryption")
    flavor = None if raw is None else bool_from_string(raw)
    image = inputs.image_props.get("hw_mem_encryption")
    if not flavor and not image:
        return None
    if flavor is not None and image is not None and flavor != image:
        raise _conflict("mem_encryption", raw, image, inputs)
    requesters = _requesters(flavor, image, inputs)
    if not inputs.has("sev-snp"):  # before the MemEncryptionConfig classes: firmware and machine first
        _check_uefi(requesters, inputs)
        _check_machine("SEV", machine, inputs)
        return _model(inputs)
    model = _model(inputs)
    _check_uefi(requesters, inputs)
    _check_machine(model, machine, inputs)
    if model == SEV_SNP and not _stateless(inputs):
        raise Rejected("StatelessFirmwareRequired", (
            f"The {model} memory encryption model requires stateless firmware but the image "
            "metadata doesn't have the 'hw_firmware_stateless' property set to True"))
    return model


def _stateless(inputs: Inputs) -> bool:
    """``get_stateless_firmware_constraint`` (34.0.0): only with UEFI firmware."""
    if inputs.image_props.get("hw_firmware_type") != "uefi":
        return False
    return bool(inputs.image_props.get("hw_firmware_stateless"))


def needs_locked(model: str | None) -> bool:
    return bool(model) and NEEDS_LOCKED[model]


def apply(dom: etree._Element, model: str | None) -> None:
    """``<launchSecurity>`` (last in the domain, as Nova) and UEFI firmware chosen by libvirt."""
    if model is None:
        return
    dom.find("os").set("firmware", "efi")
    if model == SEV_SNP:
        security = base.sub(dom, "launchSecurity", type="sev-snp", authorKey="no", vcek="yes",
                            kernelHashes="no")
        base.sub(security, "policy", f"0x{SEV_SNP_POLICY:08x}")
    else:
        security = base.sub(dom, "launchSecurity", type="sev")
        base.sub(security, "policy", f"0x{SEV_ES_POLICY if model == SEV_ES else SEV_POLICY:04x}")
