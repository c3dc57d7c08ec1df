"""Memory encryption, level 1: ``<launchSecurity>`` of the expected model (``sev`` with the
SEV-ES policy bit 0x4 exactly for SEV-ES, ``sev-snp`` for SEV-SNP) iff the guest is
encrypted. Its locked memory, agent controller and RNG driver are the locked_memory, agent
and rng checks'."""

from __future__ import annotations

from lxml import etree

from conformance.checks.finding import Finding, count_finding, excerpt
from conformance.contract import Request
from conformance.reference import Features

SEV_ES_BIT = 0x4


def _model(security: etree._Element) -> str | None:
    kind = security.get("type")
    if kind == "sev-snp":
        return "amd-sev-snp"
    if kind != "sev":
        return kind
    try:
        policy = int(security.findtext("policy") or "0", 16)
    except ValueError:
        return "sev (unreadable policy)"
    return "amd-sev-es" if policy & SEV_ES_BIT else "amd-sev"


def check_xml(expected: Features, dom: etree._Element, request: Request) -> list[Finding]:
    found = dom.findall("launchSecurity")
    if expected.mem_encryption is None:
        return count_finding("encryption.absent", "<launchSecurity> elements", found, 0, dom.find("os"))
    findings = count_finding("encryption.present", "<launchSecurity> elements", found, 1, dom.find("os"))
    for security in found:
        if _model(security) != expected.mem_encryption:
            findings.append(Finding("encryption.model", expected.mem_encryption,
                                    str(_model(security)), excerpt(security)))
    return findings
