"""vPMU, level 1: <features><pmu state='on|off'/> as expected, or no <pmu> when unset."""

from __future__ import annotations

from lxml import etree

from conformance.checks.finding import Finding, count_finding, excerpt
from conformance.contract import Request
from conformance.reference import Features


def check_xml(expected: Features, dom: etree._Element, request: Request) -> list[Finding]:
    elements = dom.xpath("features/pmu")
    context = dom.find("features")
    if expected.pmu is None:
        return count_finding("pmu.absent", "<pmu> elements (hypervisor default)", elements, 0, context)
    findings = count_finding("pmu.count", "<pmu> elements", elements, 1, context)
    want = "on" if expected.pmu else "off"
    for el in elements:
        if el.get("state") != want:
            findings.append(Finding("pmu.state", f"<pmu state='{want}'/>", f"state={el.get('state')!r}",
                                    excerpt(el)))
    return findings
