"""Checks of a driver's output against the reference's expectations, one module per feature.

Level 1 (xml): ``check_xml(expected_features, dom, request) -> list[Finding]`` per feature;
every accepted XML is checked by all of them (a watchdog case also verifies that no agent
channel appeared), plus libvirt's RelaxNG schema and, when a lab is given, the sandbox
and ``defineXML`` on its host. Level 1 judging of a whole case: ``conformance.checks.level_xml``.
"""

from __future__ import annotations

from lxml import etree

from conformance.checks import (agent, cpu_tune, domain, hidden_hypervisor, locked_memory,
                                mem_encryption, pmu, rng, watchdog)
from conformance.checks.finding import Finding
from conformance.contract import Request
from conformance.reference import Features

XML_CHECKS = {
    "domain": domain.check_xml,
    "agent": agent.check_xml,
    "watchdog": watchdog.check_xml,
    "rng": rng.check_xml,
    "pmu": pmu.check_xml,
    "hidden_hypervisor": hidden_hypervisor.check_xml,
    "locked_memory": locked_memory.check_xml,
    "cpu_tune": cpu_tune.check_xml,  # pinning, realtime (implicitly locked memory)
    "mem_encryption": mem_encryption.check_xml,
}


def check_xml(expected: Features, dom: etree._Element, request: Request) -> list[Finding]:
    """Findings of every feature's level-1 check (empty: the XML expresses ``expected``)."""
    return [f for check in XML_CHECKS.values() for f in check(expected, dom, request)]


__all__ = ["Finding", "XML_CHECKS", "check_xml"]
