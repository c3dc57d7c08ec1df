"""Level 1 check of the domain itself: the requested virt type (kvm vs qemu) and the machine
type (``<os><type machine>``: the family the reference expects; libvirt's versioned names
``pc-i440fx-X.Y`` / ``pc-q35-X.Y`` count as ``pc`` / ``q35``, no machine at all as ``pc``)."""

from __future__ import annotations

from lxml import etree

from conformance.checks.finding import Finding, excerpt
from conformance.contract import Request
from conformance.reference import Features
from conformance.reference.machine_type import family


def check_xml(expected: Features, dom: etree._Element, request: Request) -> list[Finding]:
    findings = []
    actual = dom.get("type")
    if actual != request.virt_type:
        head = etree.Element("domain", dict(dom.attrib))
        findings.append(Finding("domain.type", f"<domain type='{request.virt_type}'>",
                                f"type={actual!r}", excerpt(head)))
    os_type = dom.find("os/type")
    machine = os_type.get("machine") if os_type is not None else None
    if family(machine) != family(expected.machine_type):
        findings.append(Finding("domain.machine", f"machine type {expected.machine_type!r}",
                                f"machine={machine!r}", excerpt(os_type if os_type is not None
                                                                else dom.find("os"))))
    return findings
