"""The shared base domain every request gets (before the feature modules add theirs).

Follows ``LibvirtConfigGuest.format_dom`` (nova/virt/libvirt/config.py) element order and
``LibvirtDriver._get_guest_config`` / ``_set_features`` / ``_set_clock`` /
``_guest_add_memory_balloon`` (nova/virt/libvirt/driver.py) with Nova's default options.
Deliberate differences (see docs/reference-semantics.md): direct kernel boot from
``request.boot`` and no disks/NICs; ``<cpu mode='custom'>qemu64`` instead of Nova's
default ``host-model`` (TCG-safe); explicit ``on_*`` lifecycle actions (libvirt defaults).
"""

from __future__ import annotations

import re

from lxml import etree

from conformance.errors import RequestInvalid
from conformance.reference.features import Features
from conformance.reference.inputs import Inputs

SPOOFED_VENDOR_ID = "1234567890ab"  # LibvirtConfigGuestFeatureHyperV.SPOOFED_VENDOR_ID
HYPERV_SPINLOCK_RETRIES = "8191"
MEM_STATS_PERIOD_SECONDS = "10"  # CONF.libvirt.mem_stats_period_seconds default


# Characters XML 1.0 can carry (lxml refuses the others).
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str, what: str) -> str:
    """``value`` if XML can carry it, else RequestInvalid (e.g. a NUL in boot.cmdline)."""
    if _NOT_XML_CHAR.search(value):
        raise RequestInvalid(f"{what} contains characters XML cannot carry: {value!r}")
    return value


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs) -> etree._Element:
    el = etree.SubElement(parent, tag, {k: v for k, v in attrs.items()})
    if text is not None:
        el.text = text
    return el


sub = _sub


def is_windows(inputs: Inputs) -> bool:
    # Nova copies the raw image property into Instance.os_type (compute/api.py) and the
    # driver compares it to exactly 'windows' (driver.py): 'WINDOWS' is not Windows.
    return inputs.request.image.properties.get("os_type") == "windows"


def build(inputs: Inputs, features: Features) -> etree._Element:
    """The base ``<domain>``: identity, memory, os (``features.machine_type``), features,
    cpu, clock, devices."""
    req = inputs.request
    dom = etree.Element("domain", type=req.virt_type)
    _sub(dom, "uuid", xml_text(req.instance_uuid, "instance_uuid"))
    _sub(dom, "name", xml_text(req.instance_name, "instance_name"))
    _sub(dom, "memory", str(req.flavor.memory_mb * 1024))  # KiB, libvirt's default unit
    _sub(dom, "vcpu", str(req.flavor.vcpus))
    os_el = _sub(dom, "os")
    _sub(os_el, "type", "hvm", arch="x86_64", machine=xml_text(features.machine_type, "hw_machine_type"))
    _sub(os_el, "kernel", xml_text(req.boot.kernel, "boot.kernel"))
    _sub(os_el, "initrd", xml_text(req.boot.initrd, "boot.initrd"))
    _sub(os_el, "cmdline", xml_text(req.boot.cmdline, "boot.cmdline"))
    _add_features(dom, inputs, encrypted=features.mem_encryption is not None)
    _add_clock(dom, inputs)
    # check='none': qemu64 lists svm, which Intel KVM hosts lack; QEMU drops what the
    # host cannot give instead of libvirt refusing to start the guest.
    cpu = _sub(dom, "cpu", mode="custom", match="exact", check="none")
    _sub(cpu, "model", "qemu64", fallback="allow")
    _sub(dom, "on_poweroff", "destroy")
    _sub(dom, "on_reboot", "restart")
    _sub(dom, "on_crash", "destroy")
    devices = _sub(dom, "devices")
    serial = _sub(devices, "serial", type="pty")
    _sub(serial, "target", port="0")
    return dom


def _add_features(dom: etree._Element, inputs: Inputs, encrypted: bool) -> None:
    """acpi, apic, [hyperv for Windows], vmcoreinfo (x86_64, no memory encryption: since
    Nova 32.0.0, 79846eb0d0)."""
    features = _sub(dom, "features")
    if not inputs.qemu_or_kvm:
        return
    _sub(features, "acpi")
    _sub(features, "apic")
    if is_windows(inputs):
        hv = _sub(features, "hyperv")
        _sub(hv, "relaxed", state="on")
        _sub(hv, "vapic", state="on")
        _sub(hv, "spinlocks", state="on", retries=HYPERV_SPINLOCK_RETRIES)
        for name in ("vpindex", "runtime", "synic", "reset", "frequencies", "tlbflush", "ipi"):
            _sub(hv, name, state="on")
    if not encrypted:
        _sub(features, "vmcoreinfo")


def _add_clock(dom: etree._Element, inputs: Inputs) -> None:
    """``_set_clock``: utc (localtime for Windows); timers only when virt_type is kvm."""
    clock = _sub(dom, "clock", offset="localtime" if is_windows(inputs) else "utc")
    if inputs.request.virt_type != "kvm":
        return
    _sub(clock, "timer", name="pit", tickpolicy="delay")
    _sub(clock, "timer", name="rtc", tickpolicy="catchup")
    hpet = bool(inputs.image_props.get("hw_time_hpet", False))
    _sub(clock, "timer", name="hpet", present="yes" if hpet else "no")
    if is_windows(inputs):
        _sub(clock, "timer", name="hypervclock", present="yes")


def add_memballoon(dom: etree._Element, iommu: bool = False) -> None:
    """``_guest_add_memory_balloon`` with mem_stats_period_seconds=10: virtio, last device
    (``<driver iommu='on'/>`` for memory encryption before Nova 34.0.0)."""
    balloon = _sub(dom.find("devices"), "memballoon", model="virtio",
                   autodeflate="on", freePageReporting="on")
    _sub(balloon, "stats", period=MEM_STATS_PERIOD_SECONDS)
    if iommu:
        _sub(balloon, "driver", iommu="on")


def devices(dom: etree._Element) -> etree._Element:
    return dom.find("devices")


def features(dom: etree._Element) -> etree._Element:
    return dom.find("features")
