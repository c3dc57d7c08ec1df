"""Lifecycle, level 1: the domain after a reboot, stop/start, resize or rebuild is the same
instance: its ``<uuid>`` and ``<name>`` are the request's (Nova regenerates the XML for the
existing instance; a new uuid would be a new domain to libvirt)."""

from __future__ import annotations

from lxml import etree

from conformance.checks.finding import Finding, excerpt
from conformance.contract import Request


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
    return findings
