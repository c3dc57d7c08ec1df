"""The sandbox: what driver XML the harness is willing to hand a libvirt host, and what it owns.

Driver XML is untrusted. It is judged as libvirt will read it, never by its text:

1. parsed here without DTDs, entity expansion or network access, size-capped; refused:
   a DOCTYPE, a root other than ``<domain>``, a ``<name>`` other than the requested
   instance name, when the harness asked for an instance uuid a ``<uuid>`` or ``<sysinfo>``
   system uuid other than it (rule ``uuid``), any element outside libvirt's namespace
   except inside ``<metadata>`` (``<qemu:commandline>`` passthrough);
2. read by libvirt itself (:mod:`conformance.lab.libvirt_reader`): its RelaxNG schema
   (rule ``schema``: a second ``<devices>`` or ``<os>``, an element inside text) and its
   parser (``libvirt-parse``) give the canonical XML: one ``<devices>``, memory in KiB;
3. the allow list (:mod:`conformance.lab.allowlist`) is applied to that canonical XML:
   top-level elements, ``<os>`` (boot files and cmdline are the harness's), devices and
   what each may hold, memory and vCPU bounds;
4. the harness-owned parts replace the driver's: the libvirt name, and the uuid unless the
   harness asked for one (fresh per guest; when it asked, the request's instance uuid,
   itself fresh per guest identity, which the driver must answer and the domain keeps), so
   a driver can never redefine or collide with a foreign domain; the firmware
   (``<loader type='rom'>`` when the image recommends qboot), the serial console (a file
   in the run directory, appended to: one record of the guest across restarts and a
   restore from a managed save, which would otherwise truncate it), the agent socket path (left to libvirt, which removes it), and
   ``<metadata>`` gains the ownership marker;
5. backstop: any value outside ``<metadata>``/``<description>``/``<title>`` that names a host
   path the harness did not supply is refused (``host-path``).

Only the result of 4 ever reaches a libvirt host. A violation raises
:class:`SandboxViolation` naming the rule; nothing is defined.
"""

from __future__ import annotations

import copy
import uuid as uuidlib
from dataclasses import dataclass

from lxml import etree

from conformance.errors import SandboxViolation
from conformance.lab import allowlist, libvirt_reader
from conformance.lab.allowlist import HOST_EMULATORS
from conformance.lab.runs import OWNER_TAG, Owner

MAX_XML_BYTES = 1024 * 1024
ALLOWED_DEVICES = allowlist.DEVICES
PARSE_PREFIX = "cfm-parse-"  # libvirt's test driver reads the XML under such a name

__all__ = ["SandboxViolation", "Placement", "prepare", "parse_untrusted", "libvirt_reading",
           "ALLOWED_DEVICES"]


@dataclass(frozen=True)
class Placement:
    """What the harness decides for a guest: identity, boot files, console, owner."""
    name: str
    uuid: str
    console_path: str
    owner: Owner
    virt_type: str
    kernel: str
    initrd: str
    instance_name: str | None = None  # the name the driver was asked to use
    loader: str | None = None         # harness firmware ROM (e.g. qboot), or SeaBIOS
    cmdline: str | None = None        # the harness's kernel command line (None: none)
    instance_uuid: str | None = None  # the uuid the driver was asked to use (then ``uuid``)


def parse_untrusted(xml: str | bytes) -> etree._Element:
    """Parse driver XML with no DTD, no entities, no network, no huge trees, size-capped."""
    data = xml.encode() if isinstance(xml, str) else xml
    if len(data) > MAX_XML_BYTES:
        raise SandboxViolation("size", f"{len(data)} bytes of XML, at most {MAX_XML_BYTES}")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                             load_dtd=False, remove_comments=True, remove_pis=True)
    try:
        tree = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise SandboxViolation("not-xml", str(exc)) from None
    docinfo = tree.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise SandboxViolation("doctype", "DOCTYPE/entity declarations are not accepted")
    return tree


def _check_text(root, placement: Placement) -> None:
    """The rules judged on the driver's document itself, before libvirt reads it."""
    if root.tag != "domain":
        raise SandboxViolation("root", f"root element is <{root.tag}>, not <domain>")
    if placement.instance_name is not None and root.findtext("name") != placement.instance_name:
        raise SandboxViolation("name", f"<name> {root.findtext('name')!r}, requested "
                                       f"{placement.instance_name!r}")
    if placement.instance_uuid is not None:
        _check_uuid(root, placement.instance_uuid)
    own = root.findtext("uuid")
    for entry in root.iterfind("sysinfo/system/entry[@name='uuid']"):
        if own is not None and not _same_uuid(entry.text, own):  # libvirt refuses it too
            raise SandboxViolation("uuid", f"<sysinfo> system uuid {entry.text!r} is not the "
                                           f"domain's <uuid> {own!r}")
    for element in root.iter(etree.Element):
        if isinstance(element.tag, str) and element.tag.startswith("{"):
            if any(parent.tag == "metadata" for parent in element.iterancestors()):
                continue
            raise SandboxViolation("foreign-namespace", f"element {element.tag} outside <metadata>")


def _same_uuid(text: str | None, wanted: str) -> bool:
    try:
        return uuidlib.UUID((text or "").strip()) == uuidlib.UUID(wanted)
    except ValueError:
        return False


def _check_uuid(root, wanted: str) -> None:
    """The driver's answer is the instance's uuid: its ``<uuid>`` (one) and every
    ``<sysinfo>`` system uuid (what the guest reads as its SMBIOS uuid)."""
    answered = [el.text for el in root.findall("uuid")]
    if len(answered) != 1 or not _same_uuid(answered[0], wanted):
        raise SandboxViolation("uuid", f"<uuid> {answered[0] if len(answered) == 1 else answered!r}"
                                       f", requested {wanted!r}")
    for entry in root.iterfind("sysinfo/system/entry[@name='uuid']"):
        if not _same_uuid(entry.text, wanted):
            raise SandboxViolation("uuid", f"<sysinfo> system uuid {entry.text!r}, requested "
                                           f"{wanted!r}")


def libvirt_reading(root) -> etree._Element:
    """libvirt's canonical reading of ``root`` (name and uuid made throw-away and unique,
    also in <sysinfo>, where libvirt wants the domain's uuid)."""
    root = copy.deepcopy(root)
    for tag in ("name", "uuid"):
        for old in root.findall(tag):
            root.remove(old)
    fresh = str(uuidlib.uuid4())
    name, uuid = etree.Element("name"), etree.Element("uuid")
    name.text, uuid.text = PARSE_PREFIX + fresh, fresh
    root.insert(0, name)  # together and first: libxml2's RelaxNG wants libvirt's "ids" adjacent
    name.addnext(uuid)
    for entry in root.iterfind("sysinfo/system/entry[@name='uuid']"):
        entry.text = fresh
    text = libvirt_reader.read(etree.tostring(root, encoding="unicode"))
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                             load_dtd=False, remove_blank_text=True)
    return etree.fromstring(text.encode(), parser)


def _own(root, placement: Placement) -> None:
    root.find("name").text = placement.name
    root.find("uuid").text = placement.uuid  # the instance's when it was asked for (checked equal)
    for entry in root.iterfind("sysinfo/system/entry[@name='uuid']"):
        entry.text = placement.uuid  # libvirt refuses a <sysinfo> uuid that differs
    devices = root.find("devices")
    if devices is None:
        devices = etree.SubElement(root, "devices")
    for old in devices.findall("serial") + devices.findall("console"):
        devices.remove(old)
    serial = etree.SubElement(devices, "serial", type="file")
    etree.SubElement(serial, "source", path=placement.console_path, append="on")
    etree.SubElement(serial, "target", port="0")
    console = etree.SubElement(devices, "console", type="file")
    etree.SubElement(console, "source", path=placement.console_path, append="on")
    etree.SubElement(console, "target", type="serial", port="0")
    if placement.loader:
        etree.SubElement(root.find("os"), "loader", type="rom").text = placement.loader
    for channel in devices.findall("channel"):
        for source in channel.iter("source"):  # every one: a second <source> is no way around
            source.attrib.pop("path", None)
    metadata = root.find("metadata")
    if metadata is None:
        metadata = etree.Element("metadata")
        ids = root.find("genid") if root.find("genid") is not None else root.find("uuid")
        ids.addnext(metadata)  # after libvirt's ids, which its RelaxNG wants together
    for old in metadata.findall(OWNER_TAG):
        metadata.remove(old)
    metadata.append(placement.owner.element())


def _supplied(root, placement: Placement) -> set[str]:
    """Host paths the harness supplied (the RNG device has passed its device-number check)."""
    paths = {placement.kernel, placement.initrd, placement.console_path, placement.loader,
             placement.cmdline, *HOST_EMULATORS}
    paths |= {backend.text for backend in root.iterfind("devices/rng/backend") if backend.text}
    return {p for p in paths if p}


def prepare(xml: str | bytes, placement: Placement, char_device=None) -> str:
    """The XML the harness hands libvirt for ``xml``: libvirt's canonical reading, inside the
    allow list, with the harness-owned parts of ``placement``. SandboxViolation otherwise.

    ``char_device(path)`` gives (major, minor) of a character device on the libvirt host
    (default: this machine's, for a local libvirt)."""
    driver_root = parse_untrusted(xml)
    _check_text(driver_root, placement)
    root = libvirt_reading(driver_root)
    allowlist.check_domain(root, placement, char_device)
    _own(root, placement)
    allowlist.check_host_paths(root, _supplied(root, placement))
    return etree.tostring(root, encoding="unicode")
