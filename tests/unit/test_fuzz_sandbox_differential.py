"""Differential fuzzing of the sandbox against libvirt's own reading (hypothesis; libvirt's
in-process test driver, no daemon).

Generated driver XML: the reference's, with elements inserted at any depth (also into a
second <devices> or <os>), duplicated, reordered, and texts oddly written (character
references, CDATA, comments or child elements inside text, an XML declaration, memory in
any unit). An oracle independent of the allow list looks at libvirt's canonical reading
of each: whenever that reading holds something dangerous (a device or element that
reaches the host, a host path the harness did not supply, more memory or vCPUs than the
bounds), the sandbox must refuse the XML; whatever the sandbox returns must itself be
harmless and read back by libvirt unchanged in those respects.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from lxml import etree

from conformance.contract import Image, Request
from conformance.errors import SandboxViolation
from conformance.lab.runs import OWNER_NS, Owner
from conformance.lab.sandbox import Placement, libvirt_reading, parse_untrusted, prepare
from conformance.reference import ReferenceDriver

pytest.importorskip("libvirt")

CANARY = "/var/tmp/cfm-fuzz-canary"
REQUEST = Request(instance_name="instance-1", image=Image(properties={
    "hw_qemu_guest_agent": "yes", "hw_watchdog_action": "reset"}))
BASE = ReferenceDriver().build(REQUEST)
PLAIN = ReferenceDriver().build(Request(instance_name="instance-1"))  # no agent, no watchdog
PLACEMENT = Placement(name="cfm-abcd1234-1-f", uuid="11111111-2222-3333-4444-555555555555",
                      console_path="/var/lib/conformance/runs/abcd1234/c.log",
                      owner=Owner("abcd1234", 4242, "777"), virt_type="qemu",
                      kernel=REQUEST.boot.kernel, initrd=REQUEST.boot.initrd,
                      cmdline=REQUEST.boot.cmdline, instance_name="instance-1")
SUPPLIED = {PLACEMENT.kernel, PLACEMENT.initrd, PLACEMENT.console_path, PLACEMENT.cmdline,
            "/usr/bin/qemu-system-x86_64", "/usr/bin/kvm", "/dev/urandom", "/dev/random",
            "/dev/zero", "/dev/null", "/dev/hwrng"}
SNIPPETS = [
    f"<disk type='file' device='disk'><source file='{CANARY}/f'/><target dev='vda' bus='virtio'/></disk>",
    f"<disk type='file' device='cdrom'><source file='{CANARY}/f'/><target dev='hdc' bus='ide'/></disk>",
    "<filesystem type='mount'><source dir='/'/><target dir='r'/></filesystem>",
    f"<interface type='ethernet'><script path='{CANARY}/s'/></interface>",
    "<tpm model='tpm-tis'><backend type='emulator'/></tpm>",
    "<hostdev mode='subsystem' type='pci'><source><address domain='0' bus='0' slot='1' "
    "function='0'/></source></hostdev>",
    "<graphics type='vnc' port='-1'/>",
    f"<serial type='file'><source path='{CANARY}/c'/></serial>",
    f"<console type='pty'><log file='{CANARY}/l'/></console>",
    f"<emulator>{CANARY}/s</emulator>",
    "<emulator>/usr/bin/qemu-system-x86_64</emulator>",
    f"<rng model='virtio'><backend model='random'>{CANARY}/f</backend></rng>",
    "<rng model='virtio'><backend model='random'>/dev/zero</backend></rng>",
    f"<loader readonly='yes' type='pflash'>{CANARY}/f</loader>",
    f"<nvram>{CANARY}/f</nvram>",
    f"<acpi><table type='slic'>{CANARY}/f</table></acpi>",
    f"<dtb>{CANARY}/f</dtb>",
    "<smbios mode='host'/>",
    f"<sysinfo type='fwcfg'><entry name='opt/x' file='{CANARY}/f'/></sysinfo>",
    f"<sysinfo type='smbios'><oemStrings><entry>{CANARY}/f</entry></oemStrings></sysinfo>",
    "<memoryBacking><source type='file'/></memoryBacking>",
    f"<blkiotune><device><path>{CANARY}/f</path><weight>100</weight></device></blkiotune>",
    "<resource><partition>/machine/x</partition></resource>",
    "<seclabel type='none'/>",
    "<watchdog model='i6300esb' action='dump'/>",
    "<on_crash>coredump-destroy</on_crash>",
    "<video><driver name='vhostuser'/><model type='virtio'/></video>",
    "<input type='tablet' bus='usb'/>",
    f"<channel type='unix'><source mode='bind'/><target type='virtio' name='x/../..{CANARY}/c'/>"
    "</channel>",
    "<description>/etc/shadow is only text here</description>",
    "<vcpu>64</vcpu>",
    "<memory unit='GiB'>64</memory>",
    f"<description>{CANARY}</description>",
]
UNITS = ["b", "bytes", "KB", "k", "KiB", "MB", "M", "MiB", "GB", "G", "GiB", "TB", "T", "TiB",
         "PB", "P", "PiB", "EB", "E", "EiB"]
# What must never reach a host, judged on libvirt's reading (the oracle's own list).
DANGEROUS = {"disk", "filesystem", "interface", "hostdev", "tpm", "graphics", "loader", "nvram",
             "log", "dtb", "seclabel", "blkiotune", "resource", "audio", "shmem", "redirdev",
             "smartcard", "parallel"}
FREE = {"metadata", "description", "title"}
HARNESS_OWNED = {"serial", "console"}  # replaced whole by the harness's console file


def insert(data, root) -> None:
    snippet = etree.fromstring(data.draw(st.sampled_from(SNIPPETS)))
    where = data.draw(st.sampled_from(["devices", "second-devices", "os", "second-os", "top",
                                       "anywhere"]))
    if where in ("devices", "os"):
        root.find(where).append(snippet)
    elif where.startswith("second-"):
        tag = where.split("-", 1)[1]
        second = etree.SubElement(root, tag)
        if tag == "os":
            etree.SubElement(second, "type").text = "hvm"
        second.append(snippet)
    elif where == "top":
        root.insert(data.draw(st.integers(0, len(root))), snippet)
    else:
        data.draw(st.sampled_from(list(root.iter(etree.Element)))).append(snippet)


def mutate(data, root) -> None:
    action = data.draw(st.sampled_from(["insert", "insert", "duplicate", "reorder", "memory"]))
    elements = [e for e in root.iter(etree.Element) if e is not root]
    if action == "insert":
        insert(data, root)
    elif action == "duplicate":
        element = data.draw(st.sampled_from(elements))
        element.addnext(etree.fromstring(etree.tostring(element)))
    elif action == "reorder":
        parent = data.draw(st.sampled_from([root] + elements))
        children = list(parent)
        parent[:] = data.draw(st.permutations(children))
    else:
        memory = root.find("memory")
        memory.set("unit", data.draw(st.sampled_from(UNITS)))
        memory.text = str(data.draw(st.sampled_from([1, 2, 256, 2048, 4096, 2 ** 31, 2 ** 40])))


def oddly_written(data, xml: str) -> str:
    """Rewrite one text node as character references, CDATA, a split by a comment or an
    element before it; maybe add an XML declaration."""
    texts = [m for m in re.finditer(r">([^<>\s][^<>]*)<", xml)]
    if texts:
        match = data.draw(st.sampled_from(texts))
        text = match.group(1)
        form = data.draw(st.sampled_from(["refs", "cdata", "comment", "child", "plain"]))
        new = {"refs": "".join(f"&#{ord(c)};" for c in text), "cdata": f"<![CDATA[{text}]]>",
               "comment": f"{text[:1]}<!-- x -->{text[1:]}", "child": f"<x/>{text}",
               "plain": text}[form]
        xml = xml[:match.start(1)] + new + xml[match.end(1):]
    if data.draw(st.booleans()):
        xml = "<?xml version='1.0' encoding='ISO-8859-1'?>\n" + xml
    return xml


def dangers(root) -> list[str]:
    """What libvirt's reading ``root`` holds that must never reach a host."""
    found = []
    if len(root.findall("devices")) > 1 or len(root.findall("os")) > 1:
        found.append("more than one <devices>/<os>")

    def walk(element, inside_devices: bool) -> None:
        tag = element.tag
        if not isinstance(tag, str) or tag in FREE or (inside_devices and tag in HARNESS_OWNED):
            return
        parent = element.getparent()
        if tag in DANGEROUS or (tag == "acpi" and parent.tag == "os"):
            found.append(f"<{tag}>")
        if tag == "source" and parent.tag == "channel" and element.get("mode", "bind") != "bind":
            found.append("a channel connecting to a host socket")
        if tag == "target" and parent.tag == "channel" and "/" in element.get("name", ""):
            found.append("a channel socket outside libvirt's channel directory")
        if tag == "emulator" and element.text not in SUPPLIED:
            found.append(f"<emulator>{element.text}")
        if tag in ("on_crash", "on_poweroff", "on_reboot") and "coredump" in (element.text or ""):
            found.append(f"<{tag}>{element.text}")
        if tag == "watchdog" and element.get("action") == "dump":
            found.append("watchdog dump")
        if tag == "sysinfo" and element.get("type") != "smbios":
            found.append("sysinfo fwcfg")
        if tag == "smbios" and element.get("mode") == "host":
            found.append("smbios host")
        if tag == "driver" and element.get("name") == "vhostuser":
            found.append("vhost-user")
        values = [v for k, v in element.attrib.items()
                  if not (tag == "source" and parent.tag == "channel" and k == "path")]
        for value in [*values, element.text or ""]:  # (the harness drops channel socket paths)
            if value.strip().startswith("/") and value not in SUPPLIED:
                found.append(f"host path {value!r} in <{tag}>")
        for child in element:
            walk(child, inside_devices or tag == "devices")
    walk(root, False)
    for tag in ("memory", "currentMemory"):
        element = root.find(tag)
        if element is not None and int(element.text) > 2048 * 1024:
            found.append(f"<{tag}> {element.text} KiB")
    if int(root.findtext("vcpu") or 1) > 4:
        found.append("more than 4 vCPUs")
    if root.findtext("os/cmdline") != PLACEMENT.cmdline:
        found.append("another cmdline")
    return found


def judge(xml: str) -> None:
    """The differential property for one generated document."""
    try:
        reading = libvirt_reading(parse_untrusted(xml))
    except SandboxViolation:
        reading = None  # not XML, or libvirt refuses it: nothing can reach a host
    try:
        out = prepare(xml, PLACEMENT)
    except SandboxViolation as exc:
        assert exc.rule
        return
    assert reading is not None, "the sandbox accepted XML that libvirt itself refuses"
    assert dangers(reading) == [], f"libvirt's reading holds {dangers(reading)}, yet accepted"
    result = etree.fromstring(out.encode())
    assert result.findtext("name") == PLACEMENT.name
    assert result.find(f"metadata/{{{OWNER_NS}}}owner").get("run") == "abcd1234"
    reread = libvirt_reading(result)  # what the host will read of the sandbox's output
    assert dangers(reread) == [], f"the sandbox's own output reads as {dangers(reread)}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_whatever_libvirt_reads_outside_the_allow_list_is_refused(data):
    """1-4 structural mutations, then one odd spelling: dangerous readings are refused."""
    root = etree.fromstring(data.draw(st.sampled_from([BASE, PLAIN])).encode())
    for _ in range(data.draw(st.integers(1, 4))):
        mutate(data, root)
    judge(oddly_written(data, etree.tostring(root, encoding="unicode")))


@pytest.mark.parametrize("snippet", SNIPPETS)
def test_each_snippet_alone_in_devices_and_in_a_second_devices(snippet):
    """Deterministic floor under the fuzzing: every snippet, in <devices> and in a second
    <devices>, obeys the property."""
    for base in (BASE, PLAIN):
        for xml in (base.replace("</devices>", snippet + "</devices>", 1),
                    base.replace("</devices>", "</devices><devices>" + snippet + "</devices>", 1)):
            judge(xml)
