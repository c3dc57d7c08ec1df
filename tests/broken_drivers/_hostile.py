"""Hostile answers: the reference driver's XML plus one attempt to reach the host, each
with the sandbox rule that must refuse it.

Every answer aims at canary paths (``existing``: a file to read, change or delete;
``created``: a path that must never appear; ``script``: an executable that must never
run) and varies where the element sits and how it is written: a second ``<devices>`` or
``<os>``, nesting, foreign namespaces, character references, CDATA, comments and child
elements inside text, an XML declaration, memory units. The transformations work on the
driver's text, as a hostile driver would.

``HostileDriver(answer, canary_dir)`` is the in-process form; ``exec_hostile.py`` the
exec form (both exec modes); ``MappedHostile`` answers a different hostile answer per
request (a certification of many answers at once).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0"
FIRMWARE = "/usr/share/qemu/bios-256k.bin"  # Debian's qemu-system-data, only named


@dataclass(frozen=True)
class Paths:
    dir: str

    @property
    def existing(self) -> str:
        return f"{self.dir}/existing"

    @property
    def created(self) -> str:
        return f"{self.dir}/created"

    @property
    def script(self) -> str:
        return f"{self.dir}/script"


@dataclass(frozen=True)
class Answer:
    name: str
    rule: str                                  # the sandbox rule that must refuse it
    make: Callable[[str, Paths], str]          # reference XML text -> hostile XML text
    doctype: bool = False                      # refused by the driver output parser first


def _in_devices(snippet: str) -> Callable[[str, Paths], str]:
    return lambda xml, p: xml.replace("</devices>", snippet.format(p=p) + "</devices>", 1)


def _second_devices(snippet: str) -> Callable[[str, Paths], str]:
    return lambda xml, p: xml.replace("</devices>", "</devices><devices>" + snippet.format(p=p)
                                      + "</devices>", 1)


def _after(tag: str, snippet: str) -> Callable[[str, Paths], str]:
    return lambda xml, p: xml.replace(f"</{tag}>", f"</{tag}>" + snippet.format(p=p), 1)


def _in_os(snippet: str) -> Callable[[str, Paths], str]:
    return lambda xml, p: xml.replace("</os>", snippet.format(p=p) + "</os>", 1)


def _sub(pattern: str, replacement: str) -> Callable[[str, Paths], str]:
    return lambda xml, p: re.sub(pattern, replacement.format(p=p), xml, count=1, flags=re.S)


def _rng_backend(backend: str) -> Callable[[str, Paths], str]:
    """Replace the RNG device (or add one) with ``backend``."""
    def make(xml: str, p: Paths) -> str:
        xml = re.sub(r"<rng\b.*?</rng>", "", xml, flags=re.S)
        rng = f"<rng model='virtio'>{backend.format(p=p)}</rng>"
        return xml.replace("</devices>", rng + "</devices>", 1)
    return make


DISK = "<disk type='file' device='disk'><source file='{p.existing}'/><target dev='vda' bus='virtio'/></disk>"
ANSWERS = [
    # where libvirt merges what the text checks missed: a second <devices> / <os>, nesting
    Answer("second-devices-serial-file", "schema", _second_devices(
        "<serial type='file'><source path='{p.created}'/><target port='1'/></serial>")),
    Answer("second-devices-emulator", "schema", _second_devices("<emulator>{p.script}</emulator>")),
    Answer("second-devices-disk", "schema", _second_devices(DISK)),
    Answer("second-devices-ethernet-script", "schema", _second_devices(
        "<interface type='ethernet'><script path='{p.script}'/></interface>")),
    Answer("second-os-nvram", "schema", _after("os", "<os><type arch='x86_64' machine='pc'>hvm"
                                                     f"</type><loader readonly='yes' type='pflash'>"
                                                     f"{FIRMWARE}</loader><nvram>{{p.existing}}"
                                                     "</nvram></os>")),
    Answer("disk-nested-in-controller", "schema", _in_devices(
        "<controller type='usb' index='0'>" + DISK + "</controller>")),
    Answer("rng-path-after-child-element", "schema", _rng_backend(
        "<backend model='random'><x/>{p.existing}</backend>")),
    Answer("emulator-path-after-child-element", "schema", _in_devices(
        "<emulator><x/>{p.script}</emulator>")),
    Answer("emulator-path-in-whitespace", "schema", _in_devices(
        "<emulator>\n  {p.script}\n</emulator>")),
    Answer("utf8-bom-second-devices", "schema", lambda xml, p: "\ufeff" + _second_devices(
        DISK)(xml, p)),
    # the allow list on libvirt's reading: devices and what they hold
    Answer("emulator-script", "emulator", _in_devices("<emulator>{p.script}</emulator>")),
    Answer("emulator-dot-dot", "emulator", _in_devices(
        "<emulator>/usr/bin/../..{p.script}</emulator>")),
    Answer("emulator-character-references", "emulator", lambda xml, p: _in_devices(
        "<emulator>" + p.script.replace("/", "&#47;") + "</emulator>")(xml, p)),
    Answer("emulator-cdata", "emulator", _in_devices("<emulator><![CDATA[{p.script}]]></emulator>")),
    Answer("emulator-latin1-declaration", "emulator", lambda xml, p: (
        "<?xml version='1.0' encoding='ISO-8859-1'?>\n"
        + _in_devices("<emulator>{p.script}</emulator>")(xml, p))),
    Answer("disk-file", "device", _in_devices(DISK)),
    Answer("cdrom", "device", _in_devices(
        "<disk type='file' device='cdrom'><source file='{p.existing}'/><target dev='hdc' "
        "bus='ide'/><readonly/></disk>")),
    Answer("filesystem-root", "device", _in_devices(
        "<filesystem type='mount' accessmode='passthrough'><source dir='/'/>"
        "<target dir='root'/></filesystem>")),
    Answer("interface-ethernet-script", "device", _in_devices(
        "<interface type='ethernet'><script path='{p.script}'/></interface>")),
    Answer("tpm-emulator", "device", _in_devices(
        "<tpm model='tpm-tis'><backend type='emulator' version='2.0'/></tpm>")),
    Answer("hostdev-pci", "device", _in_devices(
        "<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0' "
        "bus='0' slot='1' function='0'/></source></hostdev>")),
    Answer("graphics-vnc", "device", _in_devices("<graphics type='vnc' port='-1'/>")),
    Answer("audio-file", "device", _in_devices("<audio id='1' type='file' path='{p.created}'/>")),
    Answer("channel-log-file", "chardev-log", _in_devices(
        "<channel type='unix'><source mode='bind'/><log file='{p.created}' append='off'/>"
        "<target type='virtio' name='org.cfm.x'/></channel>")),
    Answer("channel-name-traversal", "channel", lambda xml, p: _in_devices(
        "<channel type='unix'><source mode='bind'/><target type='virtio' name='x/../../../../../.."
        + p.created + "'/></channel>")(xml, p)),
    Answer("channel-file", "channel", _in_devices(
        "<channel type='file'><source path='{p.created}'/><target type='virtio' name='x'/>"
        "</channel>")),
    Answer("rng-regular-file", "rng-backend", _rng_backend(
        "<backend model='random'>{p.existing}</backend>")),
    Answer("rng-path-split-by-comment", "rng-backend", lambda xml, p: _rng_backend(
        "<backend model='random'>" + p.dir + "/<!-- -->existing</backend>")(xml, p)),
    Answer("video-vhost-user", "video", _in_devices(
        "<video><driver name='vhostuser'/><model type='virtio'/></video>")),
    Answer("watchdog-dump", "watchdog", _in_devices("<watchdog model='i6300esb' action='dump'/>")),
    # <os>: firmware, boot files, cmdline
    Answer("os-nvram", "os", _in_os(f"<loader readonly='yes' type='pflash'>{FIRMWARE}</loader>"
                                    "<nvram>{p.existing}</nvram>")),
    Answer("os-firmware-efi", "os", _sub(r"<os>", "<os firmware='efi'>")),
    Answer("os-smbios-host", "os", _in_os("<smbios mode='host'/>")),
    Answer("os-acpi-table", "os", _in_os("<acpi><table type='slic'>{p.existing}</table></acpi>")),
    Answer("kernel-other", "boot-files", _sub(r"<kernel>[^<]*</kernel>", "<kernel>{p.existing}</kernel>")),
    Answer("cmdline-init-shell", "cmdline", _sub(r"<cmdline>([^<]*)</cmdline>",
                                                 r"<cmdline>\1 init=/bin/sh</cmdline>")),
    # elsewhere in <domain>
    Answer("sysinfo-fwcfg-file", "sysinfo", _after(
        "vcpu", "<sysinfo type='fwcfg'><entry name='opt/cfm/x' file='{p.existing}'/></sysinfo>")),
    Answer("oem-string-host-path", "host-path", _after(
        "vcpu", "<sysinfo type='smbios'><oemStrings><entry>{p.existing}</entry></oemStrings>"
                "</sysinfo>")),
    Answer("memory-backing-file", "memory-backing", _after(
        "vcpu", "<memoryBacking><source type='file'/><access mode='shared'/></memoryBacking>")),
    Answer("blkiotune-device-path", "element", _after(
        "vcpu", "<blkiotune><device><path>{p.existing}</path><weight>500</weight></device>"
                "</blkiotune>")),
    Answer("resource-partition", "element", _after(
        "vcpu", "<resource><partition>/machine/cfm-hostile</partition></resource>")),
    Answer("on-crash-coredump", "lifecycle", _sub(r"<on_crash>[^<]*</on_crash>",
                                                  "<on_crash>coredump-destroy</on_crash>")),
    Answer("seclabel-none", "seclabel", _after("vcpu", "<seclabel type='none'/>")),
    Answer("qemu-commandline", "foreign-namespace", _after(
        "vcpu", f"<qemu:commandline xmlns:qemu='{QEMU_NS}'><qemu:arg value='-drive'/>"
                "<qemu:arg value='file={p.existing},format=raw,if=virtio'/></qemu:commandline>")),
    Answer("disk-in-a-default-namespace", "foreign-namespace", _in_devices(
        DISK.replace("<disk ", f"<disk xmlns='{QEMU_NS}' ", 1))),
    # memory in units libvirt knows; canonical KiB
    Answer("memory-1-TiB", "memory", _sub(r"<memory[^>]*>[^<]*</memory>",
                                          "<memory unit='TiB'>1</memory>")),
    Answer("memory-1-T", "memory", _sub(r"<memory[^>]*>[^<]*</memory>", "<memory unit='T'>1</memory>")),
    Answer("memory-1-P", "memory", _sub(r"<memory[^>]*>[^<]*</memory>", "<memory unit='P'>1</memory>")),
    Answer("memory-in-bytes", "memory", _sub(r"<memory[^>]*>[^<]*</memory>",
                                             "<memory unit='bytes'>8589934592</memory>")),
    Answer("iothreads-crash-the-parser", "libvirt-parse", _after(
        "vcpu", "<iothreads>4000000000</iothreads>")),
    # entities: the driver output parser refuses them before the sandbox (DriverFault unsafe)
    Answer("external-entity", "doctype", lambda xml, p: (
        f"<!DOCTYPE domain [<!ENTITY e SYSTEM 'file://{p.existing}'>]>\n"
        + xml.replace("</name>", "</name><description>&e;</description>", 1)), doctype=True),
]
BY_NAME = {answer.name: answer for answer in ANSWERS}


def hostile_xml(name: str, reference_xml: str, canary_dir: str) -> str:
    return BY_NAME[name].make(reference_xml, Paths(canary_dir))


class HostileDriver:
    """An in-process driver answering hostile answer ``name`` (aimed at ``canary_dir``)."""

    def __init__(self, name: str, canary_dir: str):
        self.name = f"hostile-{name}"
        self.answer, self.canary_dir = name, canary_dir

    def build(self, request) -> str:
        from conformance.reference import ReferenceDriver
        return hostile_xml(self.answer, ReferenceDriver().build(request), self.canary_dir)


def signature(request) -> str:
    """What tells the catalogue's create cases apart in a request (not identity, boot files)."""
    return json.dumps([request.flavor.extra_specs, request.image.properties,
                       asdict(request.host), request.operation], sort_keys=True)


class MappedHostile:
    """Answers ``mapping[signature(request)]`` (a hostile answer name), else the reference."""

    def __init__(self, mapping_file: str, canary_dir: str):
        self.mapping = json.loads(Path(mapping_file).read_text())
        self.canary_dir = canary_dir

    def build(self, request) -> str:
        from conformance.reference import ReferenceDriver
        xml = ReferenceDriver().build(request)
        name = self.mapping.get(signature(request))
        return hostile_xml(name, xml, self.canary_dir) if name else xml
