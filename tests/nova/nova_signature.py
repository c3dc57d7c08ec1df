"""The feature elements of a domain, as a comparable dict (for the nova tests)."""

from lxml import etree

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _attrs(elements, *names):
    return sorted(tuple(e.get(n) for n in names) for e in elements)


def signature(xml: str) -> dict:
    """Agent channel, watchdog, rng, pmu, kvm hidden, hyperv vendor_id, locked memory."""
    dom = etree.fromstring(xml.encode(), _PARSER)
    rngs = []
    for rng in dom.findall("devices/rng"):
        backend = rng.find("backend")
        rate = rng.find("rate")
        rngs.append((rng.get("model"), backend.get("model"), (backend.text or "").strip(),
                     None if rate is None else rate.get("bytes"),
                     None if rate is None else rate.get("period")))
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
    }
