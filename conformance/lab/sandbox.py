"""Sandbox rules: what driver XML the harness is willing to boot, and what it owns.

Driver XML is untrusted. It is parsed without DTDs, entity expansion or network access,
then checked against these rules; a violation raises :class:`SandboxViolation` naming the
rule and the guest is never defined.

Refused:
 1. a DOCTYPE (entities), a root other than ``<domain>``, a domain type other than the
    requested virt type (``kvm``/``qemu``);
 2. a ``<name>`` other than the requested instance name; when the harness asked for an
    instance uuid, a ``<uuid>`` or ``<sysinfo>`` system uuid other than it (rule ``uuid``);
 3. ``<os>`` with a kernel or initrd other than the harness's boot files, or with a
    ``<loader>``/``<nvram>`` (host firmware paths) or any other child outside
    ``OS_CHILDREN`` (``<dtb>``, ``<acpi><table>`` read host files into the guest);
 4. any element outside libvirt's domain namespace except inside ``<metadata>``, which
    covers ``<qemu:commandline>`` / ``<qemu:capabilities>`` passthrough;
 5. ``<seclabel>`` (the host's default confinement always applies), ``<emulator>`` other
    than the host's QEMU;
 6. devices outside the allow list (controller, channel, input, video, memballoon, rng,
    watchdog, panic, serial, console): so no disk, filesystem, hostdev, interface,
    graphics, tpm, shmem, redirdev, smartcard, parallel;
 7. channels other than ``type='unix'`` (a file or device channel writes to the host), and
    a ``<log file=...>`` on any character device (it writes guest output to a host path);
    ``<input>`` other than mouse/tablet/keyboard (evdev/passthrough grab host devices);
 8. an RNG backend that is not ``model='random'`` reading null, zero, random, urandom or
    hwrng (checked by device number on the libvirt host: never a host file, /dev/mem or an
    EGD socket);
 9. more than ``MAX_MEMORY_MIB`` of memory or ``MAX_VCPUS`` vCPUs.
Harness-owned (replaced, documented in reports): the libvirt name, and the uuid unless the
harness asked for one (fresh per guest; when it asked, the request's instance uuid, itself
fresh per guest identity, which the driver must answer and which the domain keeps), so a
driver can never redefine or collide with a foreign domain; the firmware
(``<loader type='rom'>`` when the image recommends qboot), the serial
console (a file in the run directory), the agent socket path (left to libvirt, which
removes it), and ``<metadata>`` gains the ownership marker.
"""

from __future__ import annotations

import os
import stat
import uuid as uuidlib
from dataclasses import dataclass

from lxml import etree

from conformance.errors import HarnessError
from conformance.lab.runs import OWNER_TAG, Owner

MAX_MEMORY_MIB = 2048
MAX_VCPUS = 4
ALLOWED_DEVICES = {"controller", "channel", "input", "video", "memballoon", "rng",
                   "watchdog", "panic", "serial", "console", "emulator"}
OS_CHILDREN = {"type", "kernel", "initrd", "cmdline", "boot", "bootmenu", "smbios", "bios"}
INPUT_TYPES = {"mouse", "tablet", "keyboard"}
HOST_EMULATORS = {"/usr/bin/qemu-system-x86_64", "/usr/bin/kvm"}
MEMORY_UNITS = {"b": 1 / 1048576, "bytes": 1 / 1048576, "k": 1 / 1024, "kib": 1 / 1024,
                "kb": 1000 / 1048576, "m": 1, "mib": 1, "mb": 1e6 / 1048576,
                "g": 1024, "gib": 1024, "gb": 1e9 / 1048576}


class SandboxViolation(HarnessError):
    """Driver XML breaks a sandbox rule; the guest is not booted."""

    def __init__(self, rule: str, detail: str):
        self.rule = rule
        super().__init__(f"unsafe domain XML refused ({rule}): {detail}")


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
    instance_uuid: str | None = None  # the uuid the driver was asked to use (then ``uuid``)


def parse_untrusted(xml: str | bytes) -> etree._Element:
    """Parse driver XML with no DTD, no entities, no network, no huge trees."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                             load_dtd=False, remove_comments=True)
    data = xml.encode() if isinstance(xml, str) else xml
    try:
        tree = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise SandboxViolation("not-xml", str(exc)) from None
    docinfo = tree.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise SandboxViolation("doctype", "DOCTYPE/entity declarations are not accepted")
    return tree


def _memory_mib(element) -> float:
    unit = (element.get("unit") or "KiB").lower()
    factor = MEMORY_UNITS.get(unit, MEMORY_UNITS.get(unit.rstrip("i"), None))
    try:
        return float(element.text) * (factor if factor is not None else 1 / 1024)
    except (TypeError, ValueError):
        raise SandboxViolation("memory", f"unreadable <{element.tag}>") from None


def _check_identity(root, placement: Placement) -> None:
    if root.tag != "domain":
        raise SandboxViolation("root", f"root element is <{root.tag}>, not <domain>")
    if root.get("type") != placement.virt_type:
        raise SandboxViolation("virt-type", f"domain type {root.get('type')!r}, "
                                            f"requested {placement.virt_type!r}")
    if placement.instance_name is not None and root.findtext("name") != placement.instance_name:
        raise SandboxViolation("name", f"<name> {root.findtext('name')!r}, requested "
                                       f"{placement.instance_name!r}")
    if placement.instance_uuid is not None:
        _check_uuid(root, placement.instance_uuid)


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


def _check_namespaces(root) -> None:
    for element in root.iter(etree.Element):
        if isinstance(element.tag, str) and element.tag.startswith("{"):
            if any(parent.tag == "metadata" for parent in element.iterancestors()):
                continue
            raise SandboxViolation("foreign-namespace", f"element {element.tag} outside <metadata>")


def _check_os(root, placement: Placement) -> None:
    os_el = root.find("os")
    if os_el is None:
        raise SandboxViolation("os", "no <os> element")
    for tag in ("loader", "nvram"):
        if os_el.find(tag) is not None:
            raise SandboxViolation("os", f"<os><{tag}> points at host firmware")
    for child in os_el:
        if isinstance(child.tag, str) and child.tag not in OS_CHILDREN:
            raise SandboxViolation("os", f"<os><{child.tag}> is not allowed")
    for tag, wanted in (("kernel", placement.kernel), ("initrd", placement.initrd)):
        if os_el.findtext(tag) != wanted:
            raise SandboxViolation("boot-files", f"<os><{tag}> is {os_el.findtext(tag)!r}, "
                                                 f"the harness supplied {wanted!r}")


def _check_resources(root) -> None:
    for tag in ("memory", "currentMemory"):
        element = root.find(tag)
        if element is not None and _memory_mib(element) > MAX_MEMORY_MIB:
            raise SandboxViolation("memory", f"<{tag}> above {MAX_MEMORY_MIB} MiB")
    try:
        vcpus = int(root.findtext("vcpu") or 1)
    except ValueError:
        raise SandboxViolation("vcpu", "unreadable <vcpu>") from None
    if vcpus > MAX_VCPUS:
        raise SandboxViolation("vcpu", f"{vcpus} vCPUs, at most {MAX_VCPUS}")
    if root.find(".//seclabel") is not None:
        raise SandboxViolation("seclabel", "<seclabel> is not accepted")


# (major, minor) of the character devices an RNG backend may read: null, zero, random,
# urandom (major 1) and hwrng (10:183). Never /dev/mem, /dev/kmem, /dev/port, disks.
RNG_DEVICES = {(1, 3), (1, 5), (1, 8), (1, 9), (10, 183)}


def local_char_device(path: str) -> tuple[int, int] | None:
    """(major, minor) of ``path`` on this machine if it is a character device, else None."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (os.major(info.st_rdev), os.minor(info.st_rdev)) if stat.S_ISCHR(info.st_mode) else None


def _check_devices(devices, char_device) -> None:
    for device in devices:
        if not isinstance(device.tag, str):
            continue
        if device.tag not in ALLOWED_DEVICES:
            raise SandboxViolation("device", f"<{device.tag}> is not allowed")
        if device.tag == "emulator" and device.text not in HOST_EMULATORS:
            raise SandboxViolation("emulator", f"<emulator> {device.text!r}")
        if device.tag == "channel" and device.get("type") != "unix":
            raise SandboxViolation("channel", f"channel type {device.get('type')!r}")
        if device.find(".//log") is not None:
            raise SandboxViolation("chardev-log", f"<{device.tag}><log> writes to a host file")
        if device.tag == "input" and device.get("type") not in INPUT_TYPES:
            raise SandboxViolation("input", f"input type {device.get('type')!r}")
        if device.tag == "rng":
            backend = device.find("backend")
            path = (backend.text or "").strip() if backend is not None else ""
            if backend is None or backend.get("model") != "random":
                raise SandboxViolation("rng-backend", "only <backend model='random'> is allowed")
            if path and (char_device or local_char_device)(path) not in RNG_DEVICES:
                raise SandboxViolation("rng-backend", f"{path!r} is not an allowed RNG character "
                                                      "device (null, zero, random, urandom, hwrng)")


def _own(root, devices, placement: Placement) -> None:
    name = root.find("name")
    if name is None:
        name = etree.SubElement(root, "name")
    name.text = placement.name
    uuid = root.find("uuid")
    if uuid is None:
        uuid = etree.SubElement(root, "uuid")
    uuid.text = placement.uuid  # the instance's when it was asked for (checked equal)
    for entry in root.iterfind("sysinfo/system/entry[@name='uuid']"):
        entry.text = placement.uuid  # libvirt refuses a <sysinfo> uuid that differs
    for old in devices.findall("serial") + devices.findall("console"):
        devices.remove(old)
    serial = etree.SubElement(devices, "serial", type="file")
    etree.SubElement(serial, "source", path=placement.console_path)
    etree.SubElement(serial, "target", port="0")
    console = etree.SubElement(devices, "console", type="file")
    etree.SubElement(console, "source", path=placement.console_path)
    etree.SubElement(console, "target", type="serial", port="0")
    if placement.loader:
        os_el = root.find("os")
        etree.SubElement(os_el, "loader", type="rom").text = placement.loader
    for channel in devices.findall("channel"):
        for source in channel.iter("source"):  # every one: a second <source> is no way around
            source.attrib.pop("path", None)
    metadata = root.find("metadata")
    if metadata is None:
        metadata = etree.SubElement(root, "metadata")
    for old in metadata.findall(OWNER_TAG):
        metadata.remove(old)
    metadata.append(placement.owner.element())


def prepare(xml: str | bytes, placement: Placement, char_device=None) -> str:
    """Check driver XML against the sandbox rules and return the XML the harness boots.

    ``char_device(path)`` gives (major, minor) of a character device on the libvirt host
    (default: this machine's, for a local libvirt)."""
    root = parse_untrusted(xml)
    _check_identity(root, placement)
    _check_namespaces(root)
    _check_os(root, placement)
    _check_resources(root)
    devices = root.find("devices")
    if devices is None:
        devices = etree.SubElement(root, "devices")
    _check_devices(devices, char_device)
    _own(root, devices, placement)
    return etree.tostring(root, encoding="unicode")
