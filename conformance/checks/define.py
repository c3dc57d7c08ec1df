"""The sandbox and defineXML at level 1: is the driver's XML safe to hand a libvirt host, and
does the real host accept it (then it is undefined)?

The driver's XML goes through the lab's sandbox first (:mod:`conformance.lab.sandbox`): only
libvirt's canonical reading, inside the allow list, named and marked for the run (so the
run's cleanup finds it if the check is interrupted), reaches the host. A sandbox refusal
is a finding naming the rule (``sandbox.<rule>``); the host never saw the XML. Without a
libvirt host, :func:`check_sandbox` gives the sandbox's verdict alone.
"""

from __future__ import annotations

import os
import uuid

from conformance.checks.finding import Finding
from conformance.errors import DomainRefused, SandboxViolation

SANDBOX_EXPECTED = "domain XML inside the harness sandbox"
DEFINE_NOT_APPLICABLE = (
    "not applicable: a UEFI domain (every memory-encrypted, AMD SEV, one) needs firmware, which libvirt "
    "reads from the host and for which it creates an nvram file there; the harness never hands "
    "it to libvirt (judged by the checks, libvirt's schema and the sandbox, its firmware and "
    "launch security by their own allow list: conformance/lab/encrypted.py)")


def never_defined(expected, request) -> bool:
    """Whether the harness judges the accepted case's domain without defining it: memory
    encryption expected, or an image asking for UEFI firmware (``hw_firmware_type=uefi``)."""
    firmware = str(request.image.properties.get("hw_firmware_type", "")).strip().lower()
    return expected.features.mem_encryption is not None or firmware == "uefi"


def check_sandbox(xml: str, request) -> list[Finding]:
    """The sandbox's verdict on ``xml`` for ``request`` (its boot files, virt type, instance
    name; RNG devices looked up on this machine), with no libvirt host involved."""
    from conformance.lab.runs import STATE_DIR, Owner
    from conformance.lab.sandbox import Placement, prepare

    placement = Placement(
        name="cfm-xml-check", uuid=str(uuid.uuid4()),
        console_path=str(STATE_DIR / "runs" / "xml-check" / "console.log"),
        owner=Owner("xml-check", os.getpid(), ""), virt_type=request.virt_type,
        kernel=request.boot.kernel, initrd=request.boot.initrd, cmdline=request.boot.cmdline,
        instance_name=request.instance_name)
    try:
        prepare(xml, placement)
    except SandboxViolation as exc:
        return [Finding(f"sandbox.{exc.rule}", SANDBOX_EXPECTED, str(exc))]
    return []


def check_encrypted(xml: str, request) -> list[Finding]:
    """The sandbox's verdict on a memory-encrypted domain (the reference expects encryption):
    its firmware and launch security against their allow list, the rest as any domain; no
    libvirt host involved, whether or not a lab is given (:data:`DEFINE_NOT_APPLICABLE`)."""
    from lxml import etree

    from conformance.lab import encrypted
    from conformance.lab.sandbox import parse_untrusted

    try:
        rest = encrypted.split(parse_untrusted(xml))
    except SandboxViolation as exc:
        return [Finding(f"sandbox.{exc.rule}", SANDBOX_EXPECTED, str(exc))]
    return check_sandbox(etree.tostring(rest, encoding="unicode"), request)


def check_define(lab, xml: str, request) -> list[Finding]:
    """Sandbox ``xml`` for ``request`` (its boot files, virt type and instance name), define
    it on ``lab``'s libvirt host and undefine it again. A host that went away raises
    HostUnreachable (no verdict on the driver's XML)."""
    placement = lab.placement(request.boot, slug="xml", instance_name=request.instance_name,
                              virt_type=request.virt_type, define_only=True)
    try:
        lab.define_and_undefine(xml, placement)
    except SandboxViolation as exc:
        return [Finding(f"sandbox.{exc.rule}", SANDBOX_EXPECTED, str(exc))]
    except DomainRefused as exc:
        return [Finding("libvirt.define", "libvirt accepts the domain (defineXML)", str(exc))]
    return []
