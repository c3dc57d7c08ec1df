"""RNG, level 1: one virtio RNG with the host backend path, <rate> exactly when expected, and
``<driver iommu='on'/>`` exactly for a memory-encrypted guest before Nova 34.0.0."""

from __future__ import annotations

from lxml import etree

from conformance.checks.finding import Finding, count_finding, excerpt
from conformance.contract import Request
from conformance.reference import Features

LIBVIRT_DEFAULT_PERIOD = "1000"  # ms, when <rate> has no period attribute
# An empty <backend model='random'/> means the hypervisor's default source (QEMU: /dev/random),
# not the host's configured rng_dev_path, so the path must be explicit.


def _check_rate(dev: etree._Element, rate_bytes, rate_period) -> list[Finding]:
    rates = dev.findall("rate")
    if not (rate_bytes and rate_period):
        return count_finding("rng.rate", "<rate> elements", rates, 0, dev)
    findings = count_finding("rng.rate", "<rate> elements", rates, 1, dev)
    for rate in rates:
        actual = (rate.get("bytes"), rate.get("period", LIBVIRT_DEFAULT_PERIOD))
        if actual != (str(rate_bytes), str(rate_period)):
            findings.append(Finding("rng.rate", f"bytes={rate_bytes} period={rate_period}",
                                    f"bytes={actual[0]} period={actual[1]}", excerpt(rate)))
    return findings


def check_xml(expected: Features, dom: etree._Element, request: Request) -> list[Finding]:
    devices = dom.xpath("devices/rng")
    if expected.rng is None:
        return count_finding("rng.absent", "RNG devices", devices, 0, dom.find("devices"))
    findings = count_finding("rng.count", "RNG devices", devices, 1, dom.find("devices"))
    for dev in devices:
        if dev.get("model") != "virtio":
            findings.append(Finding("rng.model", "model='virtio'", f"model={dev.get('model')!r}", excerpt(dev)))
        backends = dev.findall("backend")
        path = (backends[0].text or "").strip() if backends else None
        if len(backends) != 1 or backends[0].get("model") != "random" or path != expected.rng.backend_path:
            findings.append(Finding("rng.backend", f"<backend model='random'>{expected.rng.backend_path}",
                                    f"backend(s) {excerpt(backends) or 'missing'}", excerpt(dev)))
        findings += _check_rate(dev, expected.rng.rate_bytes, expected.rng.rate_period)
        iommu = dev.find("driver") is not None and dev.find("driver").get("iommu") == "on"
        if iommu != expected.virtio_iommu:
            findings.append(Finding("rng.iommu", "<driver iommu='on'/>" if expected.virtio_iommu
                                    else "no <driver iommu='on'/>", excerpt(dev.find("driver"))
                                    or "no <driver>", excerpt(dev)))
    return findings
