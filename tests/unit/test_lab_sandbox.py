"""The sandbox refuses unsafe driver XML and owns the guest's identity and console."""

import pytest
from lxml import etree

from conformance.contract import Boot, Flavor, Image, Request
from conformance.lab.runs import OWNER_TAG, Owner
from conformance.lab.sandbox import Placement, SandboxViolation, prepare
from conformance.reference import ReferenceDriver

BOOT = Boot(kernel="/k/vmlinuz", initrd="/k/initrd.img", cmdline="console=ttyS0")
OWNER = Owner("run1", 4242, "999")
PLACE = Placement(name="cfm-run1-1-t", uuid="11111111-2222-4333-8444-555555555555",
                  console_path="/runs/run1/console.log", owner=OWNER, virt_type="qemu",
                  kernel=BOOT.kernel, initrd=BOOT.initrd, instance_name="instance-1")


def good_xml(**props) -> str:
    request = Request(instance_name="instance-1", boot=BOOT,
                      flavor=Flavor(extra_specs={"hw:watchdog_action": "reset"}),
                      image=Image(properties={"hw_qemu_guest_agent": "yes", **props}))
    return ReferenceDriver().build(request)


def mutate(edit) -> str:
    root = etree.fromstring(good_xml().encode())
    edit(root)
    return etree.tostring(root, encoding="unicode")


def test_reference_xml_is_accepted_and_owned():
    """Good XML passes; name, uuid, console and marker become the harness's."""
    root = etree.fromstring(prepare(good_xml(), PLACE).encode())
    assert root.findtext("name") == PLACE.name
    assert root.findtext("uuid") == PLACE.uuid
    assert [s.get("type") for s in root.iter("serial")] == ["file"]
    assert root.find("devices/serial/source").get("path") == PLACE.console_path
    marker = root.find(f"metadata/{OWNER_TAG}")
    assert (marker.get("run"), marker.get("pid")) == ("run1", "4242")
    channel = root.find("devices/channel/source")
    assert channel is None or channel.get("path") is None
    assert root.find("devices/watchdog").get("action") == "reset"


def _add(parent_path, xml):
    return lambda root: root.find(parent_path).append(etree.fromstring(xml))


@pytest.mark.parametrize("rule, edit", [
    ("device", _add("devices", "<disk type='file'><source file='/etc/shadow'/><target dev='vda'/></disk>")),
    ("device", _add("devices", "<interface type='network'><source network='default'/></interface>")),
    ("device", _add("devices", "<hostdev mode='subsystem' type='pci'/>")),
    ("device", _add("devices", "<filesystem type='mount'><source dir='/'/><target dir='r'/></filesystem>")),
    ("channel", _add("devices", "<channel type='file'><source path='/etc/passwd'/><target type='virtio' name='x'/></channel>")),
    ("emulator", _add("devices", "<emulator>/bin/sh</emulator>")),
    ("foreign-namespace", _add(".", "<qemu:commandline xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'><qemu:arg value='-x'/></qemu:commandline>")),
    ("seclabel", _add(".", "<seclabel type='none'/>")),
    ("os", _add("os", "<loader>/etc/shadow</loader>")),
    ("boot-files", lambda r: setattr(r.find("os/kernel"), "text", "/etc/shadow")),
    ("rng-backend", lambda r: setattr(r.find("devices/rng/backend"), "text", "/etc/shadow")),
    ("memory", lambda r: setattr(r.find("memory"), "text", str(64 * 1024 * 1024))),
    ("vcpu", lambda r: setattr(r.find("vcpu"), "text", "64")),
    ("virt-type", lambda r: r.set("type", "kvm")),
    ("name", lambda r: setattr(r.find("name"), "text", "some-other-domain")),
])
def test_unsafe_xml_is_refused_by_the_right_rule(rule, edit):
    """Each escape route is refused with the rule that names it."""
    with pytest.raises(SandboxViolation) as caught:
        prepare(mutate(edit), PLACE)
    assert caught.value.rule == rule


def test_entities_are_never_expanded():
    """A DOCTYPE with entities (XXE, billion laughs) is refused, never expanded."""
    xxe = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           '<domain type="qemu"><name>&x;</name></domain>')
    with pytest.raises(SandboxViolation) as caught:
        prepare(xxe, PLACE)
    assert caught.value.rule == "doctype"
    laughs = '<!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><domain>&b;</domain>'
    with pytest.raises(SandboxViolation):
        prepare(laughs, PLACE)


def test_not_xml_and_not_domain():
    """Junk and non-domain roots are named violations."""
    with pytest.raises(SandboxViolation, match="not-xml"):
        prepare("hello", PLACE)
    with pytest.raises(SandboxViolation, match="root"):
        prepare("<network/>", PLACE)


def test_dev_zero_rng_backend_is_allowed_for_live_checks_to_judge():
    """A character device such as /dev/zero is harmless to read: the live level judges it."""
    xml = mutate(lambda r: setattr(r.find("devices/rng/backend"), "text", "/dev/zero"))
    assert "/dev/zero" in prepare(xml, PLACE)
