"""The live checks can fail: broken domains booted for real are caught at level 2 or 3.

Two of them pass every level-1 XML check, so only the live levels can catch them:
a reset watchdog with ``<on_reboot>destroy</on_reboot>`` (the guest never comes back) and
an RNG fed from /dev/zero by the host's ``rng_dev_path`` (the XML and QEMU's backend are
exactly what was asked for, but the guest reads zeros).
"""

import uuid

import pytest
from lxml import etree

from conformance.checks import check_xml
from conformance.contract import Flavor, HostSettings, Image, Request
from conformance.drivers.output import parse_domain
from conformance.live import LiveCheckFailed, agent, hidden_hypervisor, pmu, record, rng
from conformance.reference import ReferenceDriver, resolve
from fixtures.guests import wait_ready, watchdog_fires

pytestmark = [pytest.mark.functional, pytest.mark.slow]


def request_for(guest_image, accelerator, extra_specs=None, properties=None, host=None):
    return Request(virt_type=accelerator.virt_type, instance_name=f"instance-{uuid.uuid4().hex[:8]}",
                   instance_uuid=str(uuid.uuid4()), flavor=Flavor(extra_specs=extra_specs or {}),
                   image=Image(properties={"hw_qemu_guest_agent": "yes", **(properties or {})}),
                   boot=guest_image.boot, host=host or HostSettings())


def level1_findings(request, xml):
    return check_xml(resolve(request), parse_domain(xml), request)


def boot(guest_factory, config, xml, agent_expected=True):
    return wait_ready(guest_factory(xml, slug="negative"), config, agent=agent_expected)


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
