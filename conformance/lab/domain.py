"""A minimal bootable domain (no driver involved): the lab's own smoke-test guest.

Direct kernel boot of the harness image, 256 MiB, 1 vCPU, the guest-agent channel and a
serial console (replaced by the sandbox with the harness's console file). Feature XML is
the drivers' business; this only proves the lab can boot and talk to a guest.
"""

from __future__ import annotations

from lxml import etree

AGENT_CHANNEL = "org.qemu.guest_agent.0"


def minimal_domain(name: str, uuid: str, boot, virt_type: str = "qemu",
                   memory_mib: int = 256, vcpus: int = 1, agent: bool = True) -> str:
    """Domain XML for ``boot`` (kernel, initrd, cmdline) under ``virt_type`` (kvm/qemu)."""
    dom = etree.Element("domain", type=virt_type)
    etree.SubElement(dom, "name").text = name
    etree.SubElement(dom, "uuid").text = uuid
    etree.SubElement(dom, "memory", unit="MiB").text = str(memory_mib)
    etree.SubElement(dom, "vcpu").text = str(vcpus)
    os_el = etree.SubElement(dom, "os")
    etree.SubElement(os_el, "type", arch="x86_64", machine="pc").text = "hvm"
    etree.SubElement(os_el, "kernel").text = boot.kernel
    etree.SubElement(os_el, "initrd").text = boot.initrd
    etree.SubElement(os_el, "cmdline").text = boot.cmdline
    if virt_type == "qemu":
        etree.SubElement(dom, "cpu", mode="custom", match="exact").append(
            _text("model", "qemu64", fallback="allow"))
    for action, value in (("on_poweroff", "destroy"), ("on_reboot", "restart"),
                          ("on_crash", "destroy")):
        etree.SubElement(dom, action).text = value
    devices = etree.SubElement(dom, "devices")
    serial = etree.SubElement(devices, "serial", type="pty")
    etree.SubElement(serial, "target", port="0")
    if agent:
        channel = etree.SubElement(devices, "channel", type="unix")
        etree.SubElement(channel, "source", mode="bind")
        etree.SubElement(channel, "target", type="virtio", name=AGENT_CHANNEL)
    etree.SubElement(devices, "memballoon", model="none")
    return etree.tostring(dom, encoding="unicode")


def _text(tag: str, text: str, **attrs) -> etree._Element:
    element = etree.Element(tag, attrs)
    element.text = text
    return element
