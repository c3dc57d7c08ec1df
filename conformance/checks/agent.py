"""Guest agent, level 1: exactly one virtio channel named org.qemu.guest_agent.0 iff enabled;
for a memory-encrypted guest before Nova 34.0.0 (``virtio_iommu``) an explicit virtio-serial
controller with ``<driver iommu='on'/>``, and none with it otherwise."""

from __future__ import annotations

from lxml import etree

from conformance.checks.finding import Finding, count_finding, excerpt
from conformance.contract import Request
from conformance.reference import Features

TARGET = "org.qemu.guest_agent.0"


def check_xml(expected: Features, dom: etree._Element, request: Request) -> list[Finding]:
    channels = dom.xpath("devices/channel[target/@name=$n]", n=TARGET)
    context = dom.xpath("devices/channel") or dom.find("devices")
    if not expected.agent:
        return count_finding("agent.absent", f"agent channels ({TARGET})", channels, 0, context)
    findings = count_finding("agent.channel", f"virtio channels named {TARGET}", channels, 1, context)
    for channel in channels:
        target = channel.find("target")
        if channel.get("type") != "unix" or target.get("type") != "virtio":
            findings.append(Finding("agent.channel", "<channel type='unix'> with <target type='virtio'>",
                                    f"channel type={channel.get('type')!r}, target type="
                                    f"{target.get('type')!r}", excerpt(channel)))
        source = channel.find("source")
        if source is not None and source.get("mode", "bind") != "bind":
            findings.append(Finding("agent.channel", "<source mode='bind'>",
                                    f"mode={source.get('mode')!r}", excerpt(channel)))
    iommu = dom.xpath("devices/controller[@type='virtio-serial'][driver/@iommu='on']")
    if bool(iommu) != expected.virtio_iommu:
        findings.append(Finding("agent.iommu", "a virtio-serial controller with <driver iommu='on'/>"
                                if expected.virtio_iommu else "no virtio-serial controller with "
                                "<driver iommu='on'/>", f"{len(iommu)} such controllers",
                                excerpt(dom.xpath("devices/controller[@type='virtio-serial']") or context)))
    return findings
