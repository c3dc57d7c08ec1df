"""Reference driver XML, sandboxed like any driver's, is accepted by the real libvirt (defineXML
with validation, then undefine)."""
import uuid

import pytest

from conformance.contract import Flavor, Image, Request
from conformance.reference import ReferenceDriver

libvirt = pytest.importorskip("libvirt", reason="libvirt-python not installed")

pytestmark = pytest.mark.functional

SPECS = {"hw:watchdog_action": "reset", "hw_rng:rate_bytes": "1024", "hw_rng:rate_period": "1000",
         "hw:pmu": "true", "hw:hide_hypervisor_id": "true", "hw:locked_memory": "true",
         "hw:mem_page_size": "any"}
PROPS = {"hw_qemu_guest_agent": "yes", "hw_mem_page_size": "4096"}


@pytest.mark.parametrize("virt_type", ["qemu", "kvm"])
@pytest.mark.parametrize("props", [PROPS, {**PROPS, "os_type": "windows"}, {}],
                         ids=["linux", "windows", "defaults"])
def test_define_and_undefine(host_lab, virt_type, props):
    """libvirt accepts the sandboxed XML (VIR_DOMAIN_DEFINE_VALIDATE) and keeps every feature
    element."""
    conn = host_lab.connected()
    if virt_type == "kvm" and "kvm" not in conn.getCapabilities():
        pytest.skip("host capabilities list no <domain type='kvm'> (no /dev/kvm)")
    specs = SPECS if props else {}
    name = f"dev-reference-{uuid.uuid4().hex[:10]}"
    req = Request(virt_type=virt_type, instance_name=name, instance_uuid=str(uuid.uuid4()),
                  flavor=Flavor(extra_specs=specs), image=Image(properties=props))
    placement = host_lab.placement(req.boot, slug="reference", instance_name=name,
                                   virt_type=virt_type, define_only=True)
    xml = host_lab.sandboxed(ReferenceDriver().build(req), placement)
    dom = conn.defineXMLFlags(xml, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
    try:
        live = dom.XMLDesc(0)
        if props:
            for needle in ("<locked/>", "<hidden state='on'/>", "<pmu state='on'/>",
                           "action='reset'", "org.qemu.guest_agent.0", "bytes='1024'"):
                assert needle in live
    finally:
        dom.undefine()
