"""Locked memory, level 1: <memoryBacking><locked/> iff locked."""

from __future__ import annotations

from lxml import etree

from conformance.checks.finding import Finding, count_finding
from conformance.contract import Request
from conformance.reference import Features


def check_xml(expected: Features, dom: etree._Element, request: Request) -> list[Finding]:
    locked = dom.xpath("memoryBacking/locked")
    context = dom.find("memoryBacking")
    context = context if context is not None else dom.find("memory")
    if expected.locked_memory:
        return count_finding("locked.present", "<memoryBacking><locked/> elements", locked, 1, context)
    return count_finding("locked.absent", "<memoryBacking><locked/> elements", locked, 0, context)
