"""Watchdog, level 1: one i6300esb with the effective action, or no watchdog at all."""

from __future__ import annotations

from lxml import etree

from conformance.checks.finding import Finding, count_finding, excerpt
from conformance.contract import Request
from conformance.reference import Features

LIBVIRT_DEFAULT_ACTION = "reset"


def check_xml(expected: Features, dom: etree._Element, request: Request) -> list[Finding]:
    devices = dom.xpath("devices/watchdog")
    context = dom.find("devices")
    if expected.watchdog_action is None:
        return count_finding("watchdog.absent", "watchdog devices", devices, 0, context)
    findings = count_finding("watchdog.count", "watchdog devices", devices, 1, context)
    for dev in devices:
        if dev.get("model") != "i6300esb":
            findings.append(Finding("watchdog.model", "model='i6300esb'", f"model={dev.get('model')!r}",
                                    excerpt(dev)))
        action = dev.get("action", LIBVIRT_DEFAULT_ACTION)
        if action != expected.watchdog_action:
            findings.append(Finding("watchdog.action", f"action='{expected.watchdog_action}'",
                                    f"action={action!r}", excerpt(dev)))
    return findings
