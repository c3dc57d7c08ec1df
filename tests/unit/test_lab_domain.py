"""The lab's minimal domain is valid libvirt XML the sandbox accepts (no libvirt daemon)."""

from pathlib import Path

import pytest
from lxml import etree

from conformance.contract import Boot
from conformance.lab.domain import minimal_domain
from conformance.lab.runs import Owner
from conformance.lab.sandbox import Placement, prepare

BOOT = Boot(kernel="/k/vmlinuz", initrd="/k/initrd.img", cmdline="console=ttyS0 <&>")
SCHEMA = Path("/usr/share/libvirt/schemas/domain.rng")


@pytest.mark.parametrize("virt_type", ["qemu", "kvm"])
def test_minimal_domain_passes_the_sandbox_and_libvirt_schema(virt_type):
    """The sandboxed minimal domain validates against libvirt's RelaxNG schema."""
    xml = minimal_domain("instance-x", "11111111-2222-3333-4444-555555555555", BOOT, virt_type)
    placement = Placement(name="cfm-ab-1-x", uuid="11111111-2222-3333-4444-666666666666",
                          console_path="/tmp/c.log", owner=Owner("ab", 1, "1"),
                          virt_type=virt_type, kernel=BOOT.kernel, initrd=BOOT.initrd,
                          cmdline=BOOT.cmdline, instance_name="instance-x")
    root = etree.fromstring(prepare(xml, placement).encode())
    assert root.findtext("os/cmdline") == "console=ttyS0 <&>"   # escaped, not interpreted
    assert root.find("devices/channel/target").get("name") == "org.qemu.guest_agent.0"
    if not SCHEMA.exists():
        pytest.skip(f"libvirt RelaxNG schema {SCHEMA} is not installed")
    relaxng = etree.RelaxNG(etree.parse(str(SCHEMA)))
    assert relaxng.validate(root), relaxng.error_log
