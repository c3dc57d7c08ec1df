"""Hidden hypervisor, level 1: <features><kvm><hidden state='on'/> iff hidden
(plus the Hyper-V vendor_id spoof for Windows guests)."""

from __future__ import annotations

from lxml import etree

from conformance.checks.finding import Finding, count_finding, excerpt
from conformance.contract import Request
from conformance.reference import Features


def _first(*elements):
    return next((el for el in elements if el is not None), None)


def _windows(request: Request) -> bool:
    return request.image.properties.get("os_type") == "windows"  # raw, as Nova compares it


def check_xml(expected: Features, dom: etree._Element, request: Request) -> list[Finding]:
    hidden = dom.xpath("features/kvm/hidden")
    context = dom.find("features")
    if not expected.hide_hypervisor:
        on = [el for el in hidden if el.get("state") == "on"]
        return count_finding("hidden.absent", "<kvm><hidden state='on'/> elements", on, 0, context)
    findings = count_finding("hidden.count", "<kvm><hidden> elements", hidden, 1, context)
    for el in hidden:
        if el.get("state") != "on":
            findings.append(Finding("hidden.state", "<hidden state='on'/>", f"state={el.get('state')!r}",
                                    excerpt(el.getparent())))
    if _windows(request):
        vendor = dom.xpath("features/hyperv/vendor_id[@state='on'][string-length(@value) > 0]")
        if not vendor:
            findings.append(Finding("hidden.vendor_id", "<hyperv><vendor_id state='on' value=...> for "
                                    "a Windows guest", "no spoofed vendor_id",
                                    excerpt(_first(dom.find("features/hyperv"), context))))
    return findings
