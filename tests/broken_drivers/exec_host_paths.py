"""Broken exec driver: reference XML plus one element reaching a host path (argv[1] picks
which: disk, serial, commandline, channel-log, acpi, evdev); argv[2] is the host path."""

import sys

from lxml import etree

from conformance.contract import Request
from conformance.reference import ReferenceDriver

from _exec import serve

QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0"


def add(dom, kind: str, path: str) -> None:
    devices = dom.find("devices")
    if kind == "disk":
        disk = etree.SubElement(devices, "disk", type="file", device="disk")
        etree.SubElement(disk, "source", file=path)
        etree.SubElement(disk, "target", dev="vda", bus="virtio")
    elif kind == "serial":
        for old in devices.findall("serial") + devices.findall("console"):
            devices.remove(old)
        serial = etree.SubElement(devices, "serial", type="file")
        etree.SubElement(serial, "source", path=path)
    elif kind == "commandline":
        line = etree.SubElement(dom, f"{{{QEMU_NS}}}commandline", nsmap={"qemu": QEMU_NS})
        etree.SubElement(line, f"{{{QEMU_NS}}}arg", value="-drive")
        etree.SubElement(line, f"{{{QEMU_NS}}}arg", value=f"file={path},format=raw,if=virtio")
    elif kind == "channel-log":
        channel = devices.find("channel")
        etree.SubElement(channel, "log", file=path, append="off")
    elif kind == "acpi":
        etree.SubElement(etree.SubElement(dom.find("os"), "acpi"), "table", type="slic").text = path
    elif kind == "evdev":
        etree.SubElement(etree.SubElement(devices, "input", type="evdev"), "source", dev=path)
    else:
        raise SystemExit(f"unknown kind {kind}")


def answer(request: str) -> str:
    dom = etree.fromstring(ReferenceDriver().build(Request.from_json(request)))
    add(dom, sys.argv[1], sys.argv[2])
    return etree.tostring(dom, encoding="unicode")


if __name__ == "__main__":
    serve(answer)
