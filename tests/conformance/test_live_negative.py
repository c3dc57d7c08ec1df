"""The live checks can fail: broken domains booted for real are caught at level 2 or 3.

Two of them pass every level-1 XML check, so only the live levels can catch them:
a reset watchdog with ``<on_reboot>destroy</on_reboot>`` (the guest never comes back) and
an RNG fed from /dev/zero by the host's ``rng_dev_path`` (the XML and QEMU's backend are
exactly what was asked for, but the guest reads zeros).

Guest-level negatives a TCG guest cannot show (a guest with a PMU or the KVM signature)
run against the fakes of :mod:`conformance.live.fakes`, one per broken variant; the ones
a real guest can show here boot one.
"""

import uuid

import pytest
from lxml import etree

from conformance.checks import check_xml
from conformance.contract import Flavor, HostSettings, Image, Request
from conformance.drivers.output import parse_domain
from conformance.errors import GuestError
from conformance.live import (LiveCheckFailed, agent, hidden_hypervisor, locked_memory,
                              persistence, pmu, record, rng)
from conformance.live.fakes import (AMD_PMU_LINE, HYPERV_SIGNATURE, INTEL_PMU_LINE,
                                    KVM_SIGNATURE, TCG_SIGNATURE, cpu_guest)
from conformance.reference import ReferenceDriver, resolve
from fixtures.guests import wait_ready, watchdog_fires


def request_for(guest_image, accelerator, extra_specs=None, properties=None, host=None):
    return Request(virt_type=accelerator.virt_type, instance_name=f"instance-{uuid.uuid4().hex[:8]}",
                   instance_uuid=str(uuid.uuid4()), flavor=Flavor(extra_specs=extra_specs or {}),
                   image=Image(properties={"hw_qemu_guest_agent": "yes", **(properties or {})}),
                   boot=guest_image.boot, host=host or HostSettings())


def level1_findings(request, xml):
    return check_xml(resolve(request), parse_domain(xml), request)


def boot(guest_factory, config, xml, agent_expected=True):
    return wait_ready(guest_factory(xml, slug="negative"), config, agent=agent_expected)


@pytest.mark.functional
@pytest.mark.slow
@pytest.mark.destructive
def test_reset_watchdog_without_reboot_is_caught(request, guest_factory, guest_image, accelerator,
                                                 conformance_config):
    """Watchdog action reset but <on_reboot>destroy</on_reboot>: level 1 passes, the fired
    watchdog stops the domain instead of rebooting it, and the level-3 check fails."""
    req = request_for(guest_image, accelerator, {"hw:watchdog_action": "reset"})
    dom = etree.fromstring(ReferenceDriver().build(req).encode())
    dom.find("on_reboot").text = "destroy"
    xml = etree.tostring(dom, encoding="unicode")
    assert level1_findings(req, xml) == []
    guest = boot(guest_factory, conformance_config, xml)
    with pytest.raises(LiveCheckFailed, match="did not come back") as caught:
        watchdog_fires(guest, "reset", conformance_config)
    record.describe(request.node, [], "watchdog", "guest", negative="on_reboot=destroy")
    request.node.user_properties.append(("evidence", record.small(caught.value.evidence)))


@pytest.mark.functional
@pytest.mark.slow
def test_rng_from_dev_zero_is_caught(request, guest_factory, guest_image, accelerator,
                                     conformance_config):
    """Host rng_dev_path=/dev/zero: XML and QEMU's backend are as requested (levels 1 and 2
    pass) but the guest reads zeros from /dev/hwrng, which the level-3 check catches."""
    req = request_for(guest_image, accelerator, host=HostSettings(rng_dev_path="/dev/zero"))
    xml = ReferenceDriver().build(req)
    assert level1_findings(req, xml) == []
    guest = boot(guest_factory, conformance_config, xml)
    expected = rng.expected_from(resolve(req).rng)
    assert rng.check_host(guest, expected)["filename"] == "/dev/zero"
    with pytest.raises(LiveCheckFailed, match="non-random") as caught:
        rng.check_guest(guest, expected)
    record.describe(request.node, [], "rng", "guest", negative="backend /dev/zero")
    request.node.user_properties.append(("evidence", record.small(caught.value.evidence)))


@pytest.mark.functional
@pytest.mark.slow
def test_wrong_agent_pmu_hidden_are_caught(request, guest_factory, guest_image, accelerator,
                                           conformance_config):
    """A driver that misnames the agent channel, flips pmu and drops <kvm><hidden>: the
    host checks of all three and the agent's guest check fail on the running guest."""
    req = request_for(guest_image, accelerator, {"hw:pmu": "false", "hw:hide_hypervisor_id": "true"})
    expected = resolve(req)
    dom = etree.fromstring(ReferenceDriver().build(req).encode())
    for target in dom.iterfind("devices/channel/target"):
        target.set("name", "org.qemu.guest_agent.1")
    dom.find("features/pmu").set("state", "on")
    features = dom.find("features")
    features.remove(features.find("kvm"))
    guest = boot(guest_factory, conformance_config, etree.tostring(dom, encoding="unicode"),
                 agent_expected=False)
    caught = {}
    for name, check in [("agent-host", lambda: agent.check_host(guest, expected.agent, timeout=5)),
                        ("agent-guest", lambda: agent.check_guest(guest, expected.agent)),
                        ("pmu-host", lambda: pmu.check_host(guest, expected.pmu)),
                        ("hidden-host", lambda: hidden_hypervisor.check_host(
                            guest, expected.hide_hypervisor))]:
        with pytest.raises(LiveCheckFailed) as exc:
            check()
        caught[name] = str(exc.value)
    record.describe(request.node, [], "agent,pmu,hidden_hypervisor", "host",
                    negative="agent name, pmu flipped, hidden dropped")
    request.node.user_properties.append(("evidence", record.small(caught)))


@pytest.mark.functional
@pytest.mark.slow
def test_a_guest_without_the_instance_uuid_is_caught(request, guest_factory, guest_image,
                                                     accelerator, conformance_config):
    """The guest reads its domain's uuid as its SMBIOS system uuid. Placed with the instance
    uuid the driver answered, the guest-level persistence check passes; placed with the
    harness's own uuid (what the sandbox used to force on every domain) it fails."""
    req = request_for(guest_image, accelerator)
    xml = ReferenceDriver().build(req)
    facts = {"operation": "reboot", "boot_before": "", "boots_seen": [],
             "instance": {"uuid": req.instance_uuid, "name": req.instance_name}}
    own = boot(guest_factory, conformance_config, xml)  # no instance uuid asked: the harness's
    with pytest.raises(LiveCheckFailed, match="SMBIOS system uuid") as caught:
        persistence.check_persisted_guest(own, facts)
    own.destroy()
    kept = wait_ready(guest_factory(xml, instance_name=req.instance_name,
                                    instance_uuid=req.instance_uuid, slug="negative"),
                      conformance_config)
    assert persistence.check_persisted_guest(kept, facts)["product_uuid"] == req.instance_uuid
    record.describe(request.node, [], "lifecycle", "guest", negative="harness uuid on the domain")
    request.node.user_properties.append(("evidence", record.small(caught.value.evidence)))


# -- pmu and hidden hypervisor, guest level, against fakes --------------------------------
KVM_PMU = dict(pmu_version=2, cycles="183456", dmesg=INTEL_PMU_LINE, qom_pmu=True)


@pytest.mark.parametrize("guest, expected", [
    pytest.param(cpu_guest(**KVM_PMU), True, id="on-all-probes"),
    pytest.param(cpu_guest(pmu_version=2, qom_pmu=True), True, id="on-cpuid-leaf-only"),
    pytest.param(cpu_guest(cycles="95000", dmesg=AMD_PMU_LINE, qom_pmu=True), True,
                 id="on-counters-without-leaf-0xa"),
    pytest.param(cpu_guest(), False, id="off-as-measured-under-tcg"),
    pytest.param(cpu_guest(), None, id="unset-qemu-gives-none"),
    pytest.param(cpu_guest(**KVM_PMU), None, id="unset-qemu-gives-one"),
])
def test_pmu_guest_healthy_variants(guest, expected):
    """Guests that show what was asked (unset: what QEMU's vCPU property says) pass, with
    each probe's reading in the evidence."""
    evidence = pmu.check_guest(guest, expected)
    assert {"cpuid", "perf", "kernel"} <= set(evidence["probes"])


@pytest.mark.parametrize("guest, expected, match", [
    pytest.param(cpu_guest(cycles="0"), True, "counted 0", id="on-cycles-zero"),
    pytest.param(cpu_guest(pmu_version=2, cycles="0", qom_pmu=True), True, "counted 0",
                 id="on-leaf-but-cycles-zero"),
    pytest.param(cpu_guest(), True, "no probe shows a PMU", id="on-no-pmu"),
    pytest.param(cpu_guest(pmu_version=2), False, "shows a PMU", id="off-cpuid-advertises"),
    pytest.param(cpu_guest(cycles="5000", dmesg=AMD_PMU_LINE), False, "shows a PMU",
                 id="off-counters-count"),
    pytest.param(cpu_guest(cycles="0", dmesg=AMD_PMU_LINE), False, "counted 0",
                 id="off-counter-opens"),
    pytest.param(cpu_guest(**{**KVM_PMU, "qom_pmu": False}), None, "shows a PMU",
                 id="unset-guest-has-pmu-qemu-says-none"),
    pytest.param(cpu_guest(qom_pmu=True), None, "no probe shows a PMU",
                 id="unset-qemu-says-pmu-guest-has-none"),
])
def test_pmu_guest_broken_variants_fail(guest, expected, match):
    """A guest contradicting the expectation fails; a counter that opens but counts 0
    cycles is no working PMU (and no proof of its absence either)."""
    with pytest.raises(LiveCheckFailed, match=match):
        pmu.check_guest(guest, expected)


@pytest.mark.parametrize("guest", [
    pytest.param(cpu_guest(dmesg=""), id="empty-dmesg"),
    pytest.param(cpu_guest(dmesg_rc=1), id="dmesg-fails"),
    pytest.param(cpu_guest(dmesg="Performance Events: something else"), id="unknown-boot-line"),
    pytest.param(cpu_guest(cycles="unsupported errno=EACCES"), id="perf-not-permitted"),
    pytest.param(cpu_guest(cycles="garbage"), id="perf-garbage"),
    pytest.param(cpu_guest(max_basic_leaf=0x4), id="leaf-0xa-out-of-range"),
    pytest.param(cpu_guest(drop=("pmu_version",)), id="cpuid-without-pmu-version"),
])
@pytest.mark.parametrize("expected", [True, False])
def test_pmu_guest_probe_that_cannot_see_is_an_error(guest, expected):
    """A probe that failed or could not have shown a PMU is an error in both directions,
    never evidence (an empty dmesg is not "no PMU")."""
    with pytest.raises(GuestError):
        pmu.check_guest(guest, expected)


@pytest.mark.parametrize("guest, hidden", [
    pytest.param(cpu_guest(signature=KVM_SIGNATURE), False, id="kvm-signature-shown"),
    pytest.param(cpu_guest(signature=HYPERV_SIGNATURE, next_signature=KVM_SIGNATURE), False,
                 id="kvm-leaves-after-hyperv"),
    pytest.param(cpu_guest(signature=bytes(12)), True, id="hidden-zeros"),
    pytest.param(cpu_guest(signature=TCG_SIGNATURE), True, id="hidden-tcg"),
    pytest.param(cpu_guest(signature=b"1234567890ab"), True, id="hidden-hyperv-vendor-id"),
])
def test_hidden_guest_healthy_variants(guest, hidden):
    """The KVM signature at 0x40000000 or 0x40000100 (after Hyper-V's leaves) iff not hidden."""
    evidence = hidden_hypervisor.check_guest(guest, hidden)
    assert len(evidence["hv_signature_hex"]) == 24 and len(evidence["hv2_signature_hex"]) == 24


@pytest.mark.parametrize("guest, hidden", [
    pytest.param(cpu_guest(signature=KVM_SIGNATURE), True, id="hidden-but-kvm-signature"),
    pytest.param(cpu_guest(signature=HYPERV_SIGNATURE, next_signature=KVM_SIGNATURE), True,
                 id="hidden-but-kvm-leaves-after-hyperv"),
    pytest.param(cpu_guest(signature=TCG_SIGNATURE), False, id="not-hidden-but-no-kvm"),
])
def test_hidden_guest_broken_variants_fail(guest, hidden):
    """A signature contradicting the request fails."""
    with pytest.raises(LiveCheckFailed, match="KVM signature"):
        hidden_hypervisor.check_guest(guest, hidden)


@pytest.mark.parametrize("guest", [
    pytest.param(cpu_guest(drop=("hv_signature_hex",)), id="no-signature-key"),
    pytest.param(cpu_guest(drop=("hv2_signature_hex",)), id="no-second-signature-key"),
    pytest.param(cpu_guest(signature=b"KVM"), id="short-signature"),
])
@pytest.mark.parametrize("hidden", [True, False])
def test_hidden_guest_probe_without_signature_is_an_error(guest, hidden):
    """A cpuid probe that printed no (or a malformed) signature is an error, not "hidden"."""
    with pytest.raises(GuestError, match="signature"):
        hidden_hypervisor.check_guest(guest, hidden)


# -- pmu, hidden hypervisor and locked memory on real guests ------------------------------
@pytest.mark.functional
@pytest.mark.slow
def test_pmu_and_hidden_guest_probes_on_a_real_guest(request, guest_factory, guest_image,
                                                     accelerator, conformance_config):
    """pmu on, not hidden: the guest checks pass for what this accelerator shows (KVM: a
    PMU and the KVM signature; TCG: neither) and fail for the opposite, with the real
    probes' readings as evidence either way."""
    req = request_for(guest_image, accelerator, {"hw:pmu": "on"})
    guest = boot(guest_factory, conformance_config, ReferenceDriver().build(req))
    assert pmu.check_host(guest, True) and hidden_hypervisor.check_host(guest, False)
    shows = accelerator.virt_type == "kvm"
    seen = {"pmu": pmu.check_guest(guest, shows),
            "hidden": hidden_hypervisor.check_guest(guest, not shows)}
    with pytest.raises(LiveCheckFailed, match="PMU") as pmu_caught:
        pmu.check_guest(guest, not shows)
    with pytest.raises(LiveCheckFailed, match="KVM signature") as hidden_caught:
        hidden_hypervisor.check_guest(guest, shows)
    record.describe(request.node, [], "pmu,hidden_hypervisor", "guest",
                    negative="expectation opposite to what the accelerator shows")
    request.node.user_properties.append(("evidence", record.small(
        {**seen, "pmu_caught": str(pmu_caught.value), "hidden_caught": str(hidden_caught.value)})))


@pytest.mark.functional
@pytest.mark.slow
def test_dropped_locked_memory_is_caught(request, guest_factory, guest_image, accelerator,
                                        conformance_config):
    """A driver that drops <memoryBacking><locked/>: level 1 reports it, and on the running
    (unlocked, so bootable here) guest the host check of a locked request fails while the
    unlocked reading passes."""
    req = request_for(guest_image, accelerator,
                      {"hw:locked_memory": "true", "hw:mem_page_size": "small"})
    dom = etree.fromstring(ReferenceDriver().build(req).encode())
    dom.remove(dom.find("memoryBacking"))
    xml = etree.tostring(dom, encoding="unicode")
    assert "locked.present" in [f.check for f in level1_findings(req, xml)]
    guest = boot(guest_factory, conformance_config, xml)
    ram = req.flavor.memory_mb * 1024 * 1024
    unlocked = locked_memory.check_host(guest, False, ram)
    with pytest.raises(LiveCheckFailed, match="mem-lock") as caught:
        locked_memory.check_host(guest, True, ram)
    record.describe(request.node, [], "locked_memory", "host", negative="<locked/> dropped")
    request.node.user_properties.append(("evidence", record.small(
        {"unlocked": unlocked, "caught": caught.value.evidence})))
