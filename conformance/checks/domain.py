"""Level 1 check of the domain itself: the requested virt type (kvm vs qemu)."""

from __future__ import annotations

from lxml import etree

from conformance.checks.finding import Finding, excerpt
from conformance.contract import Request
from conformance.reference import Features


def check_xml(expected: Features, dom: etree._Element, request: Request) -> list[Finding]:
    actual = dom.get("type")
    if actual != request.virt_type:
        head = etree.Element("domain", dict(dom.attrib))
        return [Finding("domain.type", f"<domain type='{request.virt_type}'>",
                        f"type={actual!r}", excerpt(head))]
    return []
