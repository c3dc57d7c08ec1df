"""defineXML validation: libvirt itself parses the driver's XML (then it is undefined)."""

from __future__ import annotations

import copy
import os
import uuid

from lxml import etree

from conformance.checks.finding import Finding

OWNER_NS = "urn:hv-conformance:owner:1"
NAME_PREFIX = "cfm-xml-"


def sandboxed(dom: etree._Element, run_id: str) -> etree._Element:
    """A copy renamed ``cfm-xml-<run_id>`` with a fresh uuid (also in ``<sysinfo>``, where
    Nova repeats it) and the harness ownership marker: parallel checks never collide."""
    dom = copy.deepcopy(dom)
    for tag in ("name", "uuid"):
        for el in dom.findall(tag):
            dom.remove(el)
    fresh = str(uuid.uuid4())
    name = etree.Element("name")
    name.text = NAME_PREFIX + run_id
    dom.insert(0, name)
    uuid_el = etree.Element("uuid")
    uuid_el.text = fresh
    name.addnext(uuid_el)
    for entry in dom.iterfind("sysinfo/system/entry[@name='uuid']"):
        entry.text = fresh
    metadata = dom.find("metadata")
    if metadata is None:
        metadata = etree.Element("metadata")
        name.addnext(metadata)
    etree.SubElement(metadata, f"{{{OWNER_NS}}}owner", {"run": run_id, "pid": str(os.getpid())},
                     nsmap={"cfm": OWNER_NS})
    return dom


def check_define(conn, dom: etree._Element) -> list[Finding]:
    """Define a renamed copy with libvirt and undefine it again (always)."""
    import libvirt

    run_id = uuid.uuid4().hex[:12]
    xml = etree.tostring(sandboxed(dom, run_id), encoding="unicode")
    try:
        domain = conn.defineXML(xml)
    except libvirt.libvirtError as exc:
        return [Finding("libvirt.define", "libvirt accepts the domain (defineXML)",
                        f"libvirt error: {exc.get_error_message()}")]
    try:
        return []
    finally:
        domain.undefine()
