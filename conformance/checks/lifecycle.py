"""Lifecycle, level 1: the domain after a reboot, stop/start, resize or rebuild is the same
instance: its ``<uuid>``, any ``<sysinfo>`` system uuid (the guest's SMBIOS uuid) and its
``<name>`` are the request's (Nova regenerates the XML for the existing instance; a new
uuid would be a new domain to libvirt)."""

from __future__ import annotations

import uuid as uuidlib

from lxml import etree

from conformance.checks.finding import Finding, excerpt
from conformance.contract import Request


def same_uuid(text: str | None, wanted: str) -> bool:
    """Whether ``text`` reads (as libvirt and SMBIOS do: any case, hyphens optional) as ``wanted``."""
    try:
        return uuidlib.UUID((text or "").strip()) == uuidlib.UUID(wanted)
    except ValueError:
        return False


def check_identity(dom: etree._Element, request: Request) -> list[Finding]:
    if request.operation == "create":
        return []
    findings = []
    for tag, want in (("uuid", request.instance_uuid), ("name", request.instance_name)):
        got = dom.findtext(tag)
        if (got or "").strip().lower() != want.lower():
            findings.append(Finding(f"lifecycle.{tag}", f"<{tag}>{want}</{tag}> (the instance's, "
                                    f"kept across the {request.operation})", repr(got),
                                    excerpt(dom.find(tag))))
    for entry in dom.iterfind("sysinfo/system/entry[@name='uuid']"):
        if not same_uuid(entry.text, request.instance_uuid):
            findings.append(Finding("lifecycle.uuid", f"<sysinfo> system uuid {request.instance_uuid}"
                                    f" (the instance's, kept across the {request.operation})",
                                    repr(entry.text), excerpt(dom.find("sysinfo"))))
    return findings
