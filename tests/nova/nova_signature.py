"""The feature elements of a domain, as a comparable dict (for the nova tests)."""

from lxml import etree

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _attrs(elements, *names):
    return sorted(tuple(e.get(n) for n in names) for e in elements)


def _machine(dom) -> str | None:
    from conformance.reference.machine_type import family
    os_type = dom.find("os/type")
    return family(os_type.get("machine") if os_type is not None else None)


def signature(xml: str) -> dict:
    """Agent channel, watchdog, rng, pmu, kvm hidden, hyperv vendor_id, locked memory; and what
    shapes them: machine type family, pinning and realtime vCPUs, memory encryption, the
    virtio iommu of the RNG and of the agent's virtio-serial controller."""
    dom = etree.fromstring(xml.encode(), _PARSER)
    rngs = []
    for rng in dom.findall("devices/rng"):
        backend = rng.find("backend")
        rate = rng.find("rate")
        driver = rng.find("driver")
        rngs.append((rng.get("model"), backend.get("model"), (backend.text or "").strip(),
                     None if rate is None else rate.get("bytes"),
                     None if rate is None else rate.get("period"),
                     None if driver is None else driver.get("iommu")))
    return {
        "agent": _attrs(dom.findall("devices/channel/target[@name='org.qemu.guest_agent.0']"),
                        "type", "name"),
        "agent_path": sorted(
            c.find("source").get("path") for c in dom.findall("devices/channel")
            if c.find("target[@name='org.qemu.guest_agent.0']") is not None),
        "watchdog": _attrs(dom.findall("devices/watchdog"), "model", "action"),
        "rng": sorted(rngs, key=repr),
        "pmu": _attrs(dom.findall("features/pmu"), "state"),
        "kvm_hidden": _attrs(dom.findall("features/kvm/hidden"), "state"),
        "hyperv_vendor_id": _attrs(dom.findall("features/hyperv/vendor_id"), "state", "value"),
        "locked": len(dom.findall("memoryBacking/locked")),
        "nosharepages": len(dom.findall("memoryBacking/nosharepages")),
        "machine": _machine(dom),
        "serial_iommu": _attrs(dom.findall("devices/controller[@type='virtio-serial']/driver"), "iommu"),
        "pinned": sorted(p.get("vcpu") for p in dom.findall("cputune/vcpupin")),
        "vcpusched": _attrs(dom.findall("cputune/vcpusched"), "vcpus", "scheduler", "priority"),
        "launch_security": _attrs(dom.findall("launchSecurity"), "type")
        + sorted(p.text for p in dom.findall("launchSecurity/policy")),
    }
