"""Sandbox rules for untrusted driver XML (no libvirt needed)."""

import pytest
from lxml import etree

from conformance.lab.runs import OWNER_NS, Owner
from conformance.lab.sandbox import Placement, SandboxViolation, prepare

KERNEL, INITRD = "/var/lib/conformance/images/x/vmlinuz", "/var/lib/conformance/images/x/initrd.img"
OWNER = Owner("abcd1234", 4242, "777")
PLACEMENT = Placement(name="cfm-abcd1234-1-t", uuid="11111111-2222-3333-4444-555555555555",
                      console_path="/var/lib/conformance/runs/abcd1234/c.log", owner=OWNER,
                      virt_type="qemu", kernel=KERNEL, initrd=INITRD, instance_name="instance-1")


def domain(devices: str = "", os_extra: str = "", head: str = "", root_attrs: str = "type='qemu'",
           name: str = "instance-1", kernel: str = KERNEL, initrd: str = INITRD) -> str:
    return (f"<domain {root_attrs}><name>{name}</name>"
            "<uuid>99999999-2222-3333-4444-555555555555</uuid>"
            f"<memory unit='MiB'>256</memory><vcpu>1</vcpu>{head}"
            "<os><type arch='x86_64' machine='pc'>hvm</type>"
            f"<kernel>{kernel}</kernel><initrd>{initrd}</initrd>{os_extra}</os>"
            "<devices><serial type='pty'/><console type='pty'/>"
            "<channel type='unix'><source mode='bind' path='/tmp/evil.sock'/>"
            "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
            f"{devices}</devices></domain>")


def test_good_xml_is_accepted_and_owned():
    """Good XML passes; name, uuid, console and ownership marker become the harness's."""
    root = etree.fromstring(prepare(domain(), PLACEMENT).encode())
    assert root.findtext("name") == PLACEMENT.name
    assert root.findtext("uuid") == PLACEMENT.uuid
    serials = root.findall("devices/serial")
    consoles = root.findall("devices/console")
    assert [s.get("type") for s in serials] == ["file"]
    assert serials[0].find("source").get("path") == PLACEMENT.console_path
    assert [c.get("type") for c in consoles] == ["file"]
    assert consoles[0].find("source").get("path") == PLACEMENT.console_path
    # appended to: a restore from a managed save keeps the boot markers before it
    assert {serials[0].find("source").get("append"), consoles[0].find("source").get("append")} == {"on"}
    marker = root.find(f"metadata/{{{OWNER_NS}}}owner")
    assert marker is not None
    assert (marker.get("run"), marker.get("pid"), marker.get("started")) == ("abcd1234", "4242", "777")
    # the agent socket path is left to libvirt
    assert root.find("devices/channel/source").get("path") is None


def test_existing_owner_marker_is_replaced_not_trusted():
    """A driver cannot forge ownership: any marker it sends is replaced by the harness's."""
    forged = (f"<metadata><cfm:owner xmlns:cfm='{OWNER_NS}' run='other' pid='1' started='1'/>"
              "</metadata>")
    root = etree.fromstring(prepare(domain(head=forged), PLACEMENT).encode())
    markers = root.findall(f"metadata/{{{OWNER_NS}}}owner")
    assert [m.get("run") for m in markers] == ["abcd1234"]


ESCAPES = {
    "disk": domain("<disk type='file' device='disk'><source file='/etc/shadow'/>"
                   "<target dev='vda' bus='virtio'/></disk>"),
    "filesystem": domain("<filesystem type='mount'><source dir='/'/><target dir='root'/></filesystem>"),
    "hostdev": domain("<hostdev mode='subsystem' type='pci'><source><address domain='0' bus='0'"
                      " slot='1' function='0'/></source></hostdev>"),
    "interface": domain("<interface type='bridge'><source bridge='br0'/></interface>"),
    "graphics": domain("<graphics type='vnc' port='-1'/>"),
    "file-channel": domain("<channel type='file'><source path='/etc/passwd'/>"
                           "<target type='virtio' name='x'/></channel>"),
    "rng-regular-file": domain("<rng model='virtio'><backend model='random'>/etc/shadow</backend></rng>"),
    "rng-egd": domain("<rng model='virtio'><backend model='egd' type='tcp'>"
                      "<source mode='connect' host='1.2.3.4' service='1'/></backend></rng>"),
    "qemu-commandline": domain(head="<qemu:commandline xmlns:qemu="
                               "'http://libvirt.org/schemas/domain/qemu/1.0'>"
                               "<qemu:arg value='-hda'/><qemu:arg value='/etc/shadow'/>"
                               "</qemu:commandline>"),
    "other-kernel": domain(kernel="/boot/vmlinuz-evil"),
    "other-initrd": domain(initrd="/etc/shadow"),
    "loader": domain(os_extra="<loader readonly='yes' type='pflash'>/etc/shadow</loader>"),
    "nvram": domain(os_extra="<nvram>/etc/shadow</nvram>"),
    "seclabel": domain(head="<seclabel type='none'/>"),
    "emulator": domain("<emulator>/bin/sh</emulator>"),
    "wrong-name": domain(name="instance-2"),
    "wrong-virt-type": domain(root_attrs="type='kvm'"),
    "huge-memory": domain().replace("<memory unit='MiB'>256", "<memory unit='GiB'>64"),
    "many-vcpus": domain().replace("<vcpu>1</vcpu>", "<vcpu>64</vcpu>"),
    "not-domain": "<network><name>x</name></network>",
    "not-xml": "<domain",
}


@pytest.mark.parametrize("case", sorted(ESCAPES))
def test_escapes_are_refused(case):
    """Each way out of the sandbox raises SandboxViolation and yields no XML."""
    with pytest.raises(SandboxViolation):
        prepare(ESCAPES[case], PLACEMENT)


@pytest.mark.parametrize("payload", [
    "<!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>",
    "<!DOCTYPE domain [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>]>",
    "<!DOCTYPE domain SYSTEM 'http://example.invalid/x.dtd'>",
])
def test_entity_payloads_are_refused_not_expanded(payload):
    """DOCTYPE / entity payloads (XXE, billion laughs, external DTD) are refused unexpanded."""
    xml = payload + domain().replace("<name>instance-1</name>", "<name>instance-1</name>"
                                     "<description>&x;&b;</description>")
    with pytest.raises(SandboxViolation) as raised:
        prepare(xml, PLACEMENT)
    assert "root:" not in str(raised.value)  # never the content of /etc/passwd
    assert raised.value.rule in ("doctype", "not-xml")


def test_violation_names_the_rule():
    """The error names which rule was broken, for the report."""
    with pytest.raises(SandboxViolation, match=r"\(device\).*<disk>"):
        prepare(ESCAPES["disk"], PLACEMENT)


def test_sysinfo_uuid_follows_the_harness_uuid():
    """Nova writes the instance uuid into <sysinfo>; it must follow the harness's new uuid."""
    xml = domain(head="<sysinfo type='smbios'><system><entry name='uuid'>"
                      "99999999-2222-3333-4444-555555555555</entry></system></sysinfo>")
    root = etree.fromstring(prepare(xml, PLACEMENT).encode())
    assert root.findtext("sysinfo/system/entry[@name='uuid']") == PLACEMENT.uuid


INSTANCE_UUID = "99999999-2222-3333-4444-555555555555"  # the uuid domain() answers


def asked() -> Placement:
    """A placement for which the harness asked the driver for the instance uuid."""
    return Placement(name="cfm-abcd1234-1-t", uuid=INSTANCE_UUID, instance_uuid=INSTANCE_UUID,
                     console_path=PLACEMENT.console_path, owner=OWNER, virt_type="qemu",
                     kernel=KERNEL, initrd=INITRD, instance_name="instance-1")

SYSINFO = "<sysinfo type='smbios'><system><entry name='uuid'>{}</entry></system></sysinfo>"


@pytest.mark.parametrize("spelling", [INSTANCE_UUID, INSTANCE_UUID.upper(),
                                      INSTANCE_UUID.replace("-", "")],
                         ids=["canonical", "upper-case", "no-hyphens"])
def test_the_instance_uuid_the_driver_answers_is_kept(spelling):
    """When the harness asked for an instance uuid, the driver's <uuid> (and <sysinfo> uuid)
    must be it, in any spelling libvirt reads; the domain keeps it (canonical form)."""
    xml = domain(head=SYSINFO.format(spelling)).replace(INSTANCE_UUID, spelling, 1)
    root = etree.fromstring(prepare(xml, asked()).encode())
    assert root.findtext("uuid") == INSTANCE_UUID
    assert root.findtext("sysinfo/system/entry[@name='uuid']") == INSTANCE_UUID
    assert root.findtext("name") == asked().name  # the libvirt name stays the harness's


@pytest.mark.parametrize("xml", [
    domain().replace(INSTANCE_UUID, "11111111-1111-4111-8111-111111111111"),
    domain().replace(f"<uuid>{INSTANCE_UUID}</uuid>", ""),
    domain().replace(INSTANCE_UUID, "not-a-uuid"),
    domain().replace(f"<uuid>{INSTANCE_UUID}</uuid>",
                     f"<uuid>{INSTANCE_UUID}</uuid><uuid>11111111-1111-4111-8111-111111111111</uuid>"),
    domain(head=SYSINFO.format("11111111-1111-4111-8111-111111111111")),
], ids=["other", "missing", "unreadable", "second-uuid", "other-sysinfo-uuid"])
def test_a_uuid_other_than_the_instances_is_refused(xml):
    """Not silently overwritten: a driver that answers another uuid than the request's (its
    <uuid> or its <sysinfo> system uuid) breaks the rule ``uuid``."""
    with pytest.raises(SandboxViolation, match=r"\(uuid\)") as raised:
        prepare(xml, asked())
    assert raised.value.rule == "uuid"


@pytest.mark.parametrize("path", ["/dev/mem", "/dev/port", "/dev/tty"])
def test_rng_backend_on_dangerous_character_devices_is_refused(path):
    """Only entropy-like devices may back the RNG; /dev/mem would leak host memory."""
    import os
    if not os.path.exists(path):
        pytest.skip(f"{path} does not exist on this host")
    xml = domain(devices=f"<rng model='virtio'><backend model='random'>{path}</backend></rng>")
    with pytest.raises(SandboxViolation) as caught:
        prepare(xml, PLACEMENT)
    assert caught.value.rule == "rng-backend"
