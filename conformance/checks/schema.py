"""libvirt's RelaxNG domain schema (compiled once per process)."""

from __future__ import annotations

import functools
import os

from lxml import etree

from conformance.checks.finding import Finding
from conformance.errors import HostCapabilityMissing

DOMAIN_RNG = "/usr/share/libvirt/schemas/domain.rng"


@functools.cache
def domain_schema(path: str = DOMAIN_RNG) -> etree.RelaxNG:
    if not os.path.exists(path):
        raise HostCapabilityMissing(f"libvirt domain schema {path} is missing (install libvirt-daemon)")
    return etree.RelaxNG(etree.parse(path))


def check_schema(dom: etree._Element) -> list[Finding]:
    """A finding per RelaxNG error (first five) when ``dom`` is not a valid libvirt domain."""
    schema = domain_schema()
    if schema.validate(dom):
        return []
    errors = [f"line {e.line}: {e.message}" for e in list(schema.error_log)[:5]]
    return [Finding("schema.relaxng", f"valid against {DOMAIN_RNG}", "; ".join(errors))]
