"""Reference driver: QEMU guest agent channel (image hw_qemu_guest_agent)."""
import pytest
from lxml import etree

from conformance.contract import Flavor, Image, Request
from conformance.reference import ReferenceDriver, resolve


def request(specs=None, props=None, **kw):
    return Request(flavor=Flavor(extra_specs=specs or {}), image=Image(properties=props or {}), **kw)


def channels(req):
    return etree.fromstring(ReferenceDriver().build(req)).findall("devices/channel")


def test_default_no_agent_channel():
    """Without the image property there is no agent channel."""
    assert resolve(request()).agent is False
    assert channels(request()) == []


@pytest.mark.parametrize("virt_type", ["qemu", "kvm"])
def test_agent_channel_xml(virt_type):
    """hw_qemu_guest_agent=yes adds Nova's unix channel with a per-instance socket path."""
    [ch] = channels(request(props={"hw_qemu_guest_agent": "yes"}, virt_type=virt_type,
                            instance_name="instance-0000abcd"))
    assert ch.get("type") == "unix"
    assert dict(ch.find("source").attrib) == {
        "mode": "bind",
        "path": "/var/lib/libvirt/qemu/org.qemu.guest_agent.0.instance-0000abcd.sock"}
    assert dict(ch.find("target").attrib) == {"type": "virtio", "name": "org.qemu.guest_agent.0"}


@pytest.mark.parametrize("value", ["1", "t", "TRUE", "On", "y", " yes "])
def test_true_like_values_enable(value):
    """Every oslo true string (case-insensitive, stripped) enables the agent."""
    assert resolve(request(props={"hw_qemu_guest_agent": value})).agent is True


@pytest.mark.parametrize("value", ["0", "no", "false", "off", "", "maybe", "<yes/>", "2"])
def test_false_and_unknown_values_disable(value):
    """False strings and unknown strings (FlexibleBoolean: never an error) mean no agent."""
    assert resolve(request(props={"hw_qemu_guest_agent": value})).agent is False


def test_flavor_key_is_ignored():
    """The agent is an image-only setting: a flavor key of the same name has no effect."""
    assert resolve(request({"hw_qemu_guest_agent": "yes"})).agent is False
