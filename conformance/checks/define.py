"""defineXML validation: libvirt itself parses the driver's XML (then it is undefined)."""

from __future__ import annotations

import copy
import os
import uuid

from lxml import etree

from conformance.checks.finding import Finding
from conformance.checks.lifecycle import same_uuid
from conformance.errors import HostUnreachable
from conformance.lab.runs import OWNER_NS, Owner, harness_machine, process_start_time  # noqa: F401

NAME_PREFIX = "cfm-xml-"


def sandboxed(dom: etree._Element, run_id: str) -> etree._Element:
    """A copy renamed ``cfm-xml-<run_id>`` with a fresh uuid (also in ``<sysinfo>`` where it
    repeats the driver's ``<uuid>``, as Nova's does; a ``<sysinfo>`` uuid that differs is left
    for libvirt to refuse, as it refuses the guest) and the harness ownership marker:
    parallel checks never collide."""
    dom = copy.deepcopy(dom)
    original = dom.findtext("uuid")
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
        if original is None or same_uuid(entry.text, original):
            entry.text = fresh
    metadata = dom.find("metadata")
    if metadata is None:
        metadata = etree.Element("metadata")
        name.addnext(metadata)
    metadata.append(Owner(run_id, os.getpid(), process_start_time(os.getpid()) or "",
                          *harness_machine()).element())
    return dom


def check_define(conn, dom: etree._Element) -> list[Finding]:
    """Define a renamed copy with libvirt and undefine it again (always)."""
    import libvirt

    run_id = uuid.uuid4().hex[:12]
    xml = etree.tostring(sandboxed(dom, run_id), encoding="unicode")
    try:
        domain = conn.defineXML(xml)
    except libvirt.libvirtError as exc:
        if not _alive(conn):  # the host went away: no verdict on the driver's XML
            raise HostUnreachable(_uri(conn), f"defineXML: {exc.get_error_message()}") from None
        return [Finding("libvirt.define", "libvirt accepts the domain (defineXML)",
                        f"libvirt error: {exc.get_error_message()}")]
    try:
        return []
    finally:
        domain.undefine()


def _alive(conn) -> bool:
    try:
        return conn.isAlive() == 1
    except Exception:  # noqa: BLE001 - a dead connection may raise anything libvirt has
        return False


def _uri(conn) -> str:
    try:
        return conn.getURI()
    except Exception:  # noqa: BLE001
        return "(the libvirt connection)"
