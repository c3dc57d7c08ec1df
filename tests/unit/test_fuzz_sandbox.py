"""Fuzz: sandbox.prepare on mutated driver XML returns XML that is still inside the rules,
or raises SandboxViolation; guest-exec output decoding is capped or an AgentError."""

import base64

from hypothesis import given, settings, strategies as st
from lxml import etree

from conformance.contract import Image, Request
from conformance.lab.guest import MAX_OUTPUT, AgentError, _decode
from conformance.lab.runs import OWNER_TAG, Owner
from conformance.lab.sandbox import ALLOWED_DEVICES, Placement, SandboxViolation, prepare
from conformance.reference import ReferenceDriver

FUZZ = settings(max_examples=300, deadline=None)
REQUEST = Request(instance_name="instance-1", image=Image(properties={
    "hw_qemu_guest_agent": "yes", "hw_watchdog_action": "reset"}))
PLACEMENT = Placement(name="cfm-abcd1234-1-t", uuid="11111111-2222-3333-4444-555555555555",
                      console_path="/var/lib/conformance/runs/abcd1234/c.log",
                      owner=Owner("abcd1234", 4242, "777"), virt_type="qemu",
                      kernel=REQUEST.boot.kernel, initrd=REQUEST.boot.initrd,
                      cmdline=REQUEST.boot.cmdline, instance_name="instance-1")
BASE = ReferenceDriver().build(REQUEST)
TAGS = ["disk", "log", "acpi", "dtb", "input", "source", "loader", "nvram", "seclabel",
        "interface", "hostdev", "filesystem", "name", "uuid", "memory", "vcpu", "metadata",
        "{http://libvirt.org/schemas/domain/qemu/1.0}commandline", "channel", "rng", "backend"]
TEXTS = st.text(max_size=30) | st.sampled_from(["/etc/shadow", "/dev/zero", "/dev/urandom",
                                                "99999999", "-1", "1e9", "file", "unix",
                                                "evdev", "random", "egd", "qemu", "kvm"])
ATTRS = st.sampled_from(["type", "path", "file", "dev", "model", "unit", "mode", "evdev"])


def mutate(data, root) -> None:
    elements = list(root.iter(etree.Element))
    target = data.draw(st.sampled_from(elements))
    action = data.draw(st.sampled_from(["delete", "text", "attr", "child", "rename", "copy"]))
    if action == "delete" and target is not root:
        target.getparent().remove(target)
    elif action == "text":
        target.text = data.draw(TEXTS.filter(_xml_safe))
    elif action == "attr":
        target.set(data.draw(ATTRS), data.draw(TEXTS.filter(_xml_safe)))
    elif action == "child":
        child = etree.SubElement(target, data.draw(st.sampled_from(TAGS)))
        child.text = data.draw(TEXTS.filter(_xml_safe))
    elif action == "rename":
        target.tag = data.draw(st.sampled_from(TAGS))
    elif action == "copy" and target is not root:
        target.getparent().append(etree.fromstring(etree.tostring(target)))


def _xml_safe(text: str) -> bool:
    try:
        etree.Element("x").text = text
        return True
    except ValueError:
        return False


def check(xml) -> None:
    """prepare() either refuses by rule or returns XML that obeys the rules it promises."""
    try:
        out = prepare(xml, PLACEMENT)
    except SandboxViolation as exc:
        assert exc.rule
        return
    root = etree.fromstring(out.encode())
    assert root.findtext("name") == PLACEMENT.name and root.findtext("uuid") == PLACEMENT.uuid
    assert root.find(f"metadata/{OWNER_TAG}") is not None
    devices = root.find("devices")
    assert {d.tag for d in devices if isinstance(d.tag, str)} <= ALLOWED_DEVICES
    assert devices.find(".//log") is None
    for serial in devices.findall("serial") + devices.findall("console"):
        assert serial.find("source").get("path") == PLACEMENT.console_path
    for channel in devices.findall("channel"):
        assert channel.get("type") == "unix"
        assert all(source.get("path") is None for source in channel.findall("source"))
    assert root.find(".//seclabel") is None and root.find("os/loader") is None


@settings(max_examples=120, deadline=None)
@given(st.data())
def test_mutated_reference_xml(data):
    """One to four random mutations of good driver XML: refused by a rule, or still safe."""
    root = etree.fromstring(BASE.encode())
    for _ in range(data.draw(st.integers(1, 4))):
        mutate(data, root)
    check(etree.tostring(root))


@FUZZ
@given(st.binary(max_size=400) | st.integers(0, len(BASE)).map(lambda n: BASE[:n]))
def test_arbitrary_bytes_and_truncated_xml(data):
    """Random bytes and truncated driver XML are refused by a named rule."""
    check(data)


@FUZZ
@given(st.text(max_size=200) | st.binary(max_size=3000).map(lambda b: base64.b64encode(b).decode()))
def test_exec_output_decoding(data):
    """Any "out-data" string decodes to at most MAX_OUTPUT bytes or raises AgentError."""
    try:
        assert len(_decode(data)) <= MAX_OUTPUT
    except AgentError:
        pass


def test_exec_output_decoding_caps_long_streams():
    """Streams just over the cap are cut to exactly MAX_OUTPUT bytes, not an error."""
    for size in (MAX_OUTPUT - 1, MAX_OUTPUT, MAX_OUTPUT + 1, MAX_OUTPUT + 4096):
        assert len(_decode(base64.b64encode(b"A" * size).decode())) == min(size, MAX_OUTPUT)
